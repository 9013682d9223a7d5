package graph

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"

	"github.com/heaptop/heaptop/agent/heapdump"
)

// Segment is a range of globals the dump leaves out (noptrdata or
// noptrbss), with its bytes as capture copied them at the dump's instant.
type Segment struct {
	Name  string // "noptrdata" or "noptrbss"
	Addr  uint64
	Bytes []byte
}

// Input is what Build reads. Nothing in it is kept: the graph copies what
// it needs, so the dump may be unmapped once Build returns. A Builder reads
// the dump from a stream instead and takes the segments when it finishes.
type Input struct {
	Dump     []byte
	Segments []Segment
	// FuncName names a code pointer of the dumped process, "" if none.
	// Build uses it to recognise the runtime's cleanup closures. Use
	// InProcessFuncName when the dump is of this process (the agent's
	// case); nil skips that recognition.
	FuncName func(pc uint64) string
	// Text and TypeData are the executable's code and type-descriptor
	// ranges at run-time addresses (runtime.text..etext,
	// runtime.types..etypes). With Text, Build keeps the first word of
	// every object that starts with a code pointer (closures: CodeWord);
	// with TypeData, it keeps interface type words whose type the dump
	// does not name (see IfaceWord). Zero ranges skip both.
	Text, TypeData AddrRange
	// Objects is about how many objects the dump holds (the runtime's
	// /gc/heap/objects:objects before the capture), 0 if unknown. The
	// arrays of pass 1 start at that size instead of doubling up to it.
	Objects int
}

// AddrRange is the address range [Start, End).
type AddrRange struct{ Start, End uint64 }

// Contains reports whether a lies in the range.
func (r AddrRange) Contains(a uint64) bool { return a >= r.Start && a < r.End }

// InProcessFuncName names a code pointer of this process.
func InProcessFuncName(pc uint64) string {
	if f := runtime.FuncForPC(uintptr(pc)); f != nil && f.Entry() <= uintptr(pc) {
		return f.Name()
	}
	return ""
}

// cleanupClosure is the code of the closure runtime.AddCleanup allocates
// (mcleanup.go: `call: callCleanup[S]`, a generic closure over its
// dictionary): 16 bytes, one pointer field at 8.
const cleanupClosurePrefix = "runtime.AddCleanup["

// Build reads a go1.26 heap dump into a Graph. It corrects the dumper's
// known errors and gaps on this Go version:
//
//   - Slots past a span's object count (its inline mark bits and pointer
//     bitmap) are dumped as objects; they are dropped (see spans.go) and
//     counted in Stats.BogusSlots.
//   - The malloc header of objects over 512 bytes is the first word of
//     their contents and not a field; it is kept as HeaderWord, never an
//     edge.
//   - Finalizer, queued-finalizer and allocation-sample addresses are the
//     program's pointers (base+8 with a header, inside a tiny block for
//     tiny allocations); they are resolved to the containing object.
//   - Roots the dumper omits are added: noptrdata and noptrbss (from
//     in.Segments) as holders of hidden words, the runtime's cleanup
//     closures and sampled cleanup allocations (RootCleanups), weak-pointer
//     handles (RootWeakHandles), each goroutine's closure context.
//
// Build reads the dump in one pass, keeping of each holder's memory only
// the words that can become edges or findings (saveWords), then sorts the
// objects and resolves those words into the CSR (pass 2, edges.go).
func Build(in Input) (*Graph, error) {
	b := NewBuilder(in)
	if err := b.Read(bytes.NewReader(in.Dump)); err != nil {
		b.Close()
		return nil, err
	}
	return b.Finish(in.Segments)
}

// Builder builds a Graph from a dump read as a stream: Read takes the dump
// (pass 1, while it is being written), Finish the noptr segments and
// returns the graph. A Builder whose Read failed must be Closed; one that
// finished owes nothing.
type Builder struct {
	b     *builder
	total *mappedTotal
}

