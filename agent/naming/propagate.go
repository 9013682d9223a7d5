package naming

import (
	"reflect"

	"github.com/heaptop/heaptop/agent/graph"
	"github.com/heaptop/heaptop/agent/symbols"
)

// hopKind says how the target of a pointer word is typed.
type hopKind uint8

const (
	hopUnknown hopKind = iota // not computed yet (hopTable)
	hopNone                   // not a pointer naming can follow (scalar, interface data, untyped)
	hopPlain                  // the target is typed as hopInfo.target
	hopMapDir                 // a map's dirPtr: target (directory) or alt (group), decided by the target
	hopClosure                // a func value: a closure layout of hopInfo.target's func type and the target's code word
)

// hopInfo is what a pointer word says about its target, cached per
// (holder TypeID, offset in one value).
type hopInfo struct {
	kind   hopKind
	target TypeID
	alt    TypeID
}

// propagation is typeObjects' state; it lives while Name runs.
type propagation struct {
	n *Names
	g *graph.Graph
	// dense[t][w] is the hop of word w of one value of type t, for types
	// of at most maxDenseUnit bytes; hops the others, by TypeID<<32 |
	// offset in one value.
	dense [][]hopInfo
	hops  map[uint64]hopInfo
	iface map[ifaceKey]hopInfo
	hdr   map[[2]uint64]TypeID // header word, slot size -> TypeID (Untyped: refused)
	// The objects to visit this round and the next, in mapped memory
	// (queueMem): a few bytes per object, which on the Go heap were
	// garbage the target kept resident after the capture.
	queueMem    *graph.Mem
	queue, next []graph.ObjectID
	// Scratch for visit: the edge offsets and target offsets of a holder.
	at, to []uint64
}

// maxDenseUnit bounds the types whose hops are cached in a slice: 4 KiB
// is 512 hops of 12 bytes.
const maxDenseUnit = 4096

type ifaceKey struct {
	word uint64
	itab bool
}

// typeObjects types every object it can: seeds, then propagation (see the
// package overview).
func (n *Names) typeObjects() {
	p := &propagation{n: n, g: n.g, hops: map[uint64]hopInfo{}, iface: map[ifaceKey]hopInfo{}, hdr: map[[2]uint64]TypeID{},
		queueMem: graph.NewMem()}
	defer p.queueMem.Close()
	p.next = graph.Make[graph.ObjectID](p.queueMem, 0, n.g.NumObjects()/8)
	p.seedHeaders()
	p.seedInterfaces()
	p.seedFinalizers()
	p.seedRoots()
	p.propagate()
	p.inferFromSites()
	p.propagate()
}

// propagate visits queued objects, breadth first, until none is left.
func (p *propagation) propagate() {
	for len(p.next) > 0 {
		p.queue, p.next = p.next, p.queue[:0]
		for _, o := range p.queue {
			p.visit(o)
		}
	}
}

// inferFromSites types untyped objects by their allocation stack: when
// every typed object allocated by one stack (one memory-profile bucket;
// typed from evidence, at its start) has the same type, the untyped ones
// of that stack get it too, as a guess (SourceSite), and their targets
// are typed from them (also SourceSite). An allocation statement
// allocates one type, so this mostly types garbage that was typed while
// reachable, such as evicted cache entries; generic code shared between
// pointer shapes and reflect-driven allocation (reflect.New's caller) can
// allocate several types from one stack, which is why it stays a guess.
func (p *propagation) inferFromSites() {
	g, n := p.g, p.n
	const none, mixed = Untyped, ^TypeID(0)
	agreed := make([]TypeID, len(g.Buckets))
	for _, s := range g.Samples {
		t, src := unpack(n.typing[s.Object])
		if t == Untyped || src == SourceSite || uint64(s.Offset) != n.userOffset(s.Object) {
			continue
		}
		if n.typing[s.Object]&interiorBit != 0 {
			continue
		}
		switch agreed[s.Bucket] {
		case none:
			agreed[s.Bucket] = t
		case t, mixed:
		default:
			agreed[s.Bucket] = mixed
		}
	}
	for _, s := range g.Samples {
		t := agreed[s.Bucket]
		if t == none || t == mixed || uint64(s.Offset) != n.userOffset(s.Object) {
			continue
		}
		if cur, _ := unpack(n.typing[s.Object]); cur == Untyped {
			p.offer(s.Object, t, uint64(s.Offset), SourceSite)
		}
	}
}

