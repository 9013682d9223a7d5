package snapshot

import (
	"slices"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/heaptop/heaptop/agent/analysis"
	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/graph"
)

// The object lists: one tab per state plus dangling and leaks, each row
// the objects of one type and allocation site (analysis.TypeSite), by
// decreasing bytes. The dangling list groups the hidden references by
// what holds the word (its type and site, or its global), the leaks list
// the leaked objects by type and site.

// maxListGroups caps the rows of each list in a document; Groups pages
// through the rest of the live and pending lists, maxGroupsPage a call.
const (
	maxListGroups = 200
	maxGroupsPage = 1000
)

var listNames = [...]string{
	heaptopv1.List_LIST_LIVE: "live", heaptopv1.List_LIST_PENDING: "pending",
	heaptopv1.List_LIST_DANGLING: "dangling", heaptopv1.List_LIST_LEAKS: "leaks",
}

func groupKey(list heaptopv1.List, typ string, site *heaptopv1.Site) string {
	k := listNames[list] + ":" + typ
	if site != nil {
		k += "@" + site.Function + ":" + site.File + ":" + strconv.FormatUint(uint64(site.Line), 10)
	}
	return k
}

// listsLocked builds the lists: every state's when complete (with their
// totals), the dangling and leak lists only otherwise. h.mu is held.
func (h *held) listsLocked(complete bool, f *folder) ([]*heaptopv1.ListGroup, []*heaptopv1.ListTotal) {
	a, c := h.a, h.chains
	var out []*heaptopv1.ListGroup
	var totals []*heaptopv1.ListTotal
	if complete {
		per := map[heaptopv1.List]*heaptopv1.ListTotal{}
		for _, list := range []heaptopv1.List{heaptopv1.List_LIST_LIVE, heaptopv1.List_LIST_PENDING} {
			per[list] = &heaptopv1.ListTotal{List: list}
			totals = append(totals, per[list])
		}
		h.typeSiteKeys = typeSiteKeys(a.TypeSites)
		for row := range a.TypeSites {
			ts := &a.TypeSites[row]
			t := per[typeSiteList(ts)]
			if t.Groups < maxListGroups {
				out = append(out, h.typeSiteGroup(row))
			}
			t.Groups++
			t.Count += ts.Count
			t.Bytes += ts.Bytes
		}
	}

	// Dangling: by the holder of the word.
	byKey := map[string]*heaptopv1.ListGroup{}
	var dangling []*heaptopv1.ListGroup
	for i := range a.Hidden {
		ref := &a.Hidden[i]
		var typ string
		var site *heaptopv1.Site
		example := graph.NoObject
		if o, ok := h.g.VertexObject(ref.Holder); ok {
			typ, site, example = a.ObjectTypeName(o), protoSite(c.objectSite(o)), o
		} else {
			r, _ := h.g.VertexRoot(ref.Holder)
			typ = c.rootHop(r, uint64(ref.Offset)).Label
		}
		key := groupKey(heaptopv1.List_LIST_DANGLING, typ, site)
		g, ok := byKey[key]
		if !ok {
			g = &heaptopv1.ListGroup{List: heaptopv1.List_LIST_DANGLING, Key: key, TypeName: typ, Site: site, State: heaptopv1.State_STATE_LIVE}
			byKey[key] = g
			dangling = append(dangling, g)
			if example != graph.NoObject {
				h.groups[key] = example
			}
		}
		g.Count++
		switch {
		case ref.SlotSize != 0:
			g.Bytes += uint64(ref.SlotSize)
		case ref.Object != graph.NoObject:
			_, size := h.g.Object(ref.Object)
			g.Bytes += uint64(size)
		}
		if k, ok := f.keys[findingRef{ref.Kind, i}]; ok && !slices.Contains(g.FindingKeys, k) && len(g.FindingKeys) < 16 {
			g.FindingKeys = append(g.FindingKeys, k)
		}
	}
	out = append(out, topGroups(dangling)...)

	// Leaks: by the leaked objects' type and site.
	byKey = map[string]*heaptopv1.ListGroup{}
	var leaks []*heaptopv1.ListGroup
	for i, l := range a.Leaks {
		typ, site := a.ObjectTypeName(l.Object), protoSite(c.objectSite(l.Object))
		key := groupKey(heaptopv1.List_LIST_LEAKS, typ, site)
		g, ok := byKey[key]
		if !ok {
			g = &heaptopv1.ListGroup{List: heaptopv1.List_LIST_LEAKS, Key: key, TypeName: typ, Site: site, State: heaptopv1.State_STATE_LIVE}
			byKey[key] = g
			leaks = append(leaks, g)
			h.groups[key] = l.Object
		}
		_, size := h.g.Object(l.Object)
		g.Count++
		g.Bytes += uint64(size)
		g.RetainedBytes += a.Retained(a.ObjectVertex(l.Object))
		if k, ok := f.keys[findingRef{analysis.Leak, i}]; ok && !slices.Contains(g.FindingKeys, k) && len(g.FindingKeys) < 16 {
			g.FindingKeys = append(g.FindingKeys, k)
		}
	}
	return append(out, topGroups(leaks)...), totals
}

