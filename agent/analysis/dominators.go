package analysis

import (
	"slices"

	"github.com/heaptop/heaptop/agent/graph"
)

// Dominators by semi-NCA (see the package overview for the citations).
//
// Every array below is indexed by DFS number (0 is the pseudo-root), not by
// vertex, so the inner loops walk memory in order; vertex[] and dfnum[]
// translate. Names follow Lengauer and Tarjan: parent (in the DFS tree),
// semi (the semidominator's number), ancestor and label (the forest LINK
// and EVAL maintain), and idom. A DFS number is at most the number of
// vertices, below 2³².
//
// Step 1 numbers the vertices in DFS preorder with an explicit stack of
// (vertex, next successor). Step 2 builds the predecessors of each
// numbered vertex, by number, as compressed rows. Step 3 computes
// semidominators in decreasing DFS order: semi(w) = min over predecessors
// v of semi(EVAL(v)), then LINK(parent(w), w). Step 4 (the NCA step of
// semi-NCA) sets idom(w), in increasing order, to the nearest ancestor of
// parent(w) in the dominator tree built so far whose number is at most
// semi(w). Each step's arrays are freed as soon as the next does not need
// them.

// none is "no DFS number" in ancestor.
const none = ^uint32(0)

// dominance is phases 5 and 6's result.
type dominance struct {
	dominated bool
	// retained8[v] is vertex v's retained size in units of 8 bytes (every
	// object size is a multiple of 8); retainedBig holds those of 2³² units
	// (32 GiB) or more. 0 for vertices outside the dominator tree.
	retained8   []uint32
	retainedBig map[Vertex]uint64
	// The dominator tree's children of each vertex, by decreasing retained
	// size then vertex: children[childStart[v]:childStart[v+1]].
	childStart []uint32
	children   []Vertex
	// TreeVertices counts the vertices in the dominator tree.
	TreeVertices int
	Suspects     []SuspectRef
}

// Retained returns vertex v's retained size in bytes: its own size and that
// of everything it dominates (0 outside the dominator tree, which holds the
// live and finalizer-pending objects).
func (a *Analysis) Retained(v Vertex) uint64 {
	if !a.dominated {
		return 0
	}
	return a.retainedRaw(v)
}

func (a *Analysis) retainedRaw(v Vertex) uint64 {
	if r := a.retained8[v]; r != ^uint32(0) {
		return uint64(r) * 8
	}
	return a.retainedBig[v]
}

// Children returns v's children in the dominator tree, by decreasing
// retained size (do not modify).
func (a *Analysis) Children(v Vertex) []Vertex {
	if !a.dominated {
		return nil
	}
	return a.children[a.childStart[v]:a.childStart[v+1]:a.childStart[v+1]]
}

// Shallow returns a vertex's own size: an object's, 0 for the others.
func (a *Analysis) Shallow(v Vertex) uint64 {
	if o, ok := a.VertexObject(v); ok {
		_, size := a.g.Object(o)
		return uint64(size)
	}
	return 0
}

// succs returns v's successors: an object's targets, or an upper vertex's
// (exactly one of the two is non-nil when there are any).
func (a *Analysis) succs(v Vertex) (objects []graph.ObjectID, up []uint32) {
	if o, ok := a.VertexObject(v); ok {
		t, _ := a.g.Edges(a.g.ObjectVertex(o))
		return t, nil
	}
	t, _, _ := a.upEdges(v)
	return nil, t
}