// seedHeaders types the objects whose malloc header word is a type.
func (p *propagation) seedHeaders() {
	g := p.g
	for o := range graph.ObjectID(g.NumObjects()) {
		if g.Flags(o)&(graph.Header|graph.MaybeHeader) == 0 {
			continue
		}
		word, _ := g.HeaderWord(o)
		_, slot := g.Object(o)
		key := [2]uint64{word, uint64(slot)}
		id, ok := p.hdr[key]
		if !ok {
			if t, err := p.n.im.HeaderType(uintptr(word), uintptr(slot)); err == nil {
				id = p.n.types.intern(single(symbols.HeaderLayout(t), 8, uint64(slot)))
			}
			p.hdr[key] = id
		}
		if id != Untyped {
			p.n.typing[o] = pack(id, SourceHeader)
			p.next = graph.Append(p.queueMem, p.next, o)
		}
	}
}

// seedInterfaces types the target of every interface data word whose type
// word is proven a type.
func (p *propagation) seedInterfaces() {
	g := p.g
	for _, w := range g.Ifaces {
		e, ok := edgeAtOffset(g, w.Holder, uint64(w.Offset)+8)
		if !ok {
			continue
		}
		k := ifaceKey{w.Word, w.Itab}
		h, ok := p.iface[k]
		if !ok {
			var itabs symbols.ItabSet
			if w.Itab {
				itabs = p.n.itabs
			}
			if t, err := p.n.im.InterfaceType(uintptr(w.Word), itabs); err == nil {
				h = p.hopTo(symbols.InterfaceTarget(t))
			}
			p.iface[k] = h
		}
		p.follow(e, h, SourceInterface)
	}
}

// seedFinalizers types each object a finalizer was set on by the pointer
// type it was set with.
func (p *propagation) seedFinalizers() {
	g := p.g
	for _, f := range g.Finalizers {
		if f.Object == graph.NoObject || f.ObjType == 0 {
			continue
		}
		pt, err := p.n.im.TypeAt(uintptr(f.ObjType))
		if err != nil || pt.Kind() != reflect.Pointer {
			continue
		}
		base, _ := g.Object(f.Object)
		p.offer(f.Object, p.n.types.intern(symbols.ValueOf(pt.Elem())), f.Obj-base, SourceFinalizer)
	}
}

// seedRoots types what globals and stack slots point at, by their DWARF
// types.
func (p *propagation) seedRoots() {
	g := p.g
	for r := range graph.RootID(g.NumRoots()) {
		root := g.Root(r)
		v := g.RootVertex(r)
		targets, first := g.Edges(v)
		for i := range targets {
			e := first + graph.EdgeID(i)
			off := g.EdgeOffset(v, e)
			switch root.Kind {
			case graph.RootData, graph.RootBSS:
				gr := p.n.im.Global(uintptr(root.Addr + off))
				if gr.Typed {
					p.follow(e, p.hopFor(gr.Word), SourceGlobal)
				}
			case graph.RootFrame:
				if l, ok := p.n.slot(graph.FrameID(root.Index), off); ok && !l.Ambiguous {
					p.follow(e, p.hopFor(l.Word), SourceLocal)
				}
			}
		}
	}
}

// visit offers the targets of a typed object's pointer words their types.
func (p *propagation) visit(o graph.ObjectID) {
	g, n := p.g, p.n
	lay, start := n.Region(o)
	info := &n.types.infos[lay]
	if info.ptrs == 0 {
		return
	}
	src := SourcePropagated
	if _, s := unpack(n.typing[o]); s == SourceSite {
		src = SourceSite // a guess propagates as a guess
	}
	unit, array := info.unit, info.layout.Array // info may move: following interns types
	v := g.ObjectVertex(o)
	targets, _ := g.Edges(v)
	p.at = g.EdgeOffsets(v, p.at[:0])
	p.to = g.TargetOffsets(v, p.to[:0])
	for i, t := range targets {
		off := p.at[i]
		if off < start {
			continue
		}
		rel := off - start
		switch {
		case unit == 0:
		case array:
			rel %= unit
		case rel >= unit:
			continue // past the typed region
		}
		p.followTo(t, p.to[i], p.hop(lay, unit, rel), src)
	}
}

