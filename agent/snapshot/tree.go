package snapshot

import (
	"container/heap"
	"fmt"
	"hash/fnv"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/heaptop/heaptop/agent/analysis"
	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/graph"
)

// The heap tree: the dominator tree with the roots grouped and the
// siblings of one state, type and allocation site folded into one row.
//
// Node ids: a node that is one vertex (a root group, a holder, an object)
// has the vertex's number as its id (analysis.Vertex, below 2³¹; the
// pseudo-root, 0, is the tree's invisible top); a folded row has
// foldBit | its index in the held snapshot's fold table. The children of a
// node are rows: holders one each, objects grouped by analysis.TypeSite,
// a group of two or more becoming a folded row whose children are its
// members. Rows are in decreasing retained size.

// foldBit marks a folded row's id.
const foldBit = 1 << 31

// Bounds of the tree in the document and of what the agent keeps for
// Expand (see also maxDocumentBytes).
const (
	// maxTreeNodes is the tree's size in a document.
	maxTreeNodes = 2000
	// maxChildrenSent caps the children of one node in a document; Expand
	// returns the rest.
	maxChildrenSent = 100
	// maxFolds and maxSentNodes bound the fold table and the ids a held
	// snapshot remembers sending (Expand answers for those only): 16 and
	// 40 bytes each, so under 60 MB however long a client explores.
	maxFolds     = 1 << 20
	maxSentNodes = 1 << 20
	// maxExpand is the most rows one Expand returns.
	maxExpand = 1000
)

// fold is a folded row: the children of parent (a node id) in TypeSite key.
type fold struct {
	parent uint32
	key    uint32
}

// row is one child row of a node.
type row struct {
	id       uint32
	kind     heaptopv1.NodeKind
	v        analysis.Vertex // the vertex; a fold's first member
	count    uint64
	retained uint64
	shallow  uint64
}

// vertexOf returns the vertex a non-fold node id stands for.
func (h *held) vertexOf(id uint32) (analysis.Vertex, bool) {
	if id&foldBit != 0 || int(id) >= h.a.NumVertices() {
		return 0, false
	}
	return analysis.Vertex(id), true
}

// rowsLocked returns the first n rows under node id (0: the top), in row
// order, and how many rows there are in all. h.mu is held.
//
// A node may have hundreds of thousands of rows (a fold of a big slice's
// elements): rows are counted and only the first n kept, so that a
// document, which sends at most maxChildrenSent of them and the count,
// does not leave the program garbage per object (BENCHMARKS.md, "What a
// snapshot leaves in the target").
func (h *held) rowsLocked(id uint32, n int) ([]row, int, error) {
	a := h.a
	top := firstRows{n: n}
	if id&foldBit != 0 {
		i := id &^ foldBit
		if int(i) >= len(h.folds) {
			return nil, 0, errNoNode(h.id, id)
		}
		f := h.folds[i]
		for _, c := range a.Children(analysis.Vertex(f.parent)) {
			if o, ok := a.VertexObject(c); ok && uint32(a.TypeSiteOf(o)) == f.key {
				top.offer(h.vertexRow(c))
			}
		}
		return top.sorted(), top.total, nil
	}
	v, ok := h.vertexOf(id)
	if !ok {
		return nil, 0, errNoNode(h.id, id)
	}
	var keyed []row           // the objects' rows, one per TypeSite key
	byKey := map[uint32]int{} // TypeSite key -> index in keyed
	for _, c := range a.Children(v) {
		o, isObject := a.VertexObject(c)
		if !isObject {
			top.offer(h.vertexRow(c))
			continue
		}
		key := uint32(a.TypeSiteOf(o))
		if i, seen := byKey[key]; seen {
			r := &keyed[i]
			if r.kind != heaptopv1.NodeKind_NODE_KIND_FOLDED {
				fid, err := h.foldLocked(id, key)
				if err != nil {
					return nil, 0, err
				}
				r.kind, r.id = heaptopv1.NodeKind_NODE_KIND_FOLDED, fid
			}
			r.count++
			r.retained += a.Retained(c)
			r.shallow += a.Shallow(c)
			continue
		}
		byKey[key] = len(keyed)
		keyed = append(keyed, h.vertexRow(c))
	}
	for _, r := range keyed {
		top.offer(r)
	}
	return top.sorted(), top.total, nil
}

// firstRows keeps the first n of the rows offered, in row order, and
// counts them all. It holds at most 2n rows at a time.
type firstRows struct {
	n     int
	rows  []row
	total int
}

func (f *firstRows) offer(r row) {
	f.total++
	if f.n <= 0 {
		return
	}
	f.rows = append(f.rows, r)
	if len(f.rows)-f.n >= f.n {
		sortRows(f.rows)
		f.rows = f.rows[:f.n]
	}
}

func (f *firstRows) sorted() []row {
	sortRows(f.rows)
	return f.rows[:min(len(f.rows), max(f.n, 0))]
}

