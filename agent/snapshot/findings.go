package snapshot

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/heaptop/heaptop/agent/analysis"
	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/internal/units"
)

// Findings in the document. Findings whose chains have the same shape (the
// same hops but for indexes, goroutine ids, addresses and which of a map's
// tables holds the entry: a slice of 500 dangling uintptrs, 9,000 leaked
// map values) are one Finding with a count; the first (in the
// analysis's order: by holder, then offset) gives the chain. Chains longer
// than maxHops keep their first elidedHead and last hops, a placeholder
// hop standing for the rest (Path with the finding's key returns it all).

const (
	maxFindings = 500
	maxHops     = 32
	elidedHead  = 8
	// maxShaped bounds the hidden references and leaks whose chains are
	// built to fold them by shape; beyond it they are counted in a note.
	maxShaped = 100000
)

var findingKinds = [...]heaptopv1.FindingKind{
	analysis.Dangling: heaptopv1.FindingKind_FINDING_KIND_DANGLING, analysis.DanglingReused: heaptopv1.FindingKind_FINDING_KIND_DANGLING,
	analysis.DanglingSoon: heaptopv1.FindingKind_FINDING_KIND_DANGLING_SOON, analysis.Stack: heaptopv1.FindingKind_FINDING_KIND_STACK,
	analysis.Unprotected: heaptopv1.FindingKind_FINDING_KIND_UNPROTECTED, analysis.Leak: heaptopv1.FindingKind_FINDING_KIND_LEAK,
	analysis.Suspect: heaptopv1.FindingKind_FINDING_KIND_SUSPECT,
}

// findingRef says which analysis result a finding key stands for.
type findingRef struct {
	kind  analysis.FindingKind
	index int // in Analysis.Hidden, Leaks or Suspects
}

// findingChain is a finding's whole chain.
func (h *held) findingChain(f findingRef) []*heaptopv1.Hop {
	switch f.kind {
	case analysis.Leak:
		return h.chains.chain(h.a.ObjectVertex(h.a.Leaks[f.index].Object))
	case analysis.Suspect:
		return h.suspectChain(h.a.Suspects[f.index])
	}
	return h.chains.hiddenChain(&h.a.Hidden[f.index])
}

var (
	goroutineID = regexp.MustCompile(`goroutine \d+`)
	intoOffset  = regexp.MustCompile(` \(\+\d+ into it\)`)
	number      = regexp.MustCompile(`\d+`)
)

// shape is what findings folded together share.
func shape(kind analysis.FindingKind, hops []*heaptopv1.Hop, extra string) string {
	var b strings.Builder
	b.WriteString(kind.String())
	for _, h := range hops {
		label := intoOffset.ReplaceAllString(goroutineID.ReplaceAllString(normalize(h.Label), "goroutine N"), "")
		if h.Via == heaptopv1.Via_VIA_RUNTIME {
			label = number.ReplaceAllString(label, "N") // "(map table 6)"
		}
		fmt.Fprintf(&b, "|%d %s %s %s", h.Via, label, h.TypeName, h.State)
		if h.Site != nil {
			fmt.Fprintf(&b, " %s:%d", filepath.Base(h.Site.File), h.Site.Line)
		}
	}
	b.WriteString("|" + extra)
	return b.String()
}

// findingKey names a shape, stably across snapshots.
func findingKey(kind analysis.FindingKind, shape string) string {
	f := fnv.New64a()
	f.Write([]byte(shape))
	return fmt.Sprintf("%s-%016x", strings.ReplaceAll(kind.String(), " ", "-"), f.Sum64())
}

// elide shortens a chain for the document.
func elide(hops []*heaptopv1.Hop) []*heaptopv1.Hop {
	if len(hops) <= maxHops {
		return hops
	}
	tail := maxHops - elidedHead - 1
	out := append([]*heaptopv1.Hop(nil), hops[:elidedHead]...)
	out = append(out, &heaptopv1.Hop{Elided: uint32(len(hops) - elidedHead - tail),
		Label: fmt.Sprintf("… %d hops (Path returns them all)", len(hops)-elidedHead-tail)})
	return append(out, hops[len(hops)-tail:]...)
}

// folder folds findings by shape.
type folder struct {
	h     *held
	out   []*heaptopv1.Finding
	index map[string]*heaptopv1.Finding
	// keys gives the key of the finding each hidden reference or leak
	// went into, for the lists.
	keys map[findingRef]string
	// unshaped counts findings beyond maxShaped, whose chains are not built.
	unshaped int
}

func (f *folder) add(kind analysis.FindingKind, ref findingRef, hops []*heaptopv1.Hop, extra string, fill func(*heaptopv1.Finding)) {
	sh := shape(kind, hops, extra)
	key := findingKey(kind, sh)
	f.keys[ref] = key
	if x, ok := f.index[key]; ok {
		x.Count++
		return
	}
	fd := &heaptopv1.Finding{Key: key, Kind: findingKinds[kind], Path: elide(hops), Count: 1}
	fill(fd)
	f.index[key] = fd
	f.out = append(f.out, fd)
	f.h.findings[key] = ref
}