// NewBuilder returns a Builder for a dump of the process in describes (its
// Dump and Segments are not read).
func NewBuilder(in Input) *Builder {
	total := &mappedTotal{}
	in.Dump, in.Segments = nil, nil
	b := &builder{in: in, g: &Graph{mem: newMem(total), Itabs: map[uint64]uint64{}, TypeNames: map[uint64]string{}}, tmp: newMem(total), funcIdx: map[string]FuncID{}, strs: map[string]string{},
		waitIdx: map[string]uint32{}, bucketIdx: map[uint64]BucketID{}}
	if n := in.Objects + in.Objects/8; n > 0 { // the runtime's count moves on while the dump is made
		b.base, b.size, b.flags = makeOff[uint64](b.tmp, 0, n), makeOff[uint32](b.tmp, 0, n), makeOff[ObjectFlags](b.tmp, 0, n)
		b.objWords = makeOff[uint32](b.tmp, 0, n+1)
		b.wordOff, b.wordVal = makeOff[uint32](b.tmp, 0, n), makeOff[uint64](b.tmp, 0, n) // about a word per object
	}
	return &Builder{total: total, b: b}
}

// Read is pass 1: it reads the whole dump from r, collecting objects,
// roots and the words saveWords keeps.
func (bb *Builder) Read(r io.Reader) (err error) {
	defer bb.recoverOOM(&err)
	b := bb.b
	if err := heapdump.ParseReader(r, b); err != nil {
		return err
	}
	return b.endObjects()
}

// Finish is pass 2 with the noptr segments copied beside the dump: it
// returns the graph, or an error after which nothing is left to close.
func (bb *Builder) Finish(segments []Segment) (g *Graph, err error) {
	b := bb.b
	defer b.tmp.freeAll()
	defer bb.recoverOOM(&err)
	defer func() {
		if err != nil {
			b.g.mem.freeAll()
		}
	}()
	b.in.Segments = segments
	b.sortObjects()
	b.indexPages()
	b.resolveRecords()
	if err := b.buildEdges(); err != nil {
		return nil, err
	}
	g = b.g
	g.mem.shared = nil // the graph outlives the build's accounting
	g.Stats.PeakMapped = bb.total.peak
	g.cleanup = runtime.AddCleanup(g, func(m *mem) { m.freeAll() }, g.mem)
	return g, nil
}

// Close releases what a Builder holds (after a failed Read).
func (bb *Builder) Close() {
	bb.b.tmp.freeAll()
	bb.b.g.mem.freeAll()
}

// recoverOOM turns the build's out-of-memory panic into an error.
func (bb *Builder) recoverOOM(err *error) {
	if r := recover(); r != nil {
		oom, ok := r.(outOfMemory)
		if !ok {
			panic(r)
		}
		*err = oom.err
	}
}

// builder is Build's state; its pass-1 methods implement heapdump.Visitor.
// Its big temporaries live in tmp, freed when Build returns.
type builder struct {
	heapdump.NopVisitor
	in  Input
	g   *Graph
	tmp *mem

	// Objects kept, in record order (pass 1), then sorted (sortObjects).
	base  []uint64
	size  []uint32
	flags []ObjectFlags
	ptrs  int // pointer words whose value is a heap address: a bound on edges

	// The words saveWords kept, every holder's in one stretch: objects'
	// in record order (objWords[ord] is where object ord's start; the
	// stretch ends where the next one's starts), then the roots'.
	wordOff  []uint32 // byte offset in the holder | wordPointer | wordBeforePointer
	wordVal  []uint64
	objWords []uint32 // record ordinal -> first word; one more entry ends the last

	page     []pageSlot // the small-object page being decided
	pageSize uint32

	// Record ordinals (positions in the arrays above, pass 1) of objects
	// with something to resolve after sorting.
	headerOrd  []uint32
	headerVal  []uint64
	weakOrd    []uint32 // weak-handle shaped: 16 B, pointer-free, {addr, 0}
	weakVal    []uint64 // their first word
	cleanupOrd []uint32 // runtime.AddCleanup closures
	ord        []uint32 // record ordinal -> ObjectID
	rec        []uint32 // ObjectID -> record ordinal

	roots     []Root
	rootWords []wordSpan // a root's saved words (data, bss, frame), or none

	curG        int // index in Goroutines of the last goroutine record, -1 before
	funcIdx     map[string]FuncID
	waitIdx     map[string]uint32
	strs        map[string]string
	bucketIdx   map[uint64]BucketID
	samples     []heapdump.AllocSample
	cleanupBkts map[BucketID]bool
	funcCache   map[uint64]bool // word -> names a cleanup closure

	weak    []ObjectID // weak-pointer handles, ascending
	cleanup []ObjectID // objects kept by cleanups, ascending

	objectsDone bool     // the object section has ended (endObjects)
	scratch     []uint64 // a frame's sorted pointer offsets
}

