package analysis

import (
	"fmt"
	"slices"

	"github.com/heaptop/heaptop/agent/graph"
)

// Dominators by semi-NCA (see the package overview for the citations).
//
// Every array below is indexed by DFS number (0 is the pseudo-root), not by
// vertex, so the inner loops walk memory in order; vertex[] and dfnum[]
// translate. Names follow Lengauer and Tarjan: parent (in the DFS tree),
// semi (the semidominator's number), ancestor (the forest LINK and EVAL
// maintain), and idom; best[v] stands for their semi(label(v)). A DFS
// number is at most the number of vertices, below 2³².
//
// Step 1 numbers the vertices in DFS preorder and counts each one's
// predecessors other than its DFS parent. Step 2 stores those by number as
// compressed rows, walking the vertices in their own order (the edges'
// order in memory). Step 3 computes semidominators in decreasing DFS
// order: semi(w) = the least of parent(w) and, over the other
// predecessors v, semi(EVAL(v)); then LINK(parent(w), w). Step 4 (the NCA
// step of semi-NCA) sets idom(w), in increasing order, to the nearest
// ancestor of parent(w) in the dominator tree built so far whose number
// is at most semi(w).
//
// At 10⁷ objects each array is tens of MiB, and the first touch of a fresh
// page costs more than most of the work on it (graph/offheap_linux.go): the
// arrays are sized once, and a step takes over the memory of an array an
// earlier one is done with rather than mapping more.

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

// dominate computes the dominator tree and the retained sizes (phase 5).
func (a *Analysis) dominate() {
	mem, g := a.mem, a.g
	// The DFS follows the edges phase 1 followed in stages (a) and (b),
	// from the same holders, so it numbers exactly the vertices those
	// reached: the upper vertices and the live and pending-finalizer
	// objects. Sizing the arrays once spares the copies and the fresh
	// pages of growing them.
	n := int(a.firstObject) + int(a.Totals[Live].Objects+a.Totals[PendingFinalizer].Objects)

	// Step 1: DFS numbering, with the current vertex's frame in variables
	// and a stack of the frames below it: a vertex's number and the range
	// of its successors still to follow (positions in upTarget for an upper
	// vertex, edge IDs for an object). Upper vertices point at objects,
	// never the reverse, so the upper frames are the stack's bottom ones. A
	// frame is saved only when its vertex has successors left, so a chain
	// of objects leaves the stack as it was. Every edge is met once here:
	// one to a vertex already numbered is counted as a predecessor for step
	// 2, unless it comes from that vertex's DFS parent (step 3 starts each
	// semidominator there).
	dfnum := graph.Make[uint32](mem, a.numVertices, 0) // vertex -> number+1, 0 = not reached
	vertex := graph.Make[Vertex](mem, n, 0)
	parent := graph.Make[uint32](mem, n, 0)
	predStart := graph.Make[uint32](mem, a.numVertices+2, 0) // n+2 used; the rest for retainTree
	stack := newFrames(mem)
	dfnum[PseudoRoot] = 1
	num, pos, end, up, upper := uint32(0), a.upStart[PseudoRoot], a.upStart[PseudoRoot+1], true, 0
	next := uint32(1)
	for {
		if pos == end {
			var ok bool
			if num, pos, end, ok = stack.pop(); !ok {
				break
			}
			if up = stack.len() < upper; up {
				upper--
			}
			continue
		}
		var w Vertex
		if up {
			w = Vertex(a.upTarget[pos])
		} else {
			w = a.ObjectVertex(g.EdgeTarget(graph.EdgeID(pos)))
		}
		pos++
		if d := dfnum[w]; d != 0 {
			if parent[d-1] != num {
				predStart[d+1]++ // counts land two slots up: see step 2
			}
			continue
		}
		if pos < end {
			stack.push(num, pos, end)
			if up {
				upper++
			}
		}
		dfnum[w], vertex[next], parent[next] = next+1, w, num
		num, next = next, next+1
		if o, ok := a.VertexObject(w); ok {
			t, first := g.Edges(g.ObjectVertex(o))
			pos, end, up = uint32(first), uint32(first)+uint32(len(t)), false
		} else {
			pos, end, up = a.upStart[w], a.upStart[w+1], true
		}
	}
	stack.free()
	if int(next) != n {
		panic(fmt.Sprintf("analysis: the dominators' search reached %d vertices, the states' %d", next, n))
	}
	a.TreeVertices = n

	// Step 2: the predecessors step 1 counted, by number, as compressed
	// rows, in vertex order (the edges' own order in memory). After the
	// prefix sums row k starts at predStart[k+1], which filling advances
	// to its end, the next row's start: row k is then
	// pred[predStart[k]:predStart[k+1]].
	for k := 2; k < n+2; k++ {
		predStart[k] += predStart[k-1]
	}
	pred := graph.Make[uint32](mem, int(predStart[n+1]), 0)
	add := func(from uint32, w Vertex) {
		if k := dfnum[w] - 1; parent[k] != from {
			pred[predStart[k+1]] = from
			predStart[k+1]++
		}
	}
	for v := range a.firstObject {
		if d := dfnum[v]; d != 0 {
			targets, _, _ := a.upEdges(v)
			for _, t := range targets {
				add(d-1, Vertex(t))
			}
		}
	}
	for o := range graph.ObjectID(g.NumObjects()) {
		if d := dfnum[a.ObjectVertex(o)]; d != 0 {
			targets, _ := g.Edges(g.ObjectVertex(o))
			for _, t := range targets {
				add(d-1, a.ObjectVertex(t))
			}
		}
	}

	// Step 3: semidominators, in decreasing order. Of the vertex EVAL
	// returns (label(v), of least semidominator on v's compressed path)
	// only the semidominator is used: best[v] holds that number, in
	// dfnum's memory. Once w's row of predecessors is read, its end
	// predStart[w+1] is free for semi(w): semi[w] aliases it.
	best := dfnum[:n]
	ancestor := graph.Make[uint32](mem, n, 0)
	for i := range n {
		best[i], ancestor[i] = uint32(i), none
	}
	semi := predStart[1 : n+1]
	ev := evaluator{best: best, ancestor: ancestor}
	for w := n - 1; w >= 1; w-- {
		s := parent[w]
		for _, v := range pred[predStart[w]:predStart[w+1]] {
			s = min(s, ev.eval(v))
		}
		semi[w], best[w] = s, s
		ancestor[w] = parent[w] // LINK(parent(w), w)
	}
	graph.Free(mem, pred)

	// Step 4: immediate dominators, as the nearest common ancestor, in
	// ancestor's memory.
	idom := ancestor
	idom[0] = 0
	for w := 1; w < n; w++ {
		d := parent[w]
		for d > semi[w] {
			d = idom[d]
		}
		idom[w] = d
	}

	a.retainTree(vertex, idom, parent, dfnum, predStart)
	graph.Free(mem, idom)
	graph.Free(mem, vertex)
	a.dominated = true
}