func (h *held) vertexRow(v analysis.Vertex) row {
	a := h.a
	r := row{id: uint32(v), v: v, count: 1, retained: a.Retained(v), shallow: a.Shallow(v)}
	r.kind = heaptopv1.NodeKind_NODE_KIND_OBJECT
	if _, ok := v.Group(); ok {
		r.kind = heaptopv1.NodeKind_NODE_KIND_ROOT_GROUP
	} else if _, ok := a.Holder(v); ok {
		r.kind = heaptopv1.NodeKind_NODE_KIND_ROOT
	}
	return r
}

// sortRows orders rows by decreasing retained size, then by vertex.
func sortRows(rs []row) {
	slices.SortFunc(rs, func(x, y row) int {
		switch {
		case x.retained > y.retained:
			return -1
		case x.retained < y.retained:
			return 1
		}
		return int(x.v) - int(y.v)
	})
}

// foldLocked returns the id of the fold of parent's children in key.
func (h *held) foldLocked(parent, key uint32) (uint32, error) {
	k := fold{parent, key}
	if i, ok := h.foldIdx[k]; ok {
		return foldBit | i, nil
	}
	if len(h.folds) >= maxFolds {
		return 0, errTooMany("folded rows", maxFolds)
	}
	i := uint32(len(h.folds))
	h.folds = append(h.folds, k)
	h.foldIdx[k] = i
	return foldBit | i, nil
}

var digits = regexp.MustCompile(`\[\d+\]`)

// normalize makes a label the same for siblings: indexes read [i].
func normalize(label string) string { return digits.ReplaceAllString(label, "[i]") }

// nodeLocked turns a row under parent (its id and key) into a TreeNode.
func (h *held) nodeLocked(r row, parent uint32, parentKey string) (*heaptopv1.TreeNode, error) {
	a, c := h.a, h.chains
	n := &heaptopv1.TreeNode{Id: r.id, Parent: parent, Kind: r.kind, Count: r.count, RetainedBytes: r.retained, ShallowBytes: r.shallow}
	switch r.kind {
	case heaptopv1.NodeKind_NODE_KIND_ROOT_GROUP:
		gr, _ := r.v.Group()
		n.Label = gr.String()
		n.Key = n.Label
		n.State = heaptopv1.State_STATE_LIVE
	case heaptopv1.NodeKind_NODE_KIND_ROOT:
		n.Label, n.TypeName, n.Site = c.holderName(r.v)
		n.Key = childKey(parentKey, n.Label)
		n.State = heaptopv1.State_STATE_LIVE
		n.Agent = a.AgentOwned(r.v)
	default:
		o, _ := a.VertexObject(r.v)
		pv := analysis.PseudoRoot
		if parent != 0 {
			if r.kind == heaptopv1.NodeKind_NODE_KIND_FOLDED {
				pv = analysis.Vertex(h.folds[r.id&^foldBit].parent)
			} else if parent&foldBit != 0 {
				pv = analysis.Vertex(h.folds[parent&^foldBit].parent)
			} else {
				pv = analysis.Vertex(parent)
			}
		}
		if gr, ok := pv.Group(); ok {
			n.Label = "(held by several " + gr.String() + ")"
		} else if pv == analysis.PseudoRoot {
			n.Label = "(held by several kinds of roots)"
		} else {
			_, n.Label = c.link(pv, r.v)
		}
		ts := a.TypeSites[a.TypeSiteOf(o)]
		n.TypeName, n.Site, n.State = ts.Type, protoSite(ts.Site), protoStates[ts.State]
		n.Agent = a.AgentOwned(r.v)
		if r.kind == heaptopv1.NodeKind_NODE_KIND_FOLDED {
			n.Label = normalize(n.Label)
			n.Key = childKey(parentKey, "×"+n.Label+":"+ts.Type+"@"+ts.Site.String())
		} else {
			n.Key = childKey(parentKey, n.Label+":"+ts.Type)
		}
	}
	_, kids, err := h.rowsLocked(r.id, 0)
	if err != nil {
		return nil, err
	}
	n.ChildrenTotal = uint32(kids)
	if len(h.sent) < maxSentNodes {
		h.sent[r.id] = n.Key
	}
	return n, nil
}

// childKey is a node's key: stable across snapshots for the same logical
// node (its parent's key, how the parent holds it, its type and site),
// short whatever the depth.
func childKey(parentKey, local string) string {
	h := fnv.New64a()
	h.Write([]byte(parentKey))
	h.Write([]byte{0})
	h.Write([]byte(local))
	return fmt.Sprintf("%016x", h.Sum64())
}