func (b *builder) intern(s string) string {
	if v, ok := b.strs[s]; ok {
		return v
	}
	v := strings.Clone(s)
	b.strs[v] = v
	return v
}

// addRoot appends a root whose memory's saved words are ws.
func (b *builder) addRoot(r Root, ws wordSpan) RootID {
	b.roots = appendOff(b.g.mem, b.roots, r)
	b.rootWords = appendOff(b.tmp, b.rootWords, ws)
	return RootID(len(b.roots) - 1)
}

func (b *builder) Params(p *heapdump.Params) error {
	b.g.Params = *p
	b.g.Params.GOARCH = strings.Clone(p.GOARCH)
	b.g.Params.GoVersion = strings.Clone(p.GoVersion)
	b.curG = -1
	return nil
}

func (b *builder) Itab(t *heapdump.Itab) error {
	b.g.Itabs[t.Addr] = t.Type
	return nil
}

func (b *builder) Type(t *heapdump.Type) error {
	if _, seen := b.g.TypeNames[t.Addr]; !seen { // the dumper may repeat a type
		b.g.TypeNames[t.Addr] = strings.Clone(t.Name)
	}
	return nil
}

func (b *builder) inArena(v uint64) bool {
	return v >= b.g.Params.ArenaStart && v < b.g.Params.ArenaEnd
}

func (b *builder) Object(o *heapdump.Object) error {
	size := uint64(len(o.Contents))
	if size >= 1<<31 {
		return fmt.Errorf("graph: object at %#x of %d bytes: the dumper cannot write objects of 2 GiB or more intact", o.Addr, size)
	}
	b.g.Stats.ObjectRecords++
	for _, p := range o.Pointers {
		if b.inArena(binary.LittleEndian.Uint64(o.Contents[p:])) {
			b.ptrs++
		}
	}
	if size > maxHeaderless {
		if err := b.flushPage(); err != nil {
			return err
		}
		ws := b.saveWords(o.Contents, o.Pointers)
		b.keep(o.Addr, uint32(size), ws.From, len(o.Pointers) > 0, o)
		return nil
	}
	// Small objects: decide a page at a time (spans.go).
	pg := o.Addr &^ (pageSize - 1)
	if len(b.page) > 0 && (b.page[0].addr&^(pageSize-1) != pg || b.pageSize != uint32(size) || b.page[len(b.page)-1].addr >= o.Addr) {
		if err := b.flushPage(); err != nil {
			return err
		}
	}
	b.pageSize = uint32(size)
	slot := pageSlot{addr: o.Addr, words: b.saveWords(o.Contents, o.Pointers), pointers: len(o.Pointers) > 0, lastByte: o.Contents[size-1]}
	if size == 16 {
		w0, w1 := binary.LittleEndian.Uint64(o.Contents), binary.LittleEndian.Uint64(o.Contents[8:])
		slot.weak = len(o.Pointers) == 0 && w1 == 0 && b.inArena(w0)
		slot.word0 = w0
		slot.cleanup = len(o.Pointers) == 1 && o.Pointers[0] == 8 && b.in.FuncName != nil && b.isCleanupClosure(w0)
	}
	b.page = append(b.page, slot)
	return nil
}