// frames is a walk's stack of saved frames, three numbers each, in mapped
// memory (a walk down a long chain must not grow the Go heap).
type frames struct {
	mem *graph.Mem
	s   []uint32
}

func newFrames(mem *graph.Mem) frames { return frames{mem: mem, s: graph.Make[uint32](mem, 0, 3*1024)} }

func (f *frames) push(x, y, z uint32) {
	f.s = graph.Append(f.mem, f.s, x)
	f.s = graph.Append(f.mem, f.s, y)
	f.s = graph.Append(f.mem, f.s, z)
}

// pop removes the top frame; ok is false when there is none.
func (f *frames) pop() (x, y, z uint32, ok bool) {
	top := len(f.s) - 3
	if top < 0 {
		return 0, 0, 0, false
	}
	x, y, z = f.s[top], f.s[top+1], f.s[top+2]
	f.s = f.s[:top]
	return x, y, z, true
}

// len is the number of frames.
func (f *frames) len() int { return len(f.s) / 3 }

func (f *frames) free() { graph.Free(f.mem, f.s) }

// evaluator is Lengauer and Tarjan's forest with path compression (their
// "simple" version: LINK sets ancestor, EVAL compresses), keeping for each
// vertex the least semidominator number on its path rather than the vertex
// that has it.
type evaluator struct {
	best, ancestor []uint32
	path           []uint32 // COMPRESS's work stack
}

// eval returns, of the vertices on v's path in the forest (v included, its
// root excluded), the least semidominator number; v's own number when v is
// a root (not yet processed, its semidominator is itself).
func (e *evaluator) eval(v uint32) uint32 {
	if e.ancestor[v] == none {
		return v
	}
	// COMPRESS(v), iteratively: walk up to the vertex below the root's
	// child, then update bests and ancestors from the top down.
	e.path = e.path[:0]
	for u := v; e.ancestor[e.ancestor[u]] != none; u = e.ancestor[u] {
		e.path = append(e.path, u)
	}
	for k := len(e.path) - 1; k >= 0; k-- {
		u := e.path[k]
		p := e.ancestor[u]
		e.best[u] = min(e.best[u], e.best[p])
		e.ancestor[u] = e.ancestor[p]
	}
	return e.best[v]
}

