// Package graph takes a go1.26 heap dump (and the noptr segments capture
// copies beside it) and gives the object graph of the process: every
// allocated object, sorted by address, the pointer edges between objects
// and from roots, as compressed sparse rows of 32-bit object indexes, and
// what the next stages need to name and judge them (edge offsets, malloc
// header words, interface type words, words that may hide references,
// goroutines, frames, finalizers, allocation samples). It corrects what the
// runtime's dumper gets wrong on this Go version; see Build.
package graph

import (
	"runtime"
	"slices"

	"github.com/heaptop/heaptop/agent/heapdump"
)

// ObjectID numbers the objects in address order: 0..NumObjects()-1.
type ObjectID uint32

// NoObject is the ObjectID of nothing (a pointer outside every object).
const NoObject ObjectID = ^ObjectID(0)

// RootID numbers the roots: 0..NumRoots()-1.
type RootID uint32

// Vertex numbers the CSR rows: the roots first (Vertex(r) for RootID r),
// then the objects (NumRoots()+ObjectID).
type Vertex uint32

// EdgeID indexes the edge arrays: 0..NumEdges()-1.
type EdgeID uint32

// GoroutineID indexes Graph.Goroutines (it is not the goid).
type GoroutineID uint32

// FrameID indexes Graph.Frames.
type FrameID uint32

// FuncID indexes Graph.Funcs, the interned function names of frames.
type FuncID uint32

// BucketID indexes Graph.Buckets, the memory-profile stacks.
type BucketID uint32

// ObjectFlags describe an object as far as the dump tells.
type ObjectFlags uint8

const (
	// Pointers: the object's span holds pointerful objects (the dump gave
	// it a pointer field list); noscan objects never have edges.
	Pointers ObjectFlags = 1 << iota
	// Header: the object starts with an 8-byte malloc header holding its
	// *_type (pointerful, 512 < size < 32768): the program's pointer is
	// base+8. The raw header word is kept (HeaderWord).
	Header
	// MaybeHeader: a pointerful 32768-byte object, which is either the one
	// object of a size-class-67 span (with a header) or a large object of
	// 4 pages (without one); the dump does not say which. Its first word
	// is kept as a header candidate; symbols validates it.
	MaybeHeader
	// Large: an object with a span of its own (size above 32 KiB): its
	// size is the span's, rounded up to whole 8 KiB pages.
	Large
)

// RootKind says what a root is.
type RootKind uint8

const (
	// RootData and RootBSS are the first module's data and bss sections:
	// Addr is the section start, Size its length, edge offsets are
	// offsets into it (a global variable's address minus Addr).
	RootData RootKind = iota + 1
	RootBSS
	// RootNoptrData and RootNoptrBSS are the globals the GC does not scan
	// (and the dump leaves out), copied by capture at the dump's instant.
	// They have no edges, only hidden words.
	RootNoptrData
	RootNoptrBSS
	// RootFrame is a goroutine's stack frame: Addr is its SP, Size its
	// length, Index its FrameID; edge offsets are offsets from SP.
	RootFrame
	// RootGoroutineCtxt is a goroutine's saved closure context register
	// (sched.ctxt): Index is the GoroutineID, one edge at offset 0.
	RootGoroutineCtxt
	// RootFinalizer is a finalizer set with runtime.SetFinalizer. As the GC
	// does, it keeps the finalizer function and the object's referents
	// alive, not the object itself: its words are the function at offset
	// 0, then the object's words (offset 8+k for the object's word at k).
	// Index is the position in Graph.Finalizers.
	RootFinalizer
	// RootQueuedFinalizer is a finalizer queued to run: it keeps both the
	// function (offset 0) and the object (offset 8) alive.
	RootQueuedFinalizer
	// RootCleanups holds objects only runtime cleanups (runtime.AddCleanup)
	// keep alive, which the dump has no root for: the runtime's closure
	// runtime.AddCleanup[...].func1, recognised by its code pointer, and
	// objects whose allocation sample was taken inside runtime.AddCleanup
	// (its argument boxes; only sampled ones are known). Its words are its
	// edges, 8 bytes apart.
	RootCleanups
	// RootWeakHandles holds the weak-pointer handles the runtime keeps
	// alive from its specials, recognised by shape (see HiddenWeakHandle).
	RootWeakHandles
)