func (b *builder) isCleanupClosure(pc uint64) bool {
	if b.funcCache == nil {
		b.funcCache = map[uint64]bool{}
	}
	is, ok := b.funcCache[pc]
	if !ok {
		is = strings.HasPrefix(b.in.FuncName(pc), cleanupClosurePrefix)
		b.funcCache[pc] = is
	}
	return is
}

// keep appends an object in record order, its saved words starting at from.
func (b *builder) keep(addr uint64, size uint32, from uint32, pointers bool, o *heapdump.Object) {
	var f ObjectFlags
	if pointers {
		f |= Pointers
		switch {
		case size > maxHeaderless && size < maxSmallSize:
			f |= Header
		case size == maxSmallSize && o != nil && o.Pointers[0] != 0:
			f |= MaybeHeader
		}
	}
	if size > maxSmallSize {
		f |= Large
	}
	if f&(Header|MaybeHeader) != 0 {
		b.headerOrd = appendOff(b.tmp, b.headerOrd, uint32(len(b.base)))
		b.headerVal = appendOff(b.tmp, b.headerVal, binary.LittleEndian.Uint64(o.Contents))
	}
	b.base = appendOff(b.tmp, b.base, addr)
	b.size = appendOff(b.tmp, b.size, size)
	b.flags = appendOff(b.tmp, b.flags, f)
	b.objWords = appendOff(b.tmp, b.objWords, from)
}

// flushPage decides the pending small-object page.
func (b *builder) flushPage() error {
	if len(b.page) == 0 {
		return nil
	}
	nelems, pointers, ambiguous := pageVerdict(b.pageSize, b.page)
	if ambiguous > 0 {
		b.g.Stats.AmbiguousPages++
		b.g.Stats.AmbiguousSlots += ambiguous
	}
	pg := b.page[0].addr &^ (pageSize - 1)
	// The page's saved words end the stretch: close the gaps the dropped
	// slots leave, so each object's words end where the next one's start.
	w := b.page[0].words.From
	for _, sl := range b.page {
		if uint32(sl.addr-pg)/b.pageSize >= nelems {
			b.g.Stats.BogusSlots++
			continue
		}
		from := w
		w += uint32(copy(b.wordOff[w:], b.wordOff[sl.words.From:sl.words.To]))
		copy(b.wordVal[from:], b.wordVal[sl.words.From:sl.words.To])
		if sl.weak {
			b.weakOrd = appendOff(b.tmp, b.weakOrd, uint32(len(b.base)))
			b.weakVal = appendOff(b.tmp, b.weakVal, sl.word0)
		}
		if sl.cleanup {
			b.cleanupOrd = append(b.cleanupOrd, uint32(len(b.base)))
		}
		b.keep(sl.addr, b.pageSize, from, pointers && sl.pointers, nil)
	}
	b.wordOff, b.wordVal = b.wordOff[:w], b.wordVal[:w]
	b.page = b.page[:0]
	return nil
}

// endObjects ends the object section (the records after it are roots):
// the last page is decided and the object word stretches closed.
func (b *builder) endObjects() error {
	if b.objectsDone {
		return nil
	}
	if err := b.flushPage(); err != nil {
		return err
	}
	b.objectsDone = true
	b.objWords = appendOff(b.tmp, b.objWords, uint32(len(b.wordVal)))
	return nil
}

func (b *builder) Goroutine(r *heapdump.Goroutine) error {
	if err := b.endObjects(); err != nil {
		return err
	}
	wait, ok := b.waitIdx[r.WaitReason]
	if !ok {
		wait = uint32(len(b.g.WaitReasons))
		b.g.WaitReasons = append(b.g.WaitReasons, strings.Clone(r.WaitReason))
		b.waitIdx[b.g.WaitReasons[wait]] = wait
	}
	b.g.Goroutines = appendOff(b.g.mem, b.g.Goroutines, Goroutine{
		ID: r.ID, Addr: r.Addr, Status: r.Status, GoPC: r.GoPC, WaitSince: r.WaitSince,
		Wait: wait, System: r.System, Ctxt: r.Ctxt,
		FirstFrame: FrameID(len(b.g.Frames)),
	})
	b.curG = len(b.g.Goroutines) - 1
	return nil
}