// retainTree sums retained sizes up the dominator tree (given by DFS number:
// vertex[i] and idom[i]), gives the census rows theirs, and stores each
// vertex's children. It rewrites idom and takes over arrays the caller is
// done with: own (as long as vertex) for the sums, which it frees, and
// byVertex (numVertices long) and rows (numVertices+2), which first hold
// the tree by number and then the retained sizes and the children's rows
// the analysis keeps.
func (a *Analysis) retainTree(vertex []Vertex, idom, own, byVertex, rows []uint32) {
	nv, n := a.numVertices, len(vertex)
	// Retained sizes by number in 8-byte units (object sizes are size
	// classes or whole pages), summed children before parents
	// (idom(w) < w); big holds those of 2³² units or more.
	ret := own
	for i, v := range vertex {
		ret[i] = uint32(a.Shallow(v) / 8)
	}
	big := map[uint32]uint64{}
	units := func(k uint32) uint64 {
		if r := ret[k]; r != ^uint32(0) {
			return uint64(r)
		}
		return big[k]
	}
	for w := uint32(n) - 1; w >= 1; w-- {
		p := idom[w]
		if r := units(p) + units(w); r < uint64(^uint32(0)) {
			ret[p] = uint32(r)
		} else {
			ret[p], big[p] = ^uint32(0), r
		}
	}

	// The tree by number, each row in Children's order, for the census
	// rows' walk: by number a chain of objects lies mostly in memory
	// order, where by vertex each step is a cache miss or two.
	start, kids := rows[:n+2], byVertex[:n-1]
	clear(start)
	fillRows(idom, start, func(i uint32, w int) { kids[i] = uint32(w) })
	for k := range n {
		if c := kids[start[k]:start[k+1]]; len(c) > 1 {
			slices.SortFunc(c, func(x, y uint32) int {
				if rx, ry := units(x), units(y); rx != ry {
					return cmpU64(ry, rx)
				}
				return cmpU64(uint64(vertex[x]), uint64(vertex[y]))
			})
		}
	}
	a.retainTypeSites(vertex, start, kids, func(k uint32) uint64 { return units(k) * 8 })

	a.retained8 = byVertex[:nv]
	clear(a.retained8)
	a.retainedBig = map[Vertex]uint64{}
	for i, v := range vertex {
		a.retained8[v] = ret[i]
		if ret[i] == ^uint32(0) {
			a.retainedBig[v] = big[uint32(i)] * 8
		}
	}
	graph.Free(a.mem, own) // for the children: a snapshot maps its memory again

	// The children by vertex, in the same order.
	for w := 1; w < n; w++ {
		idom[w] = uint32(vertex[idom[w]])
	}
	childStart, children := rows[:nv+2], graph.Make[Vertex](a.mem, n-1, 0)
	clear(childStart)
	fillRows(idom, childStart, func(i uint32, w int) { children[i] = vertex[w] })
	a.childStart, a.children = childStart[:nv+1], children
	for v := range nv {
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

// fillRows lays out the items w = 1..len(key)-1 as compressed rows by
// key[w], in increasing w: put(i, w) stores item w at position i, and row
// k is then positions start[k]:start[k+1]. start must be zeroed and two
// longer than the number of rows: counts land two slots up, so that after
// the prefix sums filling advances each row's start to the next one's.
func fillRows(key, start []uint32, put func(i uint32, w int)) {
	for w := 1; w < len(key); w++ {
		start[key[w]+2]++
	}
	for k := 2; k < len(start); k++ {
		start[k] += start[k-1]
	}
	for w := 1; w < len(key); w++ {
		k := key[w] + 1
		put(start[k], w)
		start[k]++
	}
}

// retainTypeSites fills each TypeSite's Retained and Example from the
// dominator tree, given by number (the children of k are
// kids[start[k]:start[k+1]], in Children's order): a member counts when
// no other member is above it in the tree, so the set's retained size is
// never counted twice.
//
// The walk is a preorder of the tree. A frame holds a vertex's children
// still to walk and its depth, and goes when its last child is taken, so
// a chain of single children leaves the stack as it was. on[r] says a
// member of row r is on the path from the root: a member below it does
// not count. Only that first member has to be taken off the path, which
// the walk does as it next enters a vertex no deeper than it: tops lists
// those members (at most one per row).
func (a *Analysis) retainTypeSites(vertex []Vertex, start, kids []uint32, retained func(k uint32) uint64) {
	on := make([]bool, len(a.TypeSites))
	best := make([]uint64, len(a.TypeSites))
	type top struct{ row, depth uint32 }
	var tops []top
	stack := newFrames(a.mem)
	pos, end, depth := start[0], start[1], uint32(0)
	for {
		if pos == end {
			var ok bool
			if pos, end, depth, ok = stack.pop(); !ok {
				break
			}
			continue
		}
		c, d := kids[pos], depth+1
		pos++
		for len(tops) > 0 && tops[len(tops)-1].depth >= d {
			on[tops[len(tops)-1].row] = false
			tops = tops[:len(tops)-1]
		}
		if o, ok := a.VertexObject(vertex[c]); ok {
			if r := a.typeSiteOf[o]; !on[r] {
				on[r] = true
				tops = append(tops, top{row: r, depth: d})
				ret := retained(c)
				a.TypeSites[r].Retained += ret
				if ret > best[r] {
					best[r] = ret
					a.TypeSites[r].Example = o
				}
			}
		}
		if lo, hi := start[c], start[c+1]; lo < hi {
			if pos < end {
				stack.push(pos, end, depth)
			}
			pos, end, depth = lo, hi, d
		}
	}
	stack.free()
}