var rootKindNames = [...]string{
	RootData: "data", RootBSS: "bss", RootNoptrData: "noptrdata", RootNoptrBSS: "noptrbss",
	RootFrame: "frame", RootGoroutineCtxt: "goroutine ctxt", RootFinalizer: "finalizer",
	RootQueuedFinalizer: "queued finalizer", RootCleanups: "cleanups", RootWeakHandles: "weak handles",
}

func (k RootKind) String() string {
	if int(k) < len(rootKindNames) && rootKindNames[k] != "" {
		return rootKindNames[k]
	}
	return "unknown root"
}

// Root is one root vertex.
type Root struct {
	Kind  RootKind
	Addr  uint64 // see RootKind
	Size  uint32 // bytes of the root's words; edge and hidden-word offsets are below it
	Index uint32 // FrameID, GoroutineID or finalizer index, by Kind
}

// Goroutine is a goroutine of the dump.
type Goroutine struct {
	ID        uint64 // goid
	Addr      uint64 // the g
	Status    uint64 // runtime _G* status as dumped
	GoPC      uint64 // return PC of the go statement that created it
	WaitSince uint64
	Wait      uint32 // its wait reason: Graph.WaitReasons[Wait] ("" when not waiting)
	System    bool
	Ctxt      uint64 // sched.ctxt
	// Frames are Frames[FirstFrame : FirstFrame+NumFrames], innermost first.
	FirstFrame FrameID
	NumFrames  uint32
	// StackLo and StackHi bound the dumped frames' memory: the part of
	// the goroutine's stack in use.
	StackLo, StackHi uint64
}

// Frame is one stack frame.
type Frame struct {
	Goroutine GoroutineID
	Depth     uint32 // 0 = innermost
	Root      RootID
	SP        uint64
	PC        uint64 // a return address except at depth 0
	Entry     uint64
	ContPC    uint64
	Func      FuncID
}

// Finalizer is a finalizer record.
type Finalizer struct {
	Queued  bool
	Obj     uint64   // the program's pointer (base+8 for header objects)
	Object  ObjectID // the object containing Obj, or NoObject
	FnAddr  uint64
	FnPC    uint64
	FinType uint64
	ObjType uint64
	Root    RootID
}

// Bucket is a memory-profile bucket: an allocation stack.
type Bucket struct {
	Addr          uint64 // the bucket's address in the dump (its id)
	Size          uint64
	Frames        []heapdump.Frame // strings interned; innermost first
	Allocs, Frees uint64
}

// Sample ties an object to its allocation stack: Offset is the program's
// pointer minus the object base (8 for header objects, the place inside a
// 16-byte tiny block for tiny allocations, else 0).
type Sample struct {
	Object ObjectID
	Offset uint32
	Bucket BucketID
}

// HiddenKind says what is known about a hidden word.
type HiddenKind uint8

const (
	// HiddenPlain: a word the GC does not treat as a pointer whose value
	// lies in the heap arena range.
	HiddenPlain HiddenKind = iota
	// HiddenWeakHandle: the word of a weak-pointer handle, recognised by
	// shape: in go1.26.8 a handle is a 16-byte pointer-free object
	// (mheap.go weakHandleBox) holding the target's address in its first
	// word and zero padding in its second. A program's own 16-byte
	// {address, 0} pair looks the same; issue 4's types tell them apart.
	HiddenWeakHandle
)

// HiddenWord is a word that may hide a reference: not a pointer to the GC,
// but its value lies inside the heap arena range (which also holds every
// goroutine stack). Words of a frame that point into their own goroutine's
// stack (saved frame pointers, addresses of locals) are left out.
type HiddenWord struct {
	Holder Vertex
	Offset uint32 // byte offset in the holder's words
	Kind   HiddenKind
	Value  uint64
}

