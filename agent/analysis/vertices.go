package analysis

import (
	"github.com/heaptop/heaptop/agent/graph"
)

// Vertex numbers the analysis graph: the pseudo-root, the groups, the
// holders, then the objects (see the package overview).
type Vertex uint32

// PseudoRoot is the vertex above every root.
const PseudoRoot Vertex = 0

// noVertex is no vertex at all.
const noVertex = ^Vertex(0)

// noEdge marks an edge the graph does not have: a group's or the
// pseudo-root's, or a finalizer record's edge to the object it was set on.
const noEdge = ^graph.EdgeID(0)

// Group is a top-level group of roots, as the heap tree shows them.
type Group uint8

const (
	Globals Group = iota
	Goroutines
	Finalizers
	RuntimeRoots
	numGroups
)

var groupNames = [numGroups]string{"globals", "goroutines", "finalizers", "runtime"}

func (gr Group) String() string { return groupNames[gr] }

// Vertex is the group's vertex.
func (gr Group) Vertex() Vertex { return Vertex(1 + gr) }

// Group returns the group a vertex stands for, if it is one.
func (v Vertex) Group() (Group, bool) {
	if v == PseudoRoot || v >= firstHolder {
		return 0, false
	}
	return Group(v - 1), true
}

// firstHolder is the first holder's vertex.
const firstHolder = Vertex(1 + numGroups)

// HolderKind says what a holder is.
type HolderKind uint8

const (
	// GlobalHolder: one global variable, or a whole data or bss segment
	// when the binary has no symbols.
	GlobalHolder HolderKind = iota + 1
	// GoroutineHolder: a goroutine's frames and closure context.
	GoroutineHolder
	// FinalizerHolder: one finalizer record, queued or not.
	FinalizerHolder
	// RuntimeHolder: the runtime's cleanups or weak handles.
	RuntimeHolder
)

// Holder is one root as a Go engineer counts roots.
type Holder struct {
	Kind  HolderKind
	Group Group
	// Name is a GlobalHolder's variable ("main.cache", "net/http.DefaultTransport")
	// or segment ("data", "bss").
	Name string
	// Addr is the variable's (or segment's) start, the goroutine's g, or
	// the pointer the finalizer was set on.
	Addr uint64
	// Root is the holder's first root; Goroutine a GoroutineHolder's
	// goroutine, Finalizer a FinalizerHolder's index in Graph.Finalizers.
	Root      graph.RootID
	Goroutine graph.GoroutineID
	Finalizer uint32
}

// Analysis is what the analysis of one graph learnt. It is written by
// Analyse and then by Dominate, on the goroutine that calls them (never
// concurrently), and is read-only after Dominate returns; until then only
// the fields Analyse documents as ready may be read by other goroutines.
// Its big arrays live in mapped memory (graph.Mem), released by Close.
type Analysis struct {
	g     *graph.Graph
	names Names
	pkgs  Packages
	mem   *graph.Mem

	// Holders, by Vertex - firstHolder.
	Holders     []Holder
	firstObject Vertex
	numVertices int

	// The successors of the vertices below firstObject (pseudo-root,
	// groups, holders), as compressed rows: upTarget[upStart[v]:upStart[v+1]].
	// A holder's edge carries the graph root vertex holding it (upFrom)
	// and its graph.EdgeID (upEdge, noEdge for a finalizer record's edge to
	// its object); upStrong marks the edges stage (a) follows.
	upStart  []uint32
	upTarget []uint32
	upFrom   []uint32
	upEdge   []uint32
	upStrong []uint8

	reach     // phase 1
	hidden    // phase 2
	leaks     // phase 3
	tally     // phase 4
	dominance // phases 5 and 6

	// The Memories Analyse read and wrote, until Complete uses them.
	previous, next *Memory

	Stats Stats
}

// ObjectVertex and VertexObject convert between objects and vertices.
func (a *Analysis) ObjectVertex(o graph.ObjectID) Vertex { return a.firstObject + Vertex(o) }

func (a *Analysis) VertexObject(v Vertex) (graph.ObjectID, bool) {
	if v < a.firstObject || int(v) >= a.numVertices {
		return graph.NoObject, false
	}
	return graph.ObjectID(v - a.firstObject), true
}