// topGroups sorts groups by bytes and keeps maxListGroups.
func topGroups(gs []*heaptopv1.ListGroup) []*heaptopv1.ListGroup {
	slices.SortStableFunc(gs, func(x, y *heaptopv1.ListGroup) int {
		switch {
		case x.Bytes > y.Bytes:
			return -1
		case x.Bytes < y.Bytes:
			return 1
		}
		return 0
	})
	return gs[:min(len(gs), maxListGroups)]
}

// typeSiteList is the list of a census row: live, or pending for every
// other state.
func typeSiteList(ts *analysis.TypeSite) heaptopv1.List {
	if ts.State == analysis.Live {
		return heaptopv1.List_LIST_LIVE
	}
	return heaptopv1.List_LIST_PENDING
}

// typeSiteKeys are the group keys of the census rows. Two rows can share
// a type name and site: types of one name from two packages (grpc's
// status.Status and its internal one), whose names the UI shortens alike.
// The bigger keeps the plain key and the others get "#2", "#3" by
// decreasing bytes, so a key names one row (a name shared this way may
// swap its suffixes between snapshots when the sizes cross).
func typeSiteKeys(rows []analysis.TypeSite) []string {
	keys := make([]string, len(rows))
	seen := map[string]int{}
	for row := range rows {
		ts := &rows[row]
		k := groupKey(typeSiteList(ts), ts.Type+" "+ts.State.String(), protoSite(ts.Site))
		if seen[k]++; seen[k] > 1 {
			k += "#" + strconv.Itoa(seen[k])
		}
		keys[row] = k
	}
	return keys
}

// typeSiteGroup is the list group of census row `row`, known by its key to
// Members and Path from now on. h.mu is held.
func (h *held) typeSiteGroup(row int) *heaptopv1.ListGroup {
	ts := &h.a.TypeSites[row]
	g := &heaptopv1.ListGroup{List: typeSiteList(ts), Key: h.typeSiteKeys[row], TypeName: ts.Type, Site: protoSite(ts.Site),
		Count: ts.Count, Bytes: ts.Bytes, RetainedBytes: ts.Retained, State: protoStates[ts.State]}
	h.groups[g.Key] = ts.Example
	h.typeSites[g.Key] = row
	return g
}

// listGroups answers Groups: the live or pending list's groups in the
// document's order, those matching the filter, from the offset. One pass
// over the census rows (thousands), so nothing is kept between pages.
func (h *held) listGroups(req *heaptopv1.GroupsRequest) (*heaptopv1.GroupsReply, error) {
	list := req.GetList()
	if list != heaptopv1.List_LIST_LIVE && list != heaptopv1.List_LIST_PENDING {
		return nil, status.Errorf(codes.InvalidArgument, "only the live and pending lists have more groups than the document carries, not %s", list)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	limit := int(req.GetLimit())
	if limit <= 0 || limit > maxGroupsPage {
		limit = maxGroupsPage
	}
	filter := strings.ToLower(req.GetFilter())
	offset := int(min(req.GetOffset(), 1<<31))
	reply := &heaptopv1.GroupsReply{}
	for row := range h.a.TypeSites {
		ts := &h.a.TypeSites[row]
		if typeSiteList(ts) != list || !matchesFilter(ts, filter) {
			continue
		}
		if n := int(reply.Total); n >= offset && n < offset+limit {
			reply.Groups = append(reply.Groups, h.typeSiteGroup(row))
		}
		reply.Total++
	}
	return reply, nil
}

// matchesFilter reports whether filter (lower case) is in a census row's
// "type file:line function", ignoring case: the text heaptop's `/` matches
// the groups it has against (source/store/model.ts, filterText).
func matchesFilter(ts *analysis.TypeSite, filter string) bool {
	if filter == "" {
		return true
	}
	text := ts.Type
	if ts.Site.File != "" {
		text += " " + ts.Site.File + ":" + strconv.Itoa(ts.Site.Line) + " " + ts.Site.Function
	}
	return strings.Contains(strings.ToLower(text), filter)
}
