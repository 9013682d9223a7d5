package analysis

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"unsafe"

	"github.com/heaptop/heaptop/agent/graph"
)

// treeNode is 32 bytes (size class 32): a node of a planted tree.
type treeNode struct {
	kids [treeFanout]*treeNode
	id   int
}

const (
	treeFanout = 3
	treeDepth  = 5
	numTrees   = 3
)

// treeNodes is the number of nodes of a tree of depth d.
func treeNodes(d int) int {
	if d == 0 {
		return 0
	}
	return 1 + treeFanout*treeNodes(d-1)
}

var plantedTrees [numTrees]*treeNode

func buildTree(depth int) *treeNode {
	n := &treeNode{}
	if depth > 1 {
		for i := range n.kids {
			n.kids[i] = buildTree(depth - 1)
		}
	}
	return n
}

// meshNode is 32 bytes: a node of a planted random graph.
type meshNode struct {
	out [3]*meshNode
	id  int
}

const meshNodes = 30000

var plantedMesh []*meshNode

// plantMesh builds a random graph whose dominators are not a tree's: the
// first node is held by a global, every node by the one before it, and
// random edges add cycles, diamonds and cross links.
func plantMesh() {
	r := rand.New(rand.NewPCG(5, 7))
	nodes := make([]*meshNode, meshNodes)
	for i := range nodes {
		nodes[i] = &meshNode{id: i}
	}
	for i, n := range nodes {
		if i+1 < len(nodes) && r.IntN(4) != 0 {
			n.out[0] = nodes[i+1]
		}
		n.out[1] = nodes[r.IntN(len(nodes))]
		if r.IntN(3) == 0 {
			n.out[2] = nodes[max(0, i-r.IntN(50))]
		}
	}
	plantedMesh = nodes[:1:1]
	runtime.KeepAlive(nodes)
}

func TestDominators(t *testing.T) {
	for i := range plantedTrees {
		plantedTrees[i] = buildTree(treeDepth)
	}
	plantMesh()
	a := analyse(t, true)

	t.Run("trees_depth5", func(t *testing.T) {
		want := uint64(treeNodes(treeDepth)) * uint64(unsafe.Sizeof(treeNode{}))
		for i, root := range plantedTrees {
			v := objectAt(t, a, uintptr(unsafe.Pointer(root)))
			if got := a.Retained(v); got != want {
				t.Errorf("tree %d retains %d bytes, want %d (%d nodes of %d B)", i, got, want, treeNodes(treeDepth), unsafe.Sizeof(treeNode{}))
			}
			// Each node is dominated by its parent in the tree.
			var walk func(n *treeNode, v Vertex)
			walk = func(n *treeNode, v Vertex) {
				for _, k := range n.kids {
					if k == nil {
						continue
					}
					kv := objectAt(t, a, uintptr(unsafe.Pointer(k)))
					if !contains(a.Children(v), kv) {
						t.Fatalf("tree %d: node %#x is not a child of %#x in the dominator tree", i, a.address(kv), a.address(v))
					}
					walk(k, kv)
				}
			}
			walk(root, v)
		}
	})

	t.Run("matches_iterative_reference", func(t *testing.T) { matchesReference(t, a) })
	runtime.KeepAlive(plantedTrees)
	runtime.KeepAlive(plantedMesh)
}

// matchesReference checks every vertex's parent in the dominator tree
// against the iterative reference.
func matchesReference(t *testing.T, a *Analysis) {
	t.Helper()
	ref := referenceIdoms(a)
	tree := treeParents(a)
	mismatches := 0
	for v, want := range ref {
		got := tree[v]
		if want == noVertex && got == noVertex {
			continue
		}
		if got != want {
			if mismatches++; mismatches <= 10 {
				t.Errorf("vertex %d (%s): idom %d (%s), reference says %d (%s)", v, a.describeVertex(Vertex(v)),
					got, a.describeVertex(got), want, a.describeVertex(want))
			}
		}
	}
	if mismatches > 0 {
		t.Fatalf("%d of %d vertices differ from the reference", mismatches, len(ref))
	}
	t.Logf("%d vertices in the dominator tree match the reference", a.TreeVertices)
}