// dominate computes the dominator tree and the retained sizes (phase 5).
func (a *Analysis) dominate() {
	mem := a.mem
	nv := a.numVertices

	// Step 1: DFS numbering.
	dfnum := graph.Make[uint32](mem, nv, 0) // vertex -> number+1, 0 = not reached
	vertex := graph.Make[uint32](mem, 0, 1024)
	parent := graph.Make[uint32](mem, 0, 1024)
	stackV := graph.Make[uint32](mem, 0, 1024)
	stackC := graph.Make[uint32](mem, 0, 1024)
	visit := func(v Vertex, p uint32) {
		dfnum[v] = uint32(len(vertex)) + 1
		vertex = graph.Append(mem, vertex, uint32(v))
		parent = graph.Append(mem, parent, p)
		stackV = graph.Append(mem, stackV, uint32(v))
		stackC = graph.Append(mem, stackC, 0)
	}
	visit(PseudoRoot, 0)
	for len(stackV) > 0 {
		top := len(stackV) - 1
		v, c := Vertex(stackV[top]), stackC[top]
		objs, up := a.succs(v)
		var w Vertex
		switch {
		case int(c) < len(objs):
			w = a.ObjectVertex(objs[c])
		case int(c) < len(up):
			w = Vertex(up[c])
		default:
			stackV, stackC = stackV[:top], stackC[:top]
			continue
		}
		stackC[top]++
		if dfnum[w] == 0 {
			visit(w, dfnum[v]-1)
		}
	}
	graph.Free(mem, stackV)
	graph.Free(mem, stackC)
	n := len(vertex)
	a.TreeVertices = n

	// Step 2: predecessors by number.
	predStart := graph.Make[uint32](mem, n+1, 0)
	for _, v := range vertex {
		objs, up := a.succs(Vertex(v))
		for _, t := range objs {
			predStart[dfnum[a.ObjectVertex(t)]]++ // number+1: counts land one slot up
		}
		for _, t := range up {
			predStart[dfnum[t]]++
		}
	}
	for i := 1; i <= n; i++ {
		predStart[i] += predStart[i-1]
	}
	pred := graph.Make[uint32](mem, int(predStart[n]), 0)
	fill := graph.Make[uint32](mem, n, 0)
	copy(fill, predStart[:n])
	for i, v := range vertex {
		add := func(w Vertex) {
			k := dfnum[w] - 1
			pred[fill[k]] = uint32(i)
			fill[k]++
		}
		objs, up := a.succs(Vertex(v))
		for _, t := range objs {
			add(a.ObjectVertex(t))
		}
		for _, t := range up {
			add(Vertex(t))
		}
	}
	graph.Free(mem, fill)
	graph.Free(mem, dfnum)

	// Step 3: semidominators.
	semi := graph.Make[uint32](mem, n, 0)
	label := graph.Make[uint32](mem, n, 0)
	ancestor := graph.Make[uint32](mem, n, 0)
	for i := range n {
		semi[i], label[i], ancestor[i] = uint32(i), uint32(i), none
	}
	ev := evaluator{semi: semi, label: label, ancestor: ancestor}
	for w := n - 1; w >= 1; w-- {
		for _, v := range pred[predStart[w]:predStart[w+1]] {
			if u := ev.eval(v); semi[u] < semi[w] {
				semi[w] = semi[u]
			}
		}
		ancestor[w] = parent[w] // LINK(parent(w), w)
	}
	graph.Free(mem, pred)
	graph.Free(mem, predStart)
	graph.Free(mem, label)
	graph.Free(mem, ancestor)

	// Step 4: immediate dominators, as the nearest common ancestor.
	idom := graph.Make[uint32](mem, n, 0)
	for w := 1; w < n; w++ {
		d := parent[w]
		for d > semi[w] {
			d = idom[d]
		}
		idom[w] = d
	}
	graph.Free(mem, semi)
	graph.Free(mem, parent)

	a.retainTree(vertex, idom)
	graph.Free(mem, idom)
	graph.Free(mem, vertex)
	a.dominated = true
}

// evaluator is Lengauer and Tarjan's forest with path compression (their
// "simple" version: LINK sets ancestor, EVAL compresses).
type evaluator struct {
	semi, label, ancestor []uint32
	path                  []uint32 // COMPRESS's work stack
}

// eval returns, of the vertices on v's path in the forest (v included, its
// root excluded), the one whose semidominator has the least number.
func (e *evaluator) eval(v uint32) uint32 {
	if e.ancestor[v] == none {
		return v
	}
	// COMPRESS(v), iteratively: walk up to the vertex below the root's
	// child, then update labels and ancestors from the top down.
	e.path = e.path[:0]
	for u := v; e.ancestor[e.ancestor[u]] != none; u = e.ancestor[u] {
		e.path = append(e.path, u)
	}
	for k := len(e.path) - 1; k >= 0; k-- {
		u := e.path[k]
		p := e.ancestor[u]
		if e.semi[e.label[p]] < e.semi[e.label[u]] {
			e.label[u] = e.label[p]
		}
		e.ancestor[u] = e.ancestor[p]
	}
	return e.label[v]
}

// retainTree sums retained sizes up the dominator tree (given by DFS number:
// vertex[i] and idom[i]) and stores each vertex's children.
func (a *Analysis) retainTree(vertex, idom []uint32) {
	mem := a.mem
	n := len(vertex)
	ret := graph.Make[uint64](mem, n, 0)
	for i, v := range vertex {
		ret[i] = a.Shallow(Vertex(v))
	}
	for w := n - 1; w >= 1; w-- { // idom(w) < w: children before parents
		ret[idom[w]] += ret[w]
	}
	a.retained8 = graph.Make[uint32](mem, a.numVertices, 0)
	a.retainedBig = map[Vertex]uint64{}
	for i, v := range vertex {
		if r := ret[i] / 8; r < uint64(^uint32(0)) {
			a.retained8[v] = uint32(r)
		} else {
			a.retained8[v] = ^uint32(0)
			a.retainedBig[Vertex(v)] = ret[i]
		}
	}
	graph.Free(mem, ret)

	a.childStart = graph.Make[uint32](mem, a.numVertices+1, 0)
	for w := 1; w < n; w++ {
		a.childStart[vertex[idom[w]]+1]++
	}
	for v := 1; v <= a.numVertices; v++ {
		a.childStart[v] += a.childStart[v-1]
	}
	a.children = graph.Make[Vertex](mem, n-1, 0)
	fill := graph.Make[uint32](mem, a.numVertices, 0)
	copy(fill, a.childStart[:a.numVertices])
	for w := 1; w < n; w++ {
		p := vertex[idom[w]]
		a.children[fill[p]] = Vertex(vertex[w])
		fill[p]++
	}
	graph.Free(mem, fill)
	for v := range a.numVertices {
		if c := a.children[a.childStart[v]:a.childStart[v+1]]; len(c) > 1 {
			slices.SortFunc(c, func(x, y Vertex) int {
				rx, ry := a.retainedRaw(x), a.retainedRaw(y)
				if rx != ry {
					return cmpU64(ry, rx)
				}
				return cmpU64(uint64(x), uint64(y))
			})
		}
	}
}