// IfaceWord is the first word of an interface value: a word the GC does
// not scan (the itab or *_type word is not a pointer in the GC bitmap),
// followed by a pointer word (the data), whose value is an itab (Itab
// true) or a type: one of the dump's type records, or any word inside
// Input.TypeData (the dump names only the types of itabs and finalizers,
// not those of most empty interfaces). It is a candidate: a scalar that
// happens to hold such a value looks the same, so its user proves the
// type word before trusting it (symbols.Image.InterfaceType).
type IfaceWord struct {
	Holder Vertex
	Offset uint32
	Itab   bool
	Word   uint64
}

// BuildStats counts what Build saw and corrected.
type BuildStats struct {
	ObjectRecords int // object records in the dump
	BogusSlots    int // of them, slots past a span's object count, dropped
	// AmbiguousPages counts pages whose pointer-bitmap reserve could not
	// be decided (see Build); each may hold up to AmbiguousSlots extra
	// objects that are really reserve.
	AmbiguousPages int
	AmbiguousSlots int
	Roots, Edges   int
	DroppedTargets int // pointer fields to memory outside every object (nil excluded)
	// PeakMapped is the most memory the build had mapped at once (the
	// graph and its temporaries); Go heap allocations are not included.
	PeakMapped int64
}

// Graph is the object graph of one heap dump.
//
// Invariants, checked by checkInvariants (run by the tests on every real
// capture):
//
//   - Objects are dense, 0..n-1, sorted by base: objBase strictly
//     increasing, objBase[i]+objSize[i] <= objBase[i+1], objSize[i] > 0;
//     objBase, objSize and objFlags have length n.
//   - Vertices are the roots, 0..r-1, then the objects, r..r+n-1.
//     edgeStart has length r+n+1, edgeStart[0] = 0, it never decreases,
//     and edgeStart[r+n] = len(edgeTarget) = len(edgeWordLo). The edges
//     of vertex v are edgeTarget[edgeStart[v]:edgeStart[v+1]], each < n.
//   - The edges of a vertex are in strictly increasing offset order, and
//     each offset + 8 is within the holder's size (the object's size, the
//     root's Size).
//   - edgeWordLo holds the low 16 bits of each edge's word offset
//     (offset/8); for holders larger than 65536 words, wordHigh[v] lists
//     the edges where the high bits change (see EdgeOffset).
//   - Hidden and interface words name valid holders and offsets inside
//     them; headerWord entries name Header or MaybeHeader objects, sorted;
//     Samples are sorted by Object.
//   - interiorEdge is strictly increasing, each offset in interiorOff is
//     inside its edge's target and differs from the target's user
//     offset; codeObj is strictly increasing.
//   - The zero Graph is an empty graph: no objects, no roots, and
//     edgeStart of length 1 ({0}) once built; a zero value that was never
//     built has edgeStart nil and answers every query with nothing.
//
// Every field is written by Build alone, on the goroutine that calls it,
// before Build returns; nobody writes a Graph after that, so a built Graph
// may be read from any number of goroutines. Its arrays live outside the Go
// heap (offheap.go): slices from a Graph are valid until Close, or until
// the Graph is unreachable.
type Graph struct {
	mem     *mem // the mappings behind the arrays
	cleanup runtime.Cleanup

	// Objects, by ObjectID: 13 bytes each.
	objBase  []uint64
	objSize  []uint32
	objFlags []ObjectFlags

	// CSR over vertices: 4 bytes per vertex, 4 per edge, plus 2 per edge
	// of offsets.
	edgeStart  []uint32
	edgeTarget []ObjectID
	edgeWordLo []uint16
	wordHigh   map[Vertex][]highMark

	// Address lookup: pageFirst[p] is the first object whose base is at or
	// above lo + p*8 KiB (nil when the objects span too wide a range).
	lo, hi    uint64
	pageFirst []uint32

	roots []Root

	headerObj  []ObjectID // objects with Header or MaybeHeader, ascending
	headerWord []uint64   // their first word, raw

	// Edges whose pointer is not the target's user pointer (base, or
	// base+8 with a Header), ascending, with the pointer minus the
	// target's base: see EdgeTargetOffset.
	interiorEdge []EdgeID
	interiorOff  []uint32

	codeObj  []ObjectID // objects whose first word is in Input.Text, ascending
	codeWord []uint64   // that word

	Params      heapdump.Params // strings cloned
	MemStats    heapdump.MemStats
	Goroutines  []Goroutine
	WaitReasons []string
	Frames      []Frame
	Funcs       []string
	Finalizers  []Finalizer
	Buckets     []Bucket
	Samples     []Sample
	Hidden      []HiddenWord
	Ifaces      []IfaceWord
	// Itabs maps each itab of the process to its concrete type's address,
	// and TypeNames those types to their names, from the dump's itab and
	// type records (the only types the dump names).
	Itabs     map[uint64]uint64
	TypeNames map[uint64]string
	Stats     BuildStats
}