// findingsLocked builds the findings: hidden references and leaks, and
// the suspects once the analysis is complete (their tree nodes in ids).
// h.mu is held.
func (h *held) findingsLocked(complete bool, ids map[analysis.Vertex]uint32, capturedAt time.Time) (f *folder, notes []string) {
	f = &folder{h: h, index: map[string]*heaptopv1.Finding{}, keys: map[findingRef]string{}}
	c := h.chains
	for i := range h.a.Hidden {
		ref := &h.a.Hidden[i]
		if i >= maxShaped {
			f.unshaped++
			continue
		}
		hops := c.hiddenChain(ref)
		f.add(ref.Kind, findingRef{ref.Kind, i}, hops, "", func(fd *heaptopv1.Finding) {
			fd.Summary = summary(hops)
			fd.Target = hops[len(hops)-1].Label
		})
	}
	for i, l := range h.a.Leaks {
		if i >= maxShaped {
			f.unshaped++
			continue
		}
		hops := c.chain(h.a.ObjectVertex(l.Object))
		age := capturedAt.Sub(l.At).Round(time.Millisecond)
		f.add(analysis.Leak, findingRef{analysis.Leak, i}, hops, l.Why, func(fd *heaptopv1.Finding) {
			last := hops[len(hops)-1]
			fd.Summary = fmt.Sprintf("%s released %s before the capture (%s) is still reachable", hopName(last), age, l.Why)
			fd.Reason = l.Why
			fd.Target = hopName(last)
		})
	}
	if complete {
		for i, s := range h.a.Suspects {
			hops := h.suspectChain(s)
			f.add(analysis.Suspect, findingRef{analysis.Suspect, i}, hops, "", func(fd *heaptopv1.Finding) {
				fd.Share = s.Share
				fd.Node = ids[s.Vertex]
				fd.AccumulationNode = ids[s.Accumulation()]
				fd.Target = h.accumulationText(s)
				fd.Summary = fmt.Sprintf("%s retains %s (%.0f%% of the heap); accumulation point: %s",
					hopName(hops[0]), units.Bytes(h.a.Retained(s.Vertex)), 100*s.Share, fd.Target)
			})
		}
	}
	order := map[heaptopv1.FindingKind]int{
		heaptopv1.FindingKind_FINDING_KIND_DANGLING: 0, heaptopv1.FindingKind_FINDING_KIND_STACK: 1,
		heaptopv1.FindingKind_FINDING_KIND_DANGLING_SOON: 2, heaptopv1.FindingKind_FINDING_KIND_UNPROTECTED: 3,
		heaptopv1.FindingKind_FINDING_KIND_LEAK: 4, heaptopv1.FindingKind_FINDING_KIND_SUSPECT: 5,
	}
	slices.SortStableFunc(f.out, func(x, y *heaptopv1.Finding) int {
		if order[x.Kind] != order[y.Kind] {
			return order[x.Kind] - order[y.Kind]
		}
		if x.Count != y.Count {
			if x.Count > y.Count {
				return -1
			}
			return 1
		}
		return 0
	})
	if f.unshaped > 0 {
		notes = append(notes, fmt.Sprintf("%d more hidden references and leaks were found than the %d whose chains the document folds; they are counted in the list totals only", f.unshaped, maxShaped))
	}
	if len(f.out) > maxFindings {
		notes = append(notes, fmt.Sprintf("%d finding shapes; the document carries the first %d", len(f.out), maxFindings))
		f.out = f.out[:maxFindings]
	}
	return f, notes
}

// suspectChain is the chain to a suspect, then down the dominator tree to
// its accumulation point.
func (h *held) suspectChain(s analysis.SuspectRef) []*heaptopv1.Hop {
	c := h.chains
	hops := c.chain(s.Vertex)
	for i := 1; i < len(s.Path); i++ {
		o, _ := h.a.VertexObject(s.Path[i])
		hop := c.objectHop(o)
		hop.Via, hop.Label = c.link(s.Path[i-1], s.Path[i])
		hops = append(hops, hop)
	}
	return hops
}

// accumulationText describes a suspect's accumulation point and the
// biggest groups it retains, looking through a map's machinery to its
// entries: "map header of map[string]*main.entry holding ×10000
// main.entry (cache.go:42) 3.1 MiB".
func (h *held) accumulationText(s analysis.SuspectRef) string {
	acc := s.Accumulation()
	var name string
	if o, ok := h.a.VertexObject(acc); ok {
		name = hopName(h.chains.objectHop(o))
	} else {
		name, _, _ = h.chains.holderName(acc)
	}
	groups := h.contents(acc)
	if len(groups) == 0 {
		return name
	}
	var parts []string
	for _, g := range groups[:min(3, len(groups))] {
		ts := h.a.TypeSites[g.typeSite]
		where := ""
		if ts.Site.File != "" {
			where = fmt.Sprintf(" (%s:%d)", filepath.Base(ts.Site.File), ts.Site.Line)
		}
		parts = append(parts, fmt.Sprintf("×%d %s%s %s", g.count, ts.Type, where, units.Bytes(g.retained)))
	}
	return name + " holding " + strings.Join(parts, ", ")
}

// content is a group of objects one vertex retains directly.
type content struct {
	typeSite int
	count    int
	retained uint64
}

// contents groups the objects v's dominator-tree children stand for by
// type and site, the biggest first; a child that is a map's runtime
// machinery (directory, table, groups) is looked through, so a map's
// contents are its keys and values.
func (h *held) contents(v analysis.Vertex) []content {
	a := h.a
	byTypeSite := map[int]*content{}
	var out []*content
	stack := []analysis.Vertex{v}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range a.Children(cur) {
			o, ok := a.VertexObject(c)
			if !ok {
				continue
			}
			if h.chains.nm.Internal(o) {
				stack = append(stack, c)
				continue
			}
			k := a.TypeSiteOf(o)
			g := byTypeSite[k]
			if g == nil {
				g = &content{typeSite: k}
				byTypeSite[k] = g
				out = append(out, g)
			}
			g.count++
			g.retained += a.Retained(c)
		}
	}
	slices.SortStableFunc(out, func(x, y *content) int { return cmp.Compare(y.retained, x.retained) })
	groups := make([]content, len(out))
	for i, g := range out {
		groups[i] = *g
	}
	return groups
}
