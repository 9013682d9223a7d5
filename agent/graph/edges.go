package graph

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/heaptop/heaptop/agent/heapdump"
)

// recordGrab keeps the one record Reader.RecordAt reads.
type recordGrab struct {
	heapdump.NopVisitor
	obj   *heapdump.Object
	frame *heapdump.StackFrame
	seg   *heapdump.Segment
}

func (r *recordGrab) Object(o *heapdump.Object) error         { r.obj = o; return nil }
func (r *recordGrab) StackFrame(f *heapdump.StackFrame) error { r.frame = f; return nil }
func (r *recordGrab) Segment(s *heapdump.Segment) error       { r.seg = s; return nil }
func (r *recordGrab) reset()                                  { r.obj, r.frame, r.seg = nil, nil, nil }

// emitter appends the edges, hidden words and interface words of one
// holder at a time, in vertex order.
type emitter struct {
	b       *builder
	g       *Graph
	v       Vertex
	curHigh uint32
	stackLo uint64 // own stack of a frame holder, excluded from hidden words
	stackHi uint64
	weak    bool // the holder is a weak handle
	header  bool // the holder's first word is a malloc header, not data
	object  bool // the holder is an object (not a root)
}

func (e *emitter) begin(v Vertex) {
	e.g.edgeStart[v] = uint32(len(e.g.edgeTarget))
	e.v, e.curHigh, e.stackLo, e.stackHi, e.weak, e.header = v, 0, 0, 0, false, false
	e.object = int(v) >= len(e.g.roots)
}

// pointer appends the edge of a pointer word at byte offset off of the
// current holder, whose value v lies in object t, noting where in t it
// points when that is not t's user pointer.
func (e *emitter) pointer(t ObjectID, off, v uint64) {
	g := e.g
	if in := v - g.objBase[t]; in != userOffset(g.objFlags[t]) {
		g.interiorEdge = appendOff(g.mem, g.interiorEdge, EdgeID(len(g.edgeTarget)))
		g.interiorOff = appendOff(g.mem, g.interiorOff, uint32(in))
	}
	e.edge(t, off)
}

// edge appends an edge at byte offset off of the current holder.
func (e *emitter) edge(t ObjectID, off uint64) {
	w := off / 8
	if hi := uint32(w >> 16); hi != e.curHigh {
		e.g.wordHigh[e.v] = append(e.g.wordHigh[e.v], highMark{Edge: EdgeID(len(e.g.edgeTarget)), High: hi})
		e.curHigh = hi
	}
	e.g.edgeTarget = appendOff(e.g.mem, e.g.edgeTarget, t)
	e.g.edgeWordLo = appendOff(e.g.mem, e.g.edgeWordLo, uint16(w))
}

// words walks a holder's memory: pointer words (ptrs, ascending byte
// offsets) become edges, interface type words or dropped targets; the
// other words are checked for hidden references. base is added to every
// offset of the holder's words (8 for a finalizer root's object part).
func (e *emitter) words(mem []byte, ptrs []uint64, base uint64) {
	g, b := e.g, e.b
	k := 0
	for off := uint64(0); off+8 <= uint64(len(mem)); off += 8 {
		v := binary.LittleEndian.Uint64(mem[off:])
		if k < len(ptrs) && ptrs[k] == off {
			k++
			if v == 0 {
				continue
			}
			if t, ok := g.FindObject(v); ok {
				e.pointer(t, base+off, v)
				continue
			}
			if b.inArena(v) {
				g.Stats.DroppedTargets++
			}
			continue
		}
		// An interface's first word (itab or *_type) is not a pointer to
		// the GC; only its data word, the next one, is.
		if v != 0 && k < len(ptrs) && ptrs[k] == off+8 {
			_, isItab := g.Itabs[v]
			_, isType := g.TypeNames[v]
			if isItab || isType || b.in.TypeData.Contains(v) {
				g.Ifaces = appendOff(g.mem, g.Ifaces, IfaceWord{Holder: e.v, Offset: uint32(base + off), Word: v, Itab: isItab})
				continue
			}
		}
		if off == 0 && e.object && !e.header && b.in.Text.Contains(v) {
			g.codeObj = appendOff(g.mem, g.codeObj, ObjectID(e.v)-ObjectID(len(g.roots)))
			g.codeWord = appendOff(g.mem, g.codeWord, v)
			continue
		}
		if v < g.Params.ArenaStart || v >= g.Params.ArenaEnd || (v >= e.stackLo && v < e.stackHi) || (off == 0 && e.header) {
			continue
		}
		kind := HiddenPlain
		if e.weak && off == 0 {
			kind = HiddenWeakHandle
		}
		g.Hidden = appendOff(g.mem, g.Hidden, HiddenWord{Holder: e.v, Offset: uint32(base + off), Kind: kind, Value: v})
	}
}