func (b *builder) StackFrame(r *heapdump.StackFrame) error {
	if uint64(len(r.Contents)) >= 1<<32 {
		return fmt.Errorf("graph: frame of %s at sp %#x is %d bytes long", r.Func, r.SP, len(r.Contents))
	}
	gr := &b.g.Goroutines[b.curG]
	fn, ok := b.funcIdx[r.Func]
	if !ok {
		fn = FuncID(len(b.g.Funcs))
		b.g.Funcs = append(b.g.Funcs, strings.Clone(r.Func))
		b.funcIdx[b.g.Funcs[fn]] = fn
	}
	id := FrameID(len(b.g.Frames))
	// A frame lists its outgoing arguments before its locals: sort (and
	// dedupe) the offsets.
	b.scratch = append(b.scratch[:0], r.Pointers...)
	slices.Sort(b.scratch)
	b.scratch = slices.Compact(b.scratch)
	root := b.addRoot(Root{Kind: RootFrame, Addr: r.SP, Size: uint32(len(r.Contents)), Index: uint32(id)}, b.saveWords(r.Contents, b.scratch))
	b.g.Frames = appendOff(b.g.mem, b.g.Frames, Frame{
		Goroutine: GoroutineID(b.curG), Depth: uint32(r.Depth), Root: root,
		SP: r.SP, PC: r.PC, Entry: r.Entry, ContPC: r.ContPC, Func: fn,
	})
	lo, hi := r.SP, r.SP+uint64(len(r.Contents))
	if gr.NumFrames == 0 || lo < gr.StackLo {
		gr.StackLo = lo
	}
	if hi > gr.StackHi {
		gr.StackHi = hi
	}
	gr.NumFrames++
	b.countPointers(r.Contents, r.Pointers)
	return nil
}

func (b *builder) countPointers(mem []byte, ptrs []uint64) {
	for _, p := range ptrs {
		if b.inArena(binary.LittleEndian.Uint64(mem[p:])) {
			b.ptrs++
		}
	}
}

func (b *builder) Segment(r *heapdump.Segment) error {
	if uint64(len(r.Contents)) >= 1<<32 {
		return fmt.Errorf("graph: %s segment of %d bytes", r.Tag, len(r.Contents))
	}
	if err := b.endObjects(); err != nil {
		return err
	}
	kind := RootData
	if r.Tag == heapdump.TagBSS {
		kind = RootBSS
	}
	b.addRoot(Root{Kind: kind, Addr: r.Addr, Size: uint32(len(r.Contents))}, b.saveWords(r.Contents, r.Pointers))
	b.countPointers(r.Contents, r.Pointers)
	return nil
}

func (b *builder) Finalizer(r *heapdump.Finalizer) error {
	kind := RootFinalizer
	if r.Queued {
		kind = RootQueuedFinalizer
	}
	i := len(b.g.Finalizers)
	root := b.addRoot(Root{Kind: kind, Addr: r.Obj, Index: uint32(i)}, wordSpan{})
	b.g.Finalizers = appendOff(b.g.mem, b.g.Finalizers, Finalizer{
		Queued: r.Queued, Obj: r.Obj, Object: NoObject, FnAddr: r.FnAddr, FnPC: r.FnPC,
		FinType: r.FinType, ObjType: r.ObjType, Root: root,
	})
	b.ptrs += 2
	return nil
}

func (b *builder) MemStats(m *heapdump.MemStats) error {
	b.g.MemStats = *m
	return nil
}