// highMark: from edge Edge on, the holder's word offsets have high 16 bits High.
type highMark struct {
	Edge EdgeID
	High uint32
}

// Close releases the graph's memory; every slice obtained from it becomes
// invalid. Close is idempotent; a graph that is not closed is released
// when it becomes unreachable.
func (g *Graph) Close() {
	if g == nil || g.mem == nil {
		return
	}
	g.cleanup.Stop()
	g.mem.freeAll()
	*g = Graph{}
}

func (g *Graph) NumObjects() int  { return len(g.objBase) }
func (g *Graph) NumRoots() int    { return len(g.roots) }
func (g *Graph) NumVertices() int { return len(g.roots) + len(g.objBase) }
func (g *Graph) NumEdges() int    { return len(g.edgeTarget) }

// Object returns an object's base address and size.
func (g *Graph) Object(o ObjectID) (base uint64, size uint32) { return g.objBase[o], g.objSize[o] }

// Flags returns an object's flags.
func (g *Graph) Flags(o ObjectID) ObjectFlags { return g.objFlags[o] }

// Root returns a root.
func (g *Graph) Root(r RootID) Root { return g.roots[r] }

// RootVertex and ObjectVertex give a root's or an object's vertex.
func (g *Graph) RootVertex(r RootID) Vertex     { return Vertex(r) }
func (g *Graph) ObjectVertex(o ObjectID) Vertex { return Vertex(len(g.roots)) + Vertex(o) }

// VertexObject returns the object a vertex stands for, if it is one.
func (g *Graph) VertexObject(v Vertex) (ObjectID, bool) {
	if int(v) < len(g.roots) || int(v) >= g.NumVertices() {
		return NoObject, false
	}
	return ObjectID(int(v) - len(g.roots)), true
}

// VertexRoot returns the root a vertex stands for, if it is one.
func (g *Graph) VertexRoot(v Vertex) (RootID, bool) {
	if int(v) >= len(g.roots) {
		return 0, false
	}
	return RootID(v), true
}

// Edges returns the targets of v's edges (do not modify) and the EdgeID of
// the first, for EdgeOffset.
func (g *Graph) Edges(v Vertex) (targets []ObjectID, first EdgeID) {
	a, b := g.edgeStart[v], g.edgeStart[v+1]
	return g.edgeTarget[a:b:b], EdgeID(a)
}

// EdgeTarget is the object edge e points at.
func (g *Graph) EdgeTarget(e EdgeID) ObjectID { return g.edgeTarget[e] }

// EdgeOffset is the byte offset, inside its holder v, of the word that
// holds edge e (an edge of v).
func (g *Graph) EdgeOffset(v Vertex, e EdgeID) uint64 {
	w := uint64(g.edgeWordLo[e])
	if marks := g.wordHigh[v]; len(marks) > 0 {
		// The last mark at or before e gives the high bits.
		i, j := 0, len(marks)
		for i < j {
			h := int(uint(i+j) >> 1)
			if marks[h].Edge <= e {
				i = h + 1
			} else {
				j = h
			}
		}
		if i > 0 {
			w |= uint64(marks[i-1].High) << 16
		}
	}
	return w * 8
}