// Holder returns the holder a vertex stands for, if it is one.
func (a *Analysis) Holder(v Vertex) (*Holder, bool) {
	if v < firstHolder || v >= a.firstObject {
		return nil, false
	}
	return &a.Holders[v-firstHolder], true
}

// NumVertices is the number of vertices.
func (a *Analysis) NumVertices() int { return a.numVertices }

// Graph is the graph analysed.
func (a *Analysis) Graph() *graph.Graph { return a.g }

// upEdges returns the successors of an upper vertex with, for a holder's,
// the graph root vertex and edge holding each.
func (a *Analysis) upEdges(v Vertex) (targets, from, edges []uint32) {
	i, j := a.upStart[v], a.upStart[v+1]
	return a.upTarget[i:j], a.upFrom[i:j], a.upEdge[i:j]
}

// holderEdge is one edge of a holder while the holders are built.
type holderEdge struct {
	from   graph.Vertex
	edge   graph.EdgeID
	target graph.ObjectID
	strong bool
}

// buildHolder is a holder while the holders are built.
type buildHolder struct {
	Holder
	edges []holderEdge
}

// holderClass orders holders for the breadth-first search: on a tie in
// path length the earlier class wins (see the package overview).
type holderClass uint8

const (
	userGlobals holderClass = iota
	userGoroutines
	otherGlobals
	segmentGlobals
	runtimeGlobals
	systemGoroutines
	runtimeRoots
	finalizerRecords
	numHolderClasses
)

