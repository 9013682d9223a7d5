package snapshot

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/heaptop/heaptop/agent/analysis"
	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/graph"
	"github.com/heaptop/heaptop/agent/naming"
	"github.com/heaptop/heaptop/agent/symbols"
)

// held is a snapshot the agent keeps after its document went out, so that
// Expand and Path can reach beyond the document: the graph (edges and
// their offsets, for labels), the names, and the analysis (paths, the
// dominator tree, retained sizes). What each costs per object is in
// BENCHMARKS.md ("analysis"); nothing else of the capture is kept.
//
// A held snapshot is shared by the Taker (while it is the latest) and the
// calls reading it, each holding a reference; the last to release it
// closes it. Its analysis and names are read-only; mu guards the tables
// that Expand, Members and Groups grow.
type held struct {
	refs atomic.Int32

	// Read-only once published.
	id         uint64
	capturedAt time.Time
	g          *graph.Graph
	a          *analysis.Analysis
	chains     *chainer
	doc        *heaptopv1.Snapshot // the complete document, once built

	mu       sync.Mutex // guards the fields below
	folds    []fold
	foldIdx  map[fold]uint32
	sent     map[uint32]string         // node ids sent (in a document or by Expand) and their keys
	findings map[string]findingRef     // finding keys of the documents, for Path
	groups   map[string]graph.ObjectID // list group keys sent, each with an example object
	// The live and pending groups sent, by key: their census rows; and the
	// keys of all rows (typeSiteKeys), set with the complete document.
	typeSites    map[string]int
	typeSiteKeys []string
	order        memberOrder // the members of the group Members read last
}

func newHeld(id uint64, at time.Time, g *graph.Graph, n *naming.Names, im *symbols.Image, a *analysis.Analysis) *held {
	h := &held{
		id: id, capturedAt: at, g: g, a: a,
		chains:   &chainer{g: g, n: n, im: im, a: a, nm: names{g: g, n: n, im: im}},
		foldIdx:  map[fold]uint32{},
		sent:     map[uint32]string{},
		findings: map[string]findingRef{},
		groups:   map[string]graph.ObjectID{},

		typeSites: map[string]int{},
	}
	h.refs.Store(1)
	return h
}

// acquire adds a reference; release drops one and closes the snapshot with
// the last.
func (h *held) acquire() { h.refs.Add(1) }

func (h *held) release() {
	if h != nil && h.refs.Add(-1) == 0 {
		h.a.Close()
		h.g.Close()
	}
}

func errNoNode(snapshot uint64, id uint32) error {
	return status.Errorf(codes.NotFound, "snapshot %d has no node %d", snapshot, id)
}

func errTooMany(what string, limit int) error {
	return status.Errorf(codes.ResourceExhausted, "this snapshot already holds %d %s, its limit", limit, what)
}

// expand answers Expand.
func (h *held) expand(req *heaptopv1.ExpandRequest) (*heaptopv1.ExpandReply, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	key, ok := h.sent[req.Node]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "snapshot %d sent no node %d", h.id, req.Node)
	}
	limit := int(req.Limit)
	if limit <= 0 || limit > maxExpand {
		limit = maxExpand
	}
	rows, _, err := h.rowsLocked(req.Node, int(req.Offset)+limit)
	if err != nil {
		return nil, err
	}
	rows = rows[min(int(req.Offset), len(rows)):]
	reply := &heaptopv1.ExpandReply{Nodes: make([]*heaptopv1.TreeNode, 0, len(rows))}
	for _, r := range rows {
		n, err := h.nodeLocked(r, req.Node, key)
		if err != nil {
			return nil, err
		}
		reply.Nodes = append(reply.Nodes, n)
	}
	return reply, nil
}

// path answers Path.
func (h *held) path(req *heaptopv1.PathRequest) (*heaptopv1.PathReply, error) {
	h.mu.Lock()
	var v analysis.Vertex
	var hops []*heaptopv1.Hop
	switch of := req.Of.(type) {
	case *heaptopv1.PathRequest_Node:
		if _, ok := h.sent[of.Node]; !ok {
			h.mu.Unlock()
			return nil, status.Errorf(codes.NotFound, "snapshot %d sent no node %d", h.id, of.Node)
		}
		if of.Node&foldBit != 0 {
			rows, _, err := h.rowsLocked(of.Node, 1)
			if err != nil || len(rows) == 0 {
				h.mu.Unlock()
				return nil, errNoNode(h.id, of.Node)
			}
			v = rows[0].v
		} else {
			v = analysis.Vertex(of.Node)
		}
	case *heaptopv1.PathRequest_GroupKey:
		o, ok := h.groups[of.GroupKey]
		if !ok {
			h.mu.Unlock()
			return nil, status.Errorf(codes.NotFound, "snapshot %d has no list group %q", h.id, of.GroupKey)
		}
		v = h.a.ObjectVertex(o)
	case *heaptopv1.PathRequest_Address:
		o, ok := h.g.FindObject(of.Address)
		if !ok {
			h.mu.Unlock()
			return nil, status.Errorf(codes.NotFound, "snapshot %d has no object at %#x", h.id, of.Address)
		}
		v = h.a.ObjectVertex(o)
	case *heaptopv1.PathRequest_FindingKey:
		f, ok := h.findings[of.FindingKey]
		h.mu.Unlock()
		if !ok {
			return nil, status.Errorf(codes.NotFound, "snapshot %d has no finding %q", h.id, of.FindingKey)
		}
		return &heaptopv1.PathReply{Path: h.findingChain(f)}, nil
	default:
		h.mu.Unlock()
		return nil, status.Error(codes.InvalidArgument, "Path needs a node, a group key, a finding key or an address")
	}
	h.mu.Unlock()
	if _, isGroup := v.Group(); isGroup {
		return &heaptopv1.PathReply{}, nil
	}
	hops = h.chains.chain(v)
	if hops == nil {
		if o, ok := h.a.VertexObject(v); ok {
			// Unreachable: the object alone, in its state.
			hops = []*heaptopv1.Hop{h.chains.objectHop(o)}
		}
	}
	return &heaptopv1.PathReply{Path: hops}, nil
}

// describeSnapshot is for messages: "snapshot 3 (captured 12 s ago)".
func (h *held) describe() string {
	return fmt.Sprintf("snapshot %d (captured %s ago)", h.id, time.Since(h.capturedAt).Round(time.Second))
}
