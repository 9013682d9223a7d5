package analysis

import (
	"slices"

	"github.com/heaptop/heaptop/agent/graph"
)

// TypeSite is the objects of one state, type and allocation site: a row of
// the object lists, and the unit growth is measured in.
type TypeSite struct {
	State        State
	Type         string // as the UI names it ("*main.Session", "untyped 64 B")
	Site         Site   // the zero Site when the members were not sampled
	Count, Bytes uint64
	// Retained is what the set retains: the sum of the retained sizes of
	// the members no other member dominates (after Dominate; 0 before and
	// for members outside the dominator tree).
	Retained uint64
	// Example is a member: the one retaining most after Dominate, the
	// biggest before.
	Example graph.ObjectID

	typ  typeKey
	site uint32
}

// tally is phase 4's result.
type tally struct {
	// TypeSites lists every (state, type, site) with objects, by
	// decreasing bytes.
	TypeSites []TypeSite
	// typeSiteOf[o] is the index in TypeSites of object o's row.
	typeSiteOf []uint32
	// Growth compares the live rows with the snapshots before (nil on the
	// first).
	Growth []GrowthRow
	// GrowthIntervals is how many earlier captures Growth looked back on.
	GrowthIntervals int
}

// censusKey packs an object's state, type (or untyped size) and site.
func censusKey(st State, t typeKey, site uint32) uint64 {
	k := uint64(st)<<62 | uint64(site)
	if t.t == 0 {
		return k | 1<<61 | uint64(t.size&(1<<29-1))<<32
	}
	return k | uint64(t.t&(1<<29-1))<<32
}

// takeCensus groups every object by state, type and site (phase 4).
func (a *Analysis) takeCensus() {
	g := a.g
	n := g.NumObjects()
	a.typeSiteOf = graph.Make[uint32](a.mem, n, 0)
	index := map[uint64]uint32{}
	for i := range n {
		o := graph.ObjectID(i)
		t, site := a.typeKeyOf(o), a.names.ObjectSite(o)
		k := censusKey(a.state[o], t, site)
		r, ok := index[k]
		if !ok {
			r = uint32(len(a.TypeSites))
			index[k] = r
			a.TypeSites = append(a.TypeSites, TypeSite{State: a.state[o], typ: t, site: site, Example: o})
		}
		a.typeSiteOf[i] = r
		_, size := g.Object(o)
		row := &a.TypeSites[r]
		row.Count++
		row.Bytes += uint64(size)
		if _, ex := g.Object(row.Example); size > ex {
			row.Example = o
		}
	}
	for i := range a.TypeSites {
		row := &a.TypeSites[i]
		row.Type = a.typeName(row.typ)
		if row.site != 0 {
			row.Site = a.names.Site(row.site)
		}
	}
	// Sort by bytes, keeping typeSiteOf right.
	order := make([]uint32, len(a.TypeSites))
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortStableFunc(order, func(x, y uint32) int {
		return cmpU64(a.TypeSites[y].Bytes, a.TypeSites[x].Bytes)
	})
	rank := make([]uint32, len(order))
	sorted := make([]TypeSite, len(order))
	for r, i := range order {
		rank[i] = uint32(r)
		sorted[r] = a.TypeSites[i]
	}
	a.TypeSites = sorted
	for i, r := range a.typeSiteOf {
		a.typeSiteOf[i] = rank[r]
	}
}

// TypeSiteOf returns the index in TypeSites of o's row (after Complete).
func (a *Analysis) TypeSiteOf(o graph.ObjectID) int { return int(a.typeSiteOf[o]) }
