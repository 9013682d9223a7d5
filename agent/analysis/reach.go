package analysis

import (
	"github.com/heaptop/heaptop/agent/graph"
)

// State is what the GC will do with an object (design.md §3). The zero
// value is what an object is until the search reaches it.
type State uint8

const (
	// Pending: unreachable from every root; the next GC frees it.
	Pending State = iota
	// Live: reachable from a root along edges the GC follows.
	Live
	// PendingFinalizer: reachable only through finalizer records.
	PendingFinalizer
	// Weak: reachable only through weak-pointer handles.
	Weak
	numStates
)

var stateNames = [numStates]string{"pending", "live", "pending finalizer", "weakly held"}

func (s State) String() string { return stateNames[s] }

// reach is phase 1's result.
type reach struct {
	// state[o] is object o's State.
	state []State
	// parent[v] is the vertex before v on its path from the pseudo-root:
	// a group's is the pseudo-root, a holder's its group, an object's the
	// holder or object the search reached it from (for a weakly held
	// object, the weak handle whose word names it). Pending objects have
	// parent 0: no object is reached from the pseudo-root directly.
	parent []uint32
	// Totals per state.
	Totals [numStates]struct{ Objects, Bytes uint64 }
}

// State returns object o's state.
func (a *Analysis) State(o graph.ObjectID) State { return a.state[o] }

// Parent returns the vertex before v on its path from the pseudo-root, and
// false when v has none (the pseudo-root, a pending object).
func (a *Analysis) Parent(v Vertex) (Vertex, bool) {
	p := Vertex(a.parent[v])
	if v == PseudoRoot || (p == PseudoRoot && v >= a.firstObject) {
		return noVertex, false
	}
	return p, true
}

// Path returns the vertices from the pseudo-root's group to v (the group
// first, v last), or nil when v is unreachable.
func (a *Analysis) Path(v Vertex) []Vertex {
	if o, ok := a.VertexObject(v); ok && a.state[o] == Pending {
		return nil
	}
	var path []Vertex
	for v != PseudoRoot {
		path = append(path, v)
		p, ok := a.Parent(v)
		if !ok {
			return nil
		}
		v = p
	}
	for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
		path[i], path[j] = path[j], path[i]
	}
	return path
}

// search is a breadth-first search over the analysis graph.
type search struct {
	a     *Analysis
	queue []uint32 // in mem, as long as the vertices
	head  int
}

// reachAll computes every object's state and its path parent (phase 1).
func (a *Analysis) reachAll() {
	a.state = graph.Make[State](a.mem, a.g.NumObjects(), 0)
	a.parent = graph.Make[uint32](a.mem, a.numVertices, 0)
	s := &search{a: a, queue: graph.Make[uint32](a.mem, 0, a.numVertices)}
	defer graph.Free(a.mem, s.queue)

	for gr := range numGroups {
		a.parent[gr.Vertex()] = uint32(PseudoRoot)
		targets, _, _ := a.upEdges(gr.Vertex())
		for _, h := range targets {
			a.parent[h] = uint32(gr.Vertex())
		}
	}
	// (a) Every holder but the finalizer records, and their functions.
	for h := firstHolder; h < a.firstObject; h++ {
		s.queue = append(s.queue, uint32(h))
	}
	s.run(Live, true)
	// (b) The finalizer records, over what (a) left.
	for h := firstHolder; h < a.firstObject; h++ {
		if a.Holders[h-firstHolder].Kind == FinalizerHolder {
			s.queue = append(s.queue, uint32(h))
		}
	}
	s.run(PendingFinalizer, false)
	// (c) The targets of weak handles, over what (a) and (b) left.
	for _, w := range a.g.Hidden {
		if w.Kind != graph.HiddenWeakHandle {
			continue
		}
		handle, ok := a.g.VertexObject(w.Holder)
		if !ok || a.state[handle] != Live {
			continue
		}
		if t, ok := a.g.FindObject(w.Value); ok && a.state[t] == Pending {
			a.state[t] = Weak
			a.parent[a.ObjectVertex(t)] = uint32(a.ObjectVertex(handle))
			s.queue = append(s.queue, uint32(a.ObjectVertex(t)))
		}
	}
	s.run(Weak, false)

	for o := range a.g.NumObjects() {
		_, size := a.g.Object(graph.ObjectID(o))
		t := &a.Totals[a.state[o]]
		t.Objects++
		t.Bytes += uint64(size)
	}
}

// run empties the queue, giving every object it reaches that no earlier
// stage reached the state st; strongOnly follows only the holders' edges
// stage (a) follows.
func (s *search) run(st State, strongOnly bool) {
	a, g := s.a, s.a.g
	visit := func(from Vertex, t graph.ObjectID) {
		if a.state[t] != Pending {
			return
		}
		a.state[t] = st
		w := a.ObjectVertex(t)
		a.parent[w] = uint32(from)
		s.queue = append(s.queue, uint32(w))
	}
	for ; s.head < len(s.queue); s.head++ {
		v := Vertex(s.queue[s.head])
		if o, ok := a.VertexObject(v); ok {
			targets, _ := g.Edges(g.ObjectVertex(o))
			for _, t := range targets {
				visit(v, t)
			}
			continue
		}
		lo, hi := a.upStart[v], a.upStart[v+1]
		for i := lo; i < hi; i++ {
			if strongOnly && a.upStrong[i] == 0 {
				continue
			}
			o, _ := a.VertexObject(Vertex(a.upTarget[i]))
			visit(v, o)
		}
	}
	s.queue, s.head = s.queue[:0], 0
}

// LinkKind says how one vertex of a path holds the next.
type LinkKind uint8

const (
	// LinkEdge: a pointer word, From's edge Edge (From is an object's or a
	// root's graph vertex).
	LinkEdge LinkKind = iota + 1
	// LinkFinalized: a finalizer record and the object it was set on.
	LinkFinalized
	// LinkWeak: a weak handle and its target: a word that is no pointer.
	LinkWeak
	// LinkGroup: the pseudo-root and a group, or a group and a holder.
	LinkGroup
)

// Link says how vertex from holds vertex to.
type Link struct {
	Kind LinkKind
	From graph.Vertex
	Edge graph.EdgeID
}

// Link returns how from holds to, when it does: the first of from's edges
// to it, or the non-pointer link of a path (finalizer, weak handle).
func (a *Analysis) Link(from, to Vertex) (Link, bool) {
	g := a.g
	if o, ok := a.VertexObject(from); ok {
		t, ok := a.VertexObject(to)
		if !ok {
			return Link{}, false
		}
		v := g.ObjectVertex(o)
		targets, first := g.Edges(v)
		for i, x := range targets {
			if x == t {
				return Link{Kind: LinkEdge, From: v, Edge: first + graph.EdgeID(i)}, true
			}
		}
		if a.state[t] == Weak && Vertex(a.parent[to]) == from {
			return Link{Kind: LinkWeak, From: v, Edge: noEdge}, true
		}
		return Link{}, false
	}
	targets, froms, edges := a.upEdges(from)
	for i, x := range targets {
		if Vertex(x) != to {
			continue
		}
		switch {
		case from < firstHolder:
			return Link{Kind: LinkGroup, Edge: noEdge}, true
		case graph.EdgeID(edges[i]) == noEdge:
			return Link{Kind: LinkFinalized, From: graph.Vertex(froms[i]), Edge: noEdge}, true
		}
		return Link{Kind: LinkEdge, From: graph.Vertex(froms[i]), Edge: graph.EdgeID(edges[i])}, true
	}
	return Link{}, false
}