// buildVertices makes the holders and the upper vertices' rows.
func (a *Analysis) buildVertices() {
	g := a.g
	var classes [numHolderClasses][]buildHolder
	add := func(c holderClass, h buildHolder) *buildHolder {
		classes[c] = append(classes[c], h)
		return &classes[c][len(classes[c])-1]
	}
	edgesOf := func(r graph.RootID, strong func(off uint64) bool) []holderEdge {
		v := g.RootVertex(r)
		targets, first := g.Edges(v)
		out := make([]holderEdge, len(targets))
		for i, t := range targets {
			e := first + graph.EdgeID(i)
			out[i] = holderEdge{from: v, edge: e, target: t, strong: strong == nil || strong(g.EdgeOffset(v, e))}
		}
		return out
	}
	ctxt := map[graph.GoroutineID]graph.RootID{}
	for r := range g.NumRoots() {
		root := g.Root(graph.RootID(r))
		switch root.Kind {
		case graph.RootData, graph.RootBSS:
			a.globalHolders(graph.RootID(r), add)
		case graph.RootGoroutineCtxt:
			ctxt[graph.GoroutineID(root.Index)] = graph.RootID(r)
		case graph.RootFinalizer, graph.RootQueuedFinalizer:
			f := g.Finalizers[root.Index]
			var strong func(uint64) bool
			if root.Kind == graph.RootFinalizer {
				strong = func(off uint64) bool { return off == 0 } // the function
			} else {
				strong = func(uint64) bool { return false }
			}
			h := add(finalizerRecords, buildHolder{Holder: Holder{Kind: FinalizerHolder, Group: Finalizers,
				Addr: f.Obj, Root: graph.RootID(r), Finalizer: root.Index}, edges: edgesOf(graph.RootID(r), strong)})
			if f.Object != graph.NoObject {
				h.edges = append(h.edges, holderEdge{from: g.RootVertex(graph.RootID(r)), edge: noEdge, target: f.Object})
			}
		case graph.RootCleanups, graph.RootWeakHandles:
			add(runtimeRoots, buildHolder{Holder: Holder{Kind: RuntimeHolder, Group: RuntimeRoots,
				Name: root.Kind.String(), Root: graph.RootID(r)}, edges: edgesOf(graph.RootID(r), nil)})
		}
	}
	for gid := range g.Goroutines {
		gr := &g.Goroutines[gid]
		h := buildHolder{Holder: Holder{Kind: GoroutineHolder, Group: Goroutines, Addr: gr.Addr, Goroutine: graph.GoroutineID(gid)}}
		c := userGoroutines
		if gr.System {
			h.Group, c = RuntimeRoots, systemGoroutines
		}
		for f := gr.FirstFrame; f < gr.FirstFrame+graph.FrameID(gr.NumFrames); f++ {
			if f == gr.FirstFrame {
				h.Root = g.Frames[f].Root
			}
			h.edges = append(h.edges, edgesOf(g.Frames[f].Root, nil)...)
		}
		if r, ok := ctxt[graph.GoroutineID(gid)]; ok {
			if gr.NumFrames == 0 {
				h.Root = r
			}
			h.edges = append(h.edges, edgesOf(r, nil)...)
		}
		if gr.NumFrames > 0 || len(h.edges) > 0 {
			add(c, h)
		}
	}

	// Number the holders, then lay out the rows: pseudo-root, groups,
	// holders (objects have the graph's own rows).
	var all []buildHolder
	for _, c := range classes {
		all = append(all, c...)
	}
	a.Holders = make([]Holder, len(all))
	a.firstObject = firstHolder + Vertex(len(all))
	a.numVertices = int(a.firstObject) + g.NumObjects()
	var byGroup [numGroups][]Vertex
	nEdges := int(numGroups)
	for i, h := range all {
		a.Holders[i] = h.Holder
		byGroup[h.Group] = append(byGroup[h.Group], firstHolder+Vertex(i))
		nEdges += 1 + len(h.edges)
	}
	a.upStart = graph.Make[uint32](a.mem, int(a.firstObject)+1, 0)
	a.upTarget = graph.Make[uint32](a.mem, 0, nEdges)
	a.upFrom = graph.Make[uint32](a.mem, 0, nEdges)
	a.upEdge = graph.Make[uint32](a.mem, 0, nEdges)
	a.upStrong = graph.Make[uint8](a.mem, 0, nEdges)
	push := func(t Vertex, from graph.Vertex, e graph.EdgeID, strong bool) {
		a.upTarget = append(a.upTarget, uint32(t))
		a.upFrom = append(a.upFrom, uint32(from))
		a.upEdge = append(a.upEdge, uint32(e))
		a.upStrong = append(a.upStrong, b2u8(strong))
	}
	a.upStart[PseudoRoot] = 0
	for gr := range numGroups {
		push(gr.Vertex(), graph.Vertex(noVertex), noEdge, true)
	}
	for gr := range numGroups {
		a.upStart[gr.Vertex()] = uint32(len(a.upTarget))
		for _, h := range byGroup[gr] {
			push(h, graph.Vertex(noVertex), noEdge, true)
		}
	}
	for i, h := range all {
		a.upStart[firstHolder+Vertex(i)] = uint32(len(a.upTarget))
		for _, e := range h.edges {
			push(a.ObjectVertex(e.target), e.from, e.edge, e.strong)
		}
	}
	a.upStart[a.firstObject] = uint32(len(a.upTarget))
}

// globalHolders splits a data or bss root into one holder per global
// variable its pointer words lie in (one holder for the segment without
// symbols), each classed by its package.
func (a *Analysis) globalHolders(r graph.RootID, add func(holderClass, buildHolder) *buildHolder) {
	g := a.g
	root := g.Root(r)
	v := g.RootVertex(r)
	targets, first := g.Edges(v)
	var cur *buildHolder
	for i, t := range targets {
		e := first + graph.EdgeID(i)
		addr := root.Addr + g.EdgeOffset(v, e)
		name, start, ok := a.names.Global(addr)
		if !ok {
			name, start = root.Kind.String(), root.Addr
		}
		if cur == nil || cur.Addr != start || cur.Name != name {
			h := buildHolder{Holder: Holder{Kind: GlobalHolder, Group: Globals, Name: name, Addr: start, Root: r}}
			c := segmentGlobals
			if ok {
				switch a.pkgs.OfSymbol(name) {
				case UserCode:
					c = userGlobals
				case RuntimeCode:
					c, h.Group = runtimeGlobals, RuntimeRoots
				default:
					c = otherGlobals
				}
			}
			cur = add(c, h)
		}
		cur.edges = append(cur.edges, holderEdge{from: v, edge: e, target: t, strong: true})
	}
}

func b2u8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