// hop is what the word at offset rel of one value of type lay (unit bytes)
// says about its target, computed once per type and offset.
func (p *propagation) hop(lay TypeID, unit, rel uint64) hopInfo {
	if unit > 0 && unit <= maxDenseUnit {
		if int(lay) >= len(p.dense) {
			p.dense = append(p.dense, make([][]hopInfo, int(lay)+1-len(p.dense))...)
		}
		tab := p.dense[lay]
		if tab == nil {
			tab = make([]hopInfo, (unit+7)/8)
			p.dense[lay] = tab
		}
		if h := tab[rel/8]; h.kind != hopUnknown {
			return h
		}
		h := p.hopFor(p.n.types.infos[lay].layout.Word(uintptr(rel)))
		p.dense[lay][rel/8] = h
		return h
	}
	key := uint64(lay)<<32 | rel
	h, ok := p.hops[key]
	if !ok {
		h = p.hopFor(p.n.types.infos[lay].layout.Word(uintptr(rel)))
		p.hops[key] = h
	}
	return h
}

// hopFor is what a word, as the layout walker names it, says about the
// target of its pointer. Interface data words are typed by their type
// word instead (seedInterfaces).
func (p *propagation) hopFor(w symbols.Hop) hopInfo {
	if !w.Pointer || w.IfaceData {
		return hopInfo{kind: hopNone}
	}
	return p.hopTo(w.Target)
}

// hopTo is how a pointer to memory laid out as l types its target.
func (p *propagation) hopTo(l symbols.Layout) hopInfo {
	tt := p.n.types
	switch l.Kind {
	case symbols.Untyped:
		return hopInfo{kind: hopNone}
	case symbols.MapDirOrGroup:
		return hopInfo{kind: hopMapDir, target: tt.intern(l.ResolveMapDir(true)), alt: tt.intern(l.ResolveMapDir(false))}
	case symbols.Closure:
		if t := tt.intern(symbols.Layout{Kind: symbols.Closure, Type: l.Type}); t != Untyped {
			return hopInfo{kind: hopClosure, target: t}
		}
		return hopInfo{kind: hopNone}
	}
	if t := tt.intern(l); t != Untyped {
		return hopInfo{kind: hopPlain, target: t}
	}
	return hopInfo{kind: hopNone}
}

// follow offers edge e's target the type h gives it, at the place e's
// pointer points to.
func (p *propagation) follow(e graph.EdgeID, h hopInfo, src Source) {
	p.followTo(p.g.EdgeTarget(e), p.g.EdgeTargetOffset(e), h, src)
}

// followTo offers object t, pointed to at byte start, the type h gives it.
func (p *propagation) followTo(t graph.ObjectID, start uint64, h hopInfo, src Source) {
	g, tt := p.g, p.n.types
	lay := h.target
	switch h.kind {
	case hopUnknown, hopNone:
		return
	case hopMapDir:
		// A directory's first word points at a table; a group's is its
		// control word, never a pointer.
		if _, ok := edgeAtOffset(g, g.ObjectVertex(t), p.n.userOffset(t)); !ok {
			lay = h.alt
		}
	case hopClosure:
		if code, ok := g.CodeWord(t); ok {
			ft := tt.infos[h.target].layout.Type
			k := layoutKey{symbols.Closure, ft, false, uintptr(code)}
			var found bool
			if lay, found = tt.ids[k]; !found {
				lay = tt.intern(p.n.im.ClosureLayout(ft, uintptr(code)))
			}
		}
	}
	p.offer(t, lay, start, src)
}