func contains(vs []Vertex, v Vertex) bool {
	for _, w := range vs {
		if w == v {
			return true
		}
	}
	return false
}

// address is a vertex's address for messages.
func (a *Analysis) address(v Vertex) uint64 {
	if o, ok := a.VertexObject(v); ok {
		base, _ := a.g.Object(o)
		return base
	}
	return 0
}

func (a *Analysis) describeVertex(v Vertex) string {
	switch {
	case v == noVertex:
		return "none"
	case v == PseudoRoot:
		return "pseudo-root"
	case v < firstHolder:
		return "group " + Group(v-1).String()
	case v < a.firstObject:
		h := a.Holders[v-firstHolder]
		return fmt.Sprintf("holder %q kind %d", h.Name, h.Kind)
	}
	o, _ := a.VertexObject(v)
	base, size := a.g.Object(o)
	return fmt.Sprintf("object %#x %s of %d B", base, a.describe(o), size)
}

// treeParents gives each vertex its parent in the dominator tree, from
// the children lists (noVertex for the pseudo-root and unreached vertices).
func treeParents(a *Analysis) []Vertex {
	p := make([]Vertex, a.numVertices)
	for i := range p {
		p[i] = noVertex
	}
	for v := range a.numVertices {
		for _, c := range a.Children(Vertex(v)) {
			p[c] = Vertex(v)
		}
	}
	return p
}

// referenceIdoms computes immediate dominators with the iterative
// algorithm of Cooper, Harvey and Kennedy over the same vertices and
// edges: noVertex for vertices not reached, the pseudo-root's own is
// noVertex too.
func referenceIdoms(a *Analysis) []Vertex {
	n := a.numVertices
	succ := func(v Vertex) []Vertex {
		objs, up := a.succs(v)
		var out []Vertex
		for _, o := range objs {
			out = append(out, a.ObjectVertex(o))
		}
		for _, u := range up {
			out = append(out, Vertex(u))
		}
		return out
	}
	// Postorder by an iterative DFS.
	post := make([]int, n)
	for i := range post {
		post[i] = -1
	}
	seen := make([]bool, n)
	var order []Vertex
	type fr struct {
		v    Vertex
		next int
		s    []Vertex
	}
	stack := []fr{{v: PseudoRoot, s: succ(PseudoRoot)}}
	seen[PseudoRoot] = true
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.next == len(top.s) {
			post[top.v] = len(order)
			order = append(order, top.v)
			stack = stack[:len(stack)-1]
			continue
		}
		w := top.s[top.next]
		top.next++
		if !seen[w] {
			seen[w] = true
			stack = append(stack, fr{v: w, s: succ(w)})
		}
	}
	preds := make([][]Vertex, n)
	for _, v := range order {
		for _, w := range succ(v) {
			preds[w] = append(preds[w], v)
		}
	}
	idom := make([]Vertex, n)
	for i := range idom {
		idom[i] = noVertex
	}
	idom[PseudoRoot] = PseudoRoot
	intersect := func(b1, b2 Vertex) Vertex {
		for b1 != b2 {
			for post[b1] < post[b2] {
				b1 = idom[b1]
			}
			for post[b2] < post[b1] {
				b2 = idom[b2]
			}
		}
		return b1
	}
	for changed := true; changed; {
		changed = false
		for i := len(order) - 1; i >= 0; i-- { // reverse postorder
			b := order[i]
			if b == PseudoRoot {
				continue
			}
			newIdom := noVertex
			for _, p := range preds[b] {
				if idom[p] == noVertex {
					continue
				}
				if newIdom == noVertex {
					newIdom = p
				} else {
					newIdom = intersect(p, newIdom)
				}
			}
			if idom[b] != newIdom {
				idom[b] = newIdom
				changed = true
			}
		}
	}
	idom[PseudoRoot] = noVertex
	return idom
}

// succs returns v's successors, as the reference reads them: an object's targets, or an upper vertex's
// (exactly one of the two is non-nil when there are any).
func (a *Analysis) succs(v Vertex) (objects []graph.ObjectID, up []uint32) {
	if o, ok := a.VertexObject(v); ok {
		t, _ := a.g.Edges(a.g.ObjectVertex(o))
		return t, nil
	}
	t, _, _ := a.upEdges(v)
	return nil, t
}
