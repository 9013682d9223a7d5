package graph

import "fmt"

// checkInvariants verifies the invariants stated on Graph. It is for tests
// (every real capture is checked) and costs O(vertices + edges + words).
func (g *Graph) checkInvariants() error {
	n, r := len(g.objBase), len(g.roots)
	if len(g.objSize) != n || len(g.objFlags) != n {
		return fmt.Errorf("object arrays of lengths %d, %d, %d", n, len(g.objSize), len(g.objFlags))
	}
	for i := range n {
		if g.objSize[i] == 0 {
			return fmt.Errorf("object %d at %#x has size 0", i, g.objBase[i])
		}
		if i > 0 && g.objBase[i-1]+uint64(g.objSize[i-1]) > g.objBase[i] {
			return fmt.Errorf("objects %d (%#x+%d) and %d (%#x) overlap or are out of order", i-1, g.objBase[i-1], g.objSize[i-1], i, g.objBase[i])
		}
		f := g.objFlags[i]
		if f&(Header|MaybeHeader) != 0 && f&Pointers == 0 {
			return fmt.Errorf("object %d has a header but no pointers", i)
		}
	}
	if len(g.edgeStart) != r+n+1 || g.edgeStart[0] != 0 {
		return fmt.Errorf("edgeStart has length %d for %d vertices (or does not start at 0)", len(g.edgeStart), r+n)
	}
	if int(g.edgeStart[r+n]) != len(g.edgeTarget) || len(g.edgeWordLo) != len(g.edgeTarget) {
		return fmt.Errorf("edgeStart ends at %d, %d targets, %d offsets", g.edgeStart[r+n], len(g.edgeTarget), len(g.edgeWordLo))
	}
	for v := range r + n {
		a, b := g.edgeStart[v], g.edgeStart[v+1]
		if a > b {
			return fmt.Errorf("edgeStart decreases at vertex %d", v)
		}
		size := g.HolderSize(Vertex(v))
		prev := int64(-1)
		for e := a; e < b; e++ {
			if int(g.edgeTarget[e]) >= n {
				return fmt.Errorf("edge %d of vertex %d targets %d of %d objects", e, v, g.edgeTarget[e], n)
			}
			off := g.EdgeOffset(Vertex(v), EdgeID(e))
			if int64(off) <= prev || off+8 > size {
				return fmt.Errorf("edge %d of vertex %d at offset %d (previous %d, holder size %d)", e, v, off, prev, size)
			}
			prev = int64(off)
		}
	}
	for v, marks := range g.wordHigh {
		if int(v) >= r+n {
			return fmt.Errorf("wordHigh names vertex %d", v)
		}
		for i, m := range marks {
			if m.Edge < EdgeID(g.edgeStart[v]) || m.Edge >= EdgeID(g.edgeStart[v+1]) || (i > 0 && m.Edge <= marks[i-1].Edge) {
				return fmt.Errorf("wordHigh mark %d of vertex %d names edge %d", i, v, m.Edge)
			}
		}
	}
	for i, h := range g.Hidden {
		if int(h.Holder) >= r+n || uint64(h.Offset)+8 > g.HolderSize(h.Holder) {
			return fmt.Errorf("hidden word %d: holder %d offset %d", i, h.Holder, h.Offset)
		}
		if h.Value < g.Params.ArenaStart || h.Value >= g.Params.ArenaEnd {
			return fmt.Errorf("hidden word %d: value %#x outside the arenas", i, h.Value)
		}
	}
	for i, w := range g.Ifaces {
		if int(w.Holder) >= r+n || uint64(w.Offset)+16 > g.HolderSize(w.Holder) {
			return fmt.Errorf("interface word %d: holder %d offset %d", i, w.Holder, w.Offset)
		}
	}
	if len(g.headerObj) != len(g.headerWord) {
		return fmt.Errorf("header arrays of lengths %d and %d", len(g.headerObj), len(g.headerWord))
	}
	for i, o := range g.headerObj {
		if int(o) >= n || g.objFlags[o]&(Header|MaybeHeader) == 0 || (i > 0 && o <= g.headerObj[i-1]) {
			return fmt.Errorf("header word %d names object %d", i, o)
		}
	}
	if len(g.interiorEdge) != len(g.interiorOff) || len(g.codeObj) != len(g.codeWord) {
		return fmt.Errorf("interior or code arrays of unequal lengths")
	}
	for i, e := range g.interiorEdge {
		if int(e) >= len(g.edgeTarget) || (i > 0 && e <= g.interiorEdge[i-1]) {
			return fmt.Errorf("interior edge %d names edge %d", i, e)
		}
		t := g.edgeTarget[e]
		if off := g.interiorOff[i]; off >= g.objSize[t] || uint64(off) == userOffset(g.objFlags[t]) {
			return fmt.Errorf("interior edge %d: offset %d in a %d B target with flags %b", i, off, g.objSize[t], g.objFlags[t])
		}
	}
	for i, o := range g.codeObj {
		if int(o) >= n || (i > 0 && o <= g.codeObj[i-1]) {
			return fmt.Errorf("code word %d names object %d", i, o)
		}
	}
	for i, s := range g.Samples {
		if int(s.Object) >= n || uint64(s.Offset) >= uint64(g.objSize[s.Object]) || int(s.Bucket) >= len(g.Buckets) ||
			(i > 0 && s.Object < g.Samples[i-1].Object) {
			return fmt.Errorf("sample %d: object %d offset %d bucket %d", i, s.Object, s.Offset, s.Bucket)
		}
	}
	for i, fr := range g.Frames {
		if int(fr.Goroutine) >= len(g.Goroutines) || int(fr.Root) >= r || g.roots[fr.Root].Kind != RootFrame ||
			g.roots[fr.Root].Index != uint32(i) || int(fr.Func) >= len(g.Funcs) {
			return fmt.Errorf("frame %d is inconsistent with its goroutine, root or function", i)
		}
	}
	next := FrameID(0)
	for i, gr := range g.Goroutines {
		if gr.FirstFrame != next {
			return fmt.Errorf("goroutine %d's frames start at %d, want %d", i, gr.FirstFrame, next)
		}
		for k := range gr.NumFrames {
			fr := g.Frames[gr.FirstFrame+FrameID(k)]
			if fr.Goroutine != GoroutineID(i) || fr.Depth != k {
				return fmt.Errorf("goroutine %d's frame %d has goroutine %d depth %d", i, k, fr.Goroutine, fr.Depth)
			}
		}
		next += FrameID(gr.NumFrames)
	}
	if int(next) != len(g.Frames) {
		return fmt.Errorf("goroutines own %d frames of %d", next, len(g.Frames))
	}
	for i, f := range g.Finalizers {
		if int(f.Root) >= r || g.roots[f.Root].Index != uint32(i) || (f.Object != NoObject && int(f.Object) >= n) {
			return fmt.Errorf("finalizer %d is inconsistent", i)
		}
	}
	for o := range n {
		if got, ok := g.FindObject(g.objBase[o] + uint64(g.objSize[o]) - 1); !ok || got != ObjectID(o) {
			return fmt.Errorf("FindObject misses the last byte of object %d", o)
		}
	}
	return nil
}