// HolderSize is the size of a vertex's memory: the object's size or the
// root's Size.
func (g *Graph) HolderSize(v Vertex) uint64 {
	if o, ok := g.VertexObject(v); ok {
		return uint64(g.objSize[o])
	}
	return uint64(g.roots[v].Size)
}

// HeaderWord returns the raw first word of an object with a malloc header
// (Header or MaybeHeader): a *_type the symbols stage must validate before
// use.
func (g *Graph) HeaderWord(o ObjectID) (uint64, bool) {
	i, j := 0, len(g.headerObj)
	for i < j {
		h := int(uint(i+j) >> 1)
		if g.headerObj[h] < o {
			i = h + 1
		} else {
			j = h
		}
	}
	if i < len(g.headerObj) && g.headerObj[i] == o {
		return g.headerWord[i], true
	}
	return 0, false
}

// EdgeTargetOffset is where edge e's pointer points inside its target:
// the pointer minus the target's base. It is the target's user offset (8
// for a Header object, else 0) unless the pointer is interior (a slice
// past its array's start, a substring, a pointer to a field, and pointers
// to base+8 of MaybeHeader objects).
func (g *Graph) EdgeTargetOffset(e EdgeID) uint64 {
	i, j := 0, len(g.interiorEdge)
	for i < j {
		h := int(uint(i+j) >> 1)
		if g.interiorEdge[h] < e {
			i = h + 1
		} else {
			j = h
		}
	}
	if i < len(g.interiorEdge) && g.interiorEdge[i] == e {
		return uint64(g.interiorOff[i])
	}
	return userOffset(g.objFlags[g.edgeTarget[e]])
}

// EdgeOffsets appends to dst EdgeOffset of each edge of v, in edge
// order: for a holder's edges at once, cheaper than edge by edge.
func (g *Graph) EdgeOffsets(v Vertex, dst []uint64) []uint64 {
	a, b := g.edgeStart[v], g.edgeStart[v+1]
	// Grown at once: appended, a big object's edges left twice their size
	// of garbage on the target's heap.
	dst = slices.Grow(dst, int(b-a))
	marks := g.wordHigh[v]
	high := uint64(0)
	for e := EdgeID(a); e < EdgeID(b); e++ {
		for len(marks) > 0 && marks[0].Edge <= e {
			high = uint64(marks[0].High) << 16
			marks = marks[1:]
		}
		dst = append(dst, (high|uint64(g.edgeWordLo[e]))*8)
	}
	return dst
}

// TargetOffsets appends to dst EdgeTargetOffset of each edge of v, in
// edge order: for a holder's edges at once, cheaper than edge by edge.
func (g *Graph) TargetOffsets(v Vertex, dst []uint64) []uint64 {
	a, b := g.edgeStart[v], g.edgeStart[v+1]
	dst = slices.Grow(dst, int(b-a)) // at once, as EdgeOffsets
	k, j := 0, len(g.interiorEdge)   // first interior entry at or after edge a
	for k < j {
		h := int(uint(k+j) >> 1)
		if g.interiorEdge[h] < EdgeID(a) {
			k = h + 1
		} else {
			j = h
		}
	}
	for e := EdgeID(a); e < EdgeID(b); e++ {
		if k < len(g.interiorEdge) && g.interiorEdge[k] == e {
			dst = append(dst, uint64(g.interiorOff[k]))
			k++
			continue
		}
		dst = append(dst, userOffset(g.objFlags[g.edgeTarget[e]]))
	}
	return dst
}

func userOffset(f ObjectFlags) uint64 {
	if f&Header != 0 {
		return 8
	}
	return 0
}