// offer gives object o a candidate typing: layout lay from byte start of
// the object, learnt from src. The conflict rule (package overview)
// decides whether it replaces the typing o has; a change queues o.
func (p *propagation) offer(o graph.ObjectID, lay TypeID, start uint64, src Source) {
	n := p.n
	w := n.typing[o]
	cur, curSrc := unpack(w)
	user := n.userOffset(o)
	if cur == lay && w&interiorBit == 0 && start == user {
		return // the common case: offered the typing it has
	}
	if curSrc == SourceHeader {
		if cur != lay {
			n.stats.Conflicts++
		}
		return
	}
	info := &n.types.infos[lay]
	_, slot := p.g.Object(o)
	switch {
	case info.layout.Kind == symbols.StringBytes:
		start = user // substrings share their string's bytes
	case info.layout.Array && info.unit > 0 && start >= user:
		start = user + (start-user)%info.unit // an element of the array: the array
	}
	if !p.fits(info, start, uint64(slot), p.g.Flags(o)&graph.Pointers != 0, user) {
		n.stats.Conflicts++
		return
	}
	if cur != Untyped {
		_, curStart := n.Region(o)
		if cur == lay && curStart == start {
			return
		}
		if slot != tinyBlock || p.g.Flags(o)&graph.Pointers != 0 {
			n.stats.Conflicts++ // a tiny block holds several values: no conflict
		}
		if !p.better(lay, start, src, cur, curStart, curSrc, uint64(slot), user) {
			return
		}
	}
	n.typing[o] = pack(lay, src)
	switch {
	case start != user:
		n.typing[o] |= interiorBit
		n.interior[o] = uint32(start)
	case w&interiorBit != 0:
		delete(n.interior, o)
	}
	p.next = graph.Append(p.queueMem, p.next, o)
}

// tinyBlock is the size of the tiny allocator's blocks (malloc.go,
// maxTinySize): pointer-free allocations under 16 bytes share them, so a
// 16-byte pointer-free object may hold several values of several types.
const tinyBlock = 16

// fits reports whether a typing can describe an object: it lies within
// the slot, and has pointers exactly when the object does (interior
// pointer-free parts of pointerful objects excepted).
func (p *propagation) fits(info *typeInfo, start, slot uint64, pointers bool, user uint64) bool {
	switch {
	case start < user:
		return false
	case info.layout.Kind == symbols.Value && info.unit == 0:
		return false // a zero-sized value names no memory
	case info.unit > 0 && start+info.unit > slot:
		return false
	case info.ptrs == 1 && !pointers:
		return false
	case info.ptrs == 0 && pointers && start == user:
		return false
	}
	return true
}

// better is the conflict rule: whether typing (lay, start, src) beats the
// current one (cur, curStart, curSrc) of an object of slot bytes whose
// user pointer is at user.
func (p *propagation) better(lay TypeID, start uint64, src Source, cur TypeID, curStart uint64, curSrc Source, slot, user uint64) bool {
	if (start == user) != (curStart == user) {
		return start == user
	}
	a, b := &p.n.types.infos[lay], &p.n.types.infos[cur]
	if ca, cb := coverage(a, start, slot), coverage(b, curStart, slot); ca != cb {
		return ca > cb
	}
	if a.layout.Array != b.layout.Array {
		return !a.layout.Array
	}
	return src < curSrc
}

// coverage is how many bytes of the slot a typing describes.
func coverage(info *typeInfo, start, slot uint64) uint64 {
	switch {
	case info.unit == 0:
		return slot - start
	case info.layout.Array:
		return (slot - start) / info.unit * info.unit
	}
	return info.unit
}

// edgeAtOffset finds the edge of holder v at byte offset off.
func edgeAtOffset(g *graph.Graph, v graph.Vertex, off uint64) (graph.EdgeID, bool) {
	targets, first := g.Edges(v)
	i, j := 0, len(targets)
	for i < j {
		h := int(uint(i+j) >> 1)
		if g.EdgeOffset(v, first+graph.EdgeID(h)) < off {
			i = h + 1
		} else {
			j = h
		}
	}
	if i < len(targets) && g.EdgeOffset(v, first+graph.EdgeID(i)) == off {
		return first + graph.EdgeID(i), true
	}
	return 0, false
}
