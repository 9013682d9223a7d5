package snapshot

import (
	"cmp"
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/graph"
)

// Members: the objects of one live or pending list group, a page at a
// time, biggest holders first. A group is one (state, type, site) row of
// the census (analysis.TypeSite), so its members are the objects whose row
// it is; finding them is one pass over the objects' row numbers.
//
// The ordered members of the group asked for last are kept, so paging
// through a group of a million objects costs one pass and one sort, not
// one per page. They cost 4 bytes per member on the Go heap (40 MB for a
// group of 10⁷), beyond the held snapshot's measured size, until another
// group is asked for or the snapshot is dropped.

// maxMembers caps the members of one reply: 5,000 at ~20 bytes each.
const maxMembers = 5000

// memberOrder is the member list of one group, ordered.
type memberOrder struct {
	key     string
	objects []graph.ObjectID
}

// members answers Members.
func (h *held) members(req *heaptopv1.MembersRequest) (*heaptopv1.MembersReply, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	key := req.GetGroupKey()
	row, ok := h.typeSites[key]
	if !ok {
		if _, other := h.groups[key]; other {
			return nil, status.Errorf(codes.InvalidArgument, "list group %q has no member list: its findings are in the document", key)
		}
		return nil, status.Errorf(codes.NotFound, "snapshot %d has no list group %q", h.id, key)
	}
	if h.order.key != key {
		h.order = memberOrder{key: key, objects: h.ordered(row)}
	}
	objects := h.order.objects
	limit := int(req.GetLimit())
	if limit <= 0 || limit > maxMembers {
		limit = maxMembers
	}
	start := min(int(req.GetOffset()), len(objects))
	page := objects[start:min(len(objects), start+limit)]
	state := protoStates[h.a.TypeSites[row].State]
	reply := &heaptopv1.MembersReply{Total: uint64(len(objects)), Members: make([]*heaptopv1.Member, len(page))}
	for i, o := range page {
		base, size := h.g.Object(o)
		reply.Members[i] = &heaptopv1.Member{Address: base, Bytes: uint64(size), RetainedBytes: h.a.Retained(h.a.ObjectVertex(o)), State: state}
	}
	return reply, nil
}

// ordered returns the objects of census row `row` by decreasing retained
// size, then decreasing size, then address (object ids are in address
// order).
func (h *held) ordered(row int) []graph.ObjectID {
	a, g := h.a, h.g
	objects := make([]graph.ObjectID, 0, a.TypeSites[row].Count)
	for i := range g.NumObjects() {
		if o := graph.ObjectID(i); a.TypeSiteOf(o) == row {
			objects = append(objects, o)
		}
	}
	slices.SortFunc(objects, func(x, y graph.ObjectID) int {
		if rx, ry := a.Retained(a.ObjectVertex(x)), a.Retained(a.ObjectVertex(y)); rx != ry {
			return cmp.Compare(ry, rx)
		}
		_, sx := g.Object(x)
		_, sy := g.Object(y)
		if sx != sy {
			return cmp.Compare(sy, sx)
		}
		return cmp.Compare(x, y)
	})
	return objects
}