// buildEdges is pass 2: every holder's words, roots first, then objects in
// address order, each object's record read again at its offset.
func (b *builder) buildEdges() error {
	g := b.g
	nv := len(g.roots) + len(g.objBase)
	g.edgeStart = makeOff[uint32](g.mem, nv+1, nv+1)
	g.edgeTarget = makeOff[ObjectID](g.mem, 0, b.ptrs+len(b.weak)+len(b.cleanup))
	g.edgeWordLo = makeOff[uint16](g.mem, 0, cap(g.edgeTarget))
	g.wordHigh = map[Vertex][]highMark{}
	rd := heapdump.NewReader(b.in.Dump)
	var grab recordGrab
	read := func(off int64) error {
		grab.reset()
		_, err := rd.RecordAt(off, &grab)
		return err
	}
	e := &emitter{b: b, g: g}
	var scratch []uint64
	for r := range g.roots {
		root := g.roots[r]
		e.begin(Vertex(r))
		switch root.Kind {
		case RootData, RootBSS:
			if err := read(b.rootOff[r]); err != nil || grab.seg == nil {
				return fmt.Errorf("graph: rereading the %s segment: %v", root.Kind, err)
			}
			e.words(grab.seg.Contents, grab.seg.Pointers, 0)
		case RootFrame:
			if err := read(b.rootOff[r]); err != nil || grab.frame == nil {
				return fmt.Errorf("graph: rereading a stack frame: %v", err)
			}
			// A frame lists its outgoing arguments before its locals:
			// sort (and dedupe) the offsets.
			scratch = append(scratch[:0], grab.frame.Pointers...)
			slices.Sort(scratch)
			scratch = slices.Compact(scratch)
			gr := g.Goroutines[g.Frames[root.Index].Goroutine]
			e.stackLo, e.stackHi = gr.StackLo, gr.StackHi
			e.words(grab.frame.Contents, scratch, 0)
		case RootNoptrData, RootNoptrBSS:
			for _, s := range b.in.Segments {
				if s.Addr == root.Addr && uint64(len(s.Bytes)) == uint64(root.Size) {
					e.words(s.Bytes, nil, 0)
					break
				}
			}
		case RootGoroutineCtxt:
			t, _ := g.FindObject(g.Goroutines[root.Index].Ctxt)
			e.edge(t, 0)
		case RootFinalizer, RootQueuedFinalizer:
			f := g.Finalizers[root.Index]
			if t, ok := g.FindObject(f.FnAddr); ok {
				e.edge(t, 0)
			}
			if f.Object == NoObject {
				break
			}
			if f.Queued {
				e.edge(f.Object, 8)
				break
			}
			// The object's referents, not the object (gcScanFinalizer).
			if err := read(b.off[f.Object]); err != nil || grab.obj == nil {
				return fmt.Errorf("graph: rereading a finalized object: %v", err)
			}
			for _, p := range grab.obj.Pointers {
				v := binary.LittleEndian.Uint64(grab.obj.Contents[p:])
				if t, ok := g.FindObject(v); ok {
					e.pointer(t, 8+p, v)
				}
			}
		case RootCleanups:
			for i, o := range b.cleanup {
				e.edge(o, uint64(8*i))
			}
		case RootWeakHandles:
			for i, o := range b.weak {
				e.edge(o, uint64(8*i))
			}
		}
	}
	weak := b.weak
	for o := range g.objBase {
		e.begin(g.ObjectVertex(ObjectID(o)))
		if len(weak) > 0 && weak[0] == ObjectID(o) {
			e.weak = true
			weak = weak[1:]
		}
		if err := read(b.off[o]); err != nil || grab.obj == nil {
			return fmt.Errorf("graph: rereading the object at %#x: %v", g.objBase[o], err)
		}
		e.header = g.objFlags[o]&(Header|MaybeHeader) != 0
		ptrs := grab.obj.Pointers
		if g.objFlags[o]&Pointers == 0 {
			ptrs = nil // a reserve slot's junk list, never an object's
		}
		e.words(grab.obj.Contents, ptrs, 0)
	}
	g.edgeStart[nv] = uint32(len(g.edgeTarget))
	g.Stats.Edges = len(g.edgeTarget)
	if len(g.wordHigh) == 0 {
		g.wordHigh = nil
	}
	b.off, b.ord, b.rootOff = nil, nil, nil
	return nil
}