// CodeWord returns the first word of an object that starts with a code
// pointer (Input.Text): a closure's function, for naming its variables.
func (g *Graph) CodeWord(o ObjectID) (uint64, bool) {
	i, j := 0, len(g.codeObj)
	for i < j {
		h := int(uint(i+j) >> 1)
		if g.codeObj[h] < o {
			i = h + 1
		} else {
			j = h
		}
	}
	if i < len(g.codeObj) && g.codeObj[i] == o {
		return g.codeWord[i], true
	}
	return 0, false
}

// ObjectColumn returns a zeroed uint32 per object, in the graph's own
// mapped memory: for the next stages' per-object annotations (type and
// site IDs), which then cost the Go heap nothing, stay out of the next
// dump, and are released with the graph (valid until Close, like every
// slice from a Graph). It is the one Graph method that allocates; it is
// safe to call from several goroutines.
func (g *Graph) ObjectColumn() []uint32 {
	if g.mem == nil {
		return nil
	}
	return makeOff[uint32](g.mem, len(g.objBase), len(g.objBase))
}

// FindObject returns the object whose memory contains addr (interior
// pointers included).
func (g *Graph) FindObject(addr uint64) (ObjectID, bool) {
	if addr < g.lo || addr >= g.hi || len(g.objBase) == 0 {
		return NoObject, false
	}
	i, j := 0, len(g.objBase)
	if g.pageFirst != nil {
		p := (addr - g.lo) >> pageShift
		i, j = int(g.pageFirst[p]), int(g.pageFirst[p+1])
	}
	// The last object starting at or below addr is in [i-1, j).
	for i < j {
		h := int(uint(i+j) >> 1)
		if g.objBase[h] <= addr {
			i = h + 1
		} else {
			j = h
		}
	}
	k := i - 1
	if k >= 0 && addr-g.objBase[k] < uint64(g.objSize[k]) {
		return ObjectID(k), true
	}
	return NoObject, false
}

// SamplesOf returns the allocation samples of an object.
func (g *Graph) SamplesOf(o ObjectID) []Sample {
	i, j := 0, len(g.Samples)
	for i < j {
		h := int(uint(i+j) >> 1)
		if g.Samples[h].Object < o {
			i = h + 1
		} else {
			j = h
		}
	}
	k := i
	for k < len(g.Samples) && g.Samples[k].Object == o {
		k++
	}
	return g.Samples[i:k:k]
}

// MappedBytes is all the memory the graph has mapped: MemoryBytes' arrays
// and the columns later stages made beside them (ObjectColumn).
func (g *Graph) MappedBytes() int64 {
	if g.mem == nil {
		return 0
	}
	return g.mem.size()
}

// MemoryBytes reports the graph's retained memory: the core (objects and
// CSR, the figure of the ≤ 32 B/object + 4 B/edge goal) and the side
// arrays (edge offsets, header and hidden and interface words, samples,
// goroutines, frames, finalizers, page index), by capacity.
func (g *Graph) MemoryBytes() (core, side int64) {
	if g.mem == nil {
		return 0, 0
	}
	core = int64(cap(g.objBase))*8 + int64(cap(g.objSize))*4 + int64(cap(g.objFlags)) +
		int64(cap(g.edgeStart))*4 + int64(cap(g.edgeTarget))*4
	side = int64(cap(g.edgeWordLo))*2 + int64(cap(g.pageFirst))*4 +
		int64(cap(g.headerObj))*4 + int64(cap(g.headerWord))*8 +
		int64(cap(g.interiorEdge))*4 + int64(cap(g.interiorOff))*4 +
		int64(cap(g.codeObj))*4 + int64(cap(g.codeWord))*8 +
		int64(cap(g.roots))*24 + int64(cap(g.Goroutines))*104 + int64(cap(g.Frames))*48 +
		int64(cap(g.Finalizers))*64 + int64(cap(g.Samples))*12 +
		int64(cap(g.Hidden))*24 + int64(cap(g.Ifaces))*24
	for _, m := range g.wordHigh {
		side += int64(cap(m)) * 8
	}
	return core, side
}
