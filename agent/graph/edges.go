package graph

import (
	"encoding/binary"
)

// Pass 1 reads the dump once, as it streams in, and cannot resolve a
// pointer word yet (the objects are not all known, nor sorted). It keeps
// instead, of every holder's memory, the words pass 2 can turn into an
// edge or a finding, with the flags saying what the GC bitmap said of
// them; pass 2 (buildEdges) judges them exactly as if it read the memory.
// Most words are skipped: zeros, and integers that point nowhere.

// Flags in the low bits of a saved word's offset (offsets are whole words).
const (
	wordPointer       = 1 // a pointer word in the holder's GC bitmap
	wordBeforePointer = 2 // the next word is one: an interface's type word, if it names a type
	wordFlags         = 7
)

// wordSpan is a holder's stretch of saved words: [From, To).
type wordSpan struct{ From, To uint32 }

// saveWords keeps a holder's words pass 2 can use: non-zero words that are
// heap addresses (edges, hidden references), a first word inside the code
// (a closure's function) and type words in front of a pointer word
// (interfaces). ptrs are the pointer words' byte offsets, ascending.
func (b *builder) saveWords(mem []byte, ptrs []uint64) wordSpan {
	from := uint32(len(b.wordVal))
	k := 0
	for off := uint64(0); off+8 <= uint64(len(mem)); off += 8 {
		v := binary.LittleEndian.Uint64(mem[off:])
		var flags uint32
		if k < len(ptrs) && ptrs[k] == off {
			flags, k = wordPointer, k+1
		}
		if v == 0 {
			continue
		}
		if k < len(ptrs) && ptrs[k] == off+8 {
			flags |= wordBeforePointer
		}
		if b.inArena(v) || (off == 0 && b.in.Text.Contains(v)) || (flags&wordBeforePointer != 0 && b.typeWord(v)) {
			b.wordOff = appendOff(b.tmp, b.wordOff, uint32(off)|flags)
			b.wordVal = appendOff(b.tmp, b.wordVal, v)
		}
	}
	return wordSpan{from, uint32(len(b.wordVal))}
}

// typeWord reports whether v is an itab or a type descriptor: the first
// word of an interface value.
func (b *builder) typeWord(v uint64) bool {
	_, isItab := b.g.Itabs[v]
	_, isType := b.g.TypeNames[v]
	return isItab || isType || b.in.TypeData.Contains(v)
}

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

// words judges a holder's saved words: pointer words (unless the holder
// has none: a reserve slot's junk list is never an object's) become edges
// or dropped targets, interface type words are kept, and the other words
// are checked for hidden references. base is added to every offset (8 for
// a finalizer root's object part).
func (e *emitter) words(ws wordSpan, pointers bool, base uint64) {
	g, b := e.g, e.b
	for i := ws.From; i < ws.To; i++ {
		off, flags, v := uint64(b.wordOff[i]&^wordFlags), b.wordOff[i]&wordFlags, b.wordVal[i]
		if !pointers {
			flags = 0
		}
		if flags&wordPointer != 0 {
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
		if flags&wordBeforePointer != 0 && b.typeWord(v) {
			_, isItab := g.Itabs[v]
			g.Ifaces = appendOff(g.mem, g.Ifaces, IfaceWord{Holder: e.v, Offset: uint32(base + off), Word: v, Itab: isItab})
			continue
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

// objectWords is the stretch of object o's saved words.
func (b *builder) objectWords(o ObjectID) wordSpan {
	r := b.rec[o]
	return wordSpan{b.objWords[r], b.objWords[r+1]}
}

// buildEdges is pass 2: every holder's saved words, roots first, then
// objects in address order.
func (b *builder) buildEdges() error {
	g := b.g
	nv := len(g.roots) + len(g.objBase)
	g.edgeStart = makeOff[uint32](g.mem, nv+1, nv+1)
	g.edgeTarget = makeOff[ObjectID](g.mem, 0, b.ptrs+len(b.weak)+len(b.cleanup))
	g.edgeWordLo = makeOff[uint16](g.mem, 0, cap(g.edgeTarget))
	g.wordHigh = map[Vertex][]highMark{}
	e := &emitter{b: b, g: g}
	for r := range g.roots {
		root := g.roots[r]
		e.begin(Vertex(r))
		switch root.Kind {
		case RootData, RootBSS:
			e.words(b.rootWords[r], true, 0)
		case RootFrame:
			gr := g.Goroutines[g.Frames[root.Index].Goroutine]
			e.stackLo, e.stackHi = gr.StackLo, gr.StackHi
			e.words(b.rootWords[r], true, 0)
		case RootNoptrData, RootNoptrBSS:
			for _, s := range b.in.Segments {
				if s.Addr == root.Addr && uint64(len(s.Bytes)) == uint64(root.Size) {
					e.words(b.saveWords(s.Bytes, nil), false, 0)
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
			ws := b.objectWords(f.Object)
			for i := ws.From; i < ws.To; i++ {
				if b.wordOff[i]&wordPointer == 0 {
					continue
				}
				if t, ok := g.FindObject(b.wordVal[i]); ok {
					e.pointer(t, 8+uint64(b.wordOff[i]&^wordFlags), b.wordVal[i])
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
		e.header = g.objFlags[o]&(Header|MaybeHeader) != 0
		e.words(b.objectWords(ObjectID(o)), g.objFlags[o]&Pointers != 0, 0)
	}
	g.edgeStart[nv] = uint32(len(g.edgeTarget))
	g.Stats.Edges = len(g.edgeTarget)
	if len(g.wordHigh) == 0 {
		g.wordHigh = nil
	}
	b.ord, b.rec, b.rootWords = nil, nil, nil
	b.wordOff, b.wordVal, b.objWords = nil, nil, nil
	return nil
}