// holderName names a holder's row: a global's name and type, a
// goroutine's id and the function it is in, a finalizer's object.
func (c *chainer) holderName(v analysis.Vertex) (label, typ string, site *heaptopv1.Site) {
	h, _ := c.a.Holder(v)
	switch h.Kind {
	case analysis.GlobalHolder:
		if ref := c.im.Global(uintptr(h.Addr)); ref.Type != nil {
			typ = ref.Type.String()
		}
		return h.Name, typ, nil
	case analysis.GoroutineHolder:
		gr := c.g.Goroutines[h.Goroutine]
		label = fmt.Sprintf("goroutine %d", gr.ID)
		for f := gr.FirstFrame; f < gr.FirstFrame+graph.FrameID(gr.NumFrames); f++ {
			info := c.n.Root(c.g.Frames[f].Root)
			if len(info.Frames) > 0 && !strings.HasPrefix(info.Frames[0].Function, "runtime.") {
				label += " in " + info.Frames[0].Function
				site = frameSite(info.Frames[0])
				break
			}
		}
		if w := c.g.WaitReasons[gr.Wait]; w != "" {
			label += " [" + w + "]"
		}
		return label, "", site
	case analysis.FinalizerHolder:
		f := c.g.Finalizers[h.Finalizer]
		label = "finalizer"
		if f.Queued {
			label = "queued finalizer"
		}
		if f.Object != graph.NoObject {
			typ = c.a.ObjectTypeName(f.Object)
			label += " on " + typ
		}
		return label, typ, nil
	}
	return "runtime " + h.Name, "", nil
}

// candidate is a row waiting to enter the document's tree.
type candidate struct {
	r      row
	parent uint32
	seq    int
}

type candidates []candidate

func (q candidates) Len() int { return len(q) }
func (q candidates) Less(i, j int) bool {
	if q[i].r.retained != q[j].r.retained {
		return q[i].r.retained > q[j].r.retained
	}
	return q[i].seq < q[j].seq
}
func (q candidates) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *candidates) Push(x any)   { *q = append(*q, x.(candidate)) }
func (q *candidates) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// treeLocked builds the document's tree: the biggest rows, budget of them,
// plus every row on the paths given (vertices from a group down, such as
// a suspect's path to its accumulation point), in pre-order. It returns
// the node id of each vertex of those paths.
func (h *held) treeLocked(budget int, paths [][]analysis.Vertex) ([]*heaptopv1.TreeNode, map[analysis.Vertex]uint32, error) {
	chosen := map[uint32][]row{} // parent id -> its children chosen
	count := 0
	isChosen := func(parent uint32, r row) bool {
		for _, x := range chosen[parent] {
			if x.id == r.id {
				return true
			}
		}
		return false
	}
	q := &candidates{}
	seq := 0
	offer := func(parent uint32) error {
		rs, _, err := h.rowsLocked(parent, maxChildrenSent)
		if err != nil {
			return err
		}
		for _, r := range rs {
			heap.Push(q, candidate{r, parent, seq})
			seq++
		}
		return nil
	}
	choose := func(parent uint32, r row) error {
		if isChosen(parent, r) {
			return nil
		}
		chosen[parent] = append(chosen[parent], r)
		count++
		return offer(r.id)
	}
	// The forced paths first.
	ids := map[analysis.Vertex]uint32{}
	for _, p := range paths {
		parent := uint32(0)
		for _, v := range p {
			rs, _, err := h.rowsLocked(parent, math.MaxInt)
			if err != nil {
				return nil, nil, err
			}
			found := false
			for _, r := range rs {
				if r.v == v && r.kind != heaptopv1.NodeKind_NODE_KIND_FOLDED {
					if err := choose(parent, r); err != nil {
						return nil, nil, err
					}
					ids[v], parent, found = r.id, r.id, true
					break
				}
				if r.kind == heaptopv1.NodeKind_NODE_KIND_FOLDED && h.inFold(r.id, v) {
					if err := choose(parent, r); err != nil {
						return nil, nil, err
					}
					// The member itself, under the fold.
					if err := choose(r.id, h.vertexRow(v)); err != nil {
						return nil, nil, err
					}
					ids[v], parent, found = uint32(v), uint32(v), true
					break
				}
			}
			if !found {
				break
			}
		}
	}
	if err := offer(0); err != nil {
		return nil, nil, err
	}
	for q.Len() > 0 && count < budget {
		c := heap.Pop(q).(candidate)
		if err := choose(c.parent, c.r); err != nil {
			return nil, nil, err
		}
	}
	// Pre-order, each node's chosen children in row order.
	var out []*heaptopv1.TreeNode
	var emit func(parent uint32, key string) error
	emit = func(parent uint32, key string) error {
		rs := chosen[parent]
		sortRows(rs)
		for _, r := range rs {
			n, err := h.nodeLocked(r, parent, key)
			if err != nil {
				return err
			}
			n.ChildrenSent = uint32(len(chosen[r.id]))
			out = append(out, n)
			if err := emit(r.id, n.Key); err != nil {
				return err
			}
		}
		return nil
	}
	if err := emit(0, ""); err != nil {
		return nil, nil, err
	}
	return out, ids, nil
}

// inFold reports whether vertex v is a member of fold id.
func (h *held) inFold(id uint32, v analysis.Vertex) bool {
	o, ok := h.a.VertexObject(v)
	f := h.folds[id&^foldBit]
	if !ok || uint32(h.a.TypeSiteOf(o)) != f.key {
		return false
	}
	for _, c := range h.a.Children(analysis.Vertex(f.parent)) {
		if c == v {
			return true
		}
	}
	return false
}