func (b *builder) MemProf(r *heapdump.MemProf) error {
	frames := make([]heapdump.Frame, len(r.Frames))
	cleanup := false
	for i, f := range r.Frames {
		frames[i] = heapdump.Frame{Func: b.intern(f.Func), File: b.intern(f.File), Line: f.Line}
		// The allocation happened in runtime.AddCleanup itself (its
		// argument box or closure) when it is one of the innermost frames
		// (under the allocator's own).
		if i < 4 && strings.HasPrefix(f.Func, cleanupClosurePrefix) && !strings.Contains(f.Func, ".func") {
			cleanup = true
		}
	}
	id := BucketID(len(b.g.Buckets))
	b.bucketIdx[r.Bucket] = id
	b.g.Buckets = append(b.g.Buckets, Bucket{Addr: r.Bucket, Size: r.Size, Frames: frames, Allocs: r.Allocs, Frees: r.Frees})
	if cleanup {
		if b.cleanupBkts == nil {
			b.cleanupBkts = map[BucketID]bool{}
		}
		b.cleanupBkts[id] = true
	}
	return nil
}

func (b *builder) AllocSample(r *heapdump.AllocSample) error {
	b.samples = appendOff(b.tmp, b.samples, *r)
	return nil
}

// run is a stretch of objects contiguous in memory, in record order.
type run struct {
	start uint64
	first uint32 // record ordinal of its first object
	n     uint32
}

// sortObjects puts the objects in address order. The dump lists them span
// by span, each span's slots ascending, so it sorts the stretches of
// contiguous objects (disjoint address ranges) instead of every object,
// and builds ord: record ordinal -> ObjectID.
func (b *builder) sortObjects() {
	n := len(b.base)
	var runs []run // in tmp
	for i := 0; i < n; i++ {
		if len(runs) > 0 {
			r := &runs[len(runs)-1]
			last := int(r.first + r.n - 1)
			if last == i-1 && b.base[last]+uint64(b.size[last]) == b.base[i] {
				r.n++
				continue
			}
		}
		runs = appendOff(b.tmp, runs, run{start: b.base[i], first: uint32(i), n: 1})
	}
	slices.SortFunc(runs, func(x, y run) int {
		switch {
		case x.start < y.start:
			return -1
		case x.start > y.start:
			return 1
		}
		return 0
	})
	perm := makeOff[uint32](b.tmp, 0, n) // ObjectID -> record ordinal
	for _, r := range runs {
		for k := uint32(0); k < r.n; k++ {
			perm = append(perm, r.first+k)
		}
	}
	freeOff(b.tmp, runs)
	b.g.objBase = permute(b.g.mem, b.tmp, b.base, perm)
	b.g.objSize = permute(b.g.mem, b.tmp, b.size, perm)
	b.g.objFlags = permute(b.g.mem, b.tmp, b.flags, perm)
	b.base, b.size, b.flags = nil, nil, nil
	b.rec = perm
	b.ord = makeOff[uint32](b.tmp, n, n)
	for id, o := range perm {
		b.ord[o] = uint32(id)
	}
}

// permute returns s in perm's order in dst, freeing s from src.
func permute[T any](dst, src *mem, s []T, perm []uint32) []T {
	out := makeOff[T](dst, len(s), len(s))
	for i, p := range perm {
		out[i] = s[p]
	}
	freeOff(src, s)
	return out
}

// indexPages builds the page index FindObject starts from, unless the
// objects are spread so thin that a plain binary search is cheaper in
// memory (more than four pages per object and over a million pages).
func (b *builder) indexPages() {
	g := b.g
	n := len(g.objBase)
	if n == 0 {
		return
	}
	g.lo = g.objBase[0] &^ (pageSize - 1)
	for i := range n {
		g.hi = max(g.hi, g.objBase[i]+uint64(g.objSize[i]))
	}
	pages := (g.hi - g.lo + pageSize - 1) >> pageShift
	if pages > 4*uint64(n) && pages > 1<<20 {
		return
	}
	g.pageFirst = makeOff[uint32](g.mem, int(pages)+1, int(pages)+1)
	i := 0
	for p := range g.pageFirst {
		start := g.lo + uint64(p)<<pageShift
		for i < n && g.objBase[i] < start {
			i++
		}
		g.pageFirst[p] = uint32(i)
	}
}

