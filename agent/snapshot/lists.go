package snapshot

import (
	"slices"
	"strconv"

	"github.com/heaptop/heaptop/agent/analysis"
	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/graph"
)

// The object lists: one tab per state plus dangling and leaks, each row
// the objects of one type and allocation site (analysis.TypeSite), by
// decreasing bytes. The dangling list groups the hidden references by
// what holds the word (its type and site, or its global), the leaks list
// the leaked objects by type and site.

// maxListGroups caps the rows of each list in a document.
const maxListGroups = 200

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

// listsLocked builds the lists: every state's when complete, the dangling
// and leak lists only otherwise. h.mu is held.
func (h *held) listsLocked(complete bool, f *folder) []*heaptopv1.ListGroup {
	a, c := h.a, h.chains
	var out []*heaptopv1.ListGroup
	if complete {
		per := map[heaptopv1.List]int{}
		for row, ts := range a.TypeSites {
			list := heaptopv1.List_LIST_PENDING
			if ts.State == analysis.Live {
				list = heaptopv1.List_LIST_LIVE
			}
			if per[list] == maxListGroups {
				continue
			}
			per[list]++
			g := &heaptopv1.ListGroup{List: list, TypeName: ts.Type, Site: protoSite(ts.Site), Count: ts.Count,
				Bytes: ts.Bytes, RetainedBytes: ts.Retained, State: protoStates[ts.State]}
			g.Key = groupKey(list, g.TypeName+" "+ts.State.String(), g.Site)
			h.groups[g.Key] = ts.Example
			h.typeSites[g.Key] = row
			out = append(out, g)
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
	return append(out, topGroups(leaks)...)
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