// resolveRecords turns the addresses collected in pass 1 into objects and
// adds the roots that depend on them.
func (b *builder) resolveRecords() {
	g := b.g
	// Malloc header words, by ObjectID.
	type hw struct {
		o ObjectID
		w uint64
	}
	hws := make([]hw, len(b.headerOrd))
	for i, o := range b.headerOrd {
		hws[i] = hw{ObjectID(b.ord[o]), b.headerVal[i]}
	}
	slices.SortFunc(hws, func(x, y hw) int { return int(x.o) - int(y.o) })
	g.headerObj = makeOff[ObjectID](g.mem, len(hws), len(hws))
	g.headerWord = makeOff[uint64](g.mem, len(hws), len(hws))
	for i, h := range hws {
		g.headerObj[i], g.headerWord[i] = h.o, h.w
	}
	b.headerOrd, b.headerVal = nil, nil

	// Weak handles: the shape, and a first word inside an object.
	for i, o := range b.weakOrd {
		if _, ok := g.FindObject(b.weakVal[i]); ok {
			b.weak = append(b.weak, ObjectID(b.ord[o]))
		}
	}
	slices.Sort(b.weak)
	for _, o := range b.cleanupOrd {
		b.cleanup = append(b.cleanup, ObjectID(b.ord[o]))
	}

	// Allocation samples.
	for _, s := range b.samples {
		o, ok := g.FindObject(s.Addr)
		bk, known := b.bucketIdx[s.Bucket]
		if !ok || !known {
			continue
		}
		g.Samples = appendOff(g.mem, g.Samples, Sample{Object: o, Offset: uint32(s.Addr - g.objBase[o]), Bucket: bk})
		if b.cleanupBkts[bk] {
			b.cleanup = append(b.cleanup, o)
		}
	}
	slices.SortFunc(g.Samples, func(x, y Sample) int {
		if x.Object != y.Object {
			return int(x.Object) - int(y.Object)
		}
		return int(x.Offset) - int(y.Offset)
	})
	slices.Sort(b.cleanup)
	b.cleanup = slices.Compact(b.cleanup)

	// Finalizers: the object, and the root's size (function word + object).
	for i := range g.Finalizers {
		f := &g.Finalizers[i]
		r := &b.roots[f.Root]
		r.Size = 16
		if o, ok := g.FindObject(f.Obj); ok {
			f.Object = o
			if !f.Queued {
				r.Size = 8 + g.objSize[o]
			}
		}
	}

	// Roots the dump lacks.
	for i := range g.Goroutines {
		if _, ok := g.FindObject(g.Goroutines[i].Ctxt); ok {
			b.addRoot(Root{Kind: RootGoroutineCtxt, Addr: g.Goroutines[i].Addr, Size: 8, Index: uint32(i)}, wordSpan{})
		}
	}
	for _, s := range b.in.Segments {
		kind := RootNoptrData
		if s.Name == "noptrbss" {
			kind = RootNoptrBSS
		}
		if uint64(len(s.Bytes)) < 1<<32 {
			b.addRoot(Root{Kind: kind, Addr: s.Addr, Size: uint32(len(s.Bytes))}, wordSpan{})
		}
	}
	if len(b.cleanup) > 0 {
		b.addRoot(Root{Kind: RootCleanups, Size: uint32(8 * len(b.cleanup))}, wordSpan{})
	}
	if len(b.weak) > 0 {
		b.addRoot(Root{Kind: RootWeakHandles, Size: uint32(8 * len(b.weak))}, wordSpan{})
	}
	g.roots = b.roots
	g.Stats.Roots = len(b.roots)
}
