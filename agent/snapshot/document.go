package snapshot

import (
	"fmt"
	"runtime"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/heaptop/heaptop/agent/analysis"
	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/capture"
	"github.com/heaptop/heaptop/agent/internal/units"
	"github.com/heaptop/heaptop/agent/naming"
)

// maxDocumentBytes bounds a document, encoded: under grpc's default 4 MiB
// receive limit (grpc-go's and grpc-js's) with room for the WatchEvent
// around it. The tree, list and finding caps keep a document near 1 MB on
// the heaps BENCHMARKS.md measures; this bound holds whatever the names'
// lengths: the document is measured and trimmed until it fits.
const maxDocumentBytes = 3 << 20

// maxGrowthRows caps the growth rows in a document.
const maxGrowthRows = 100

// costs is what the capture cost before the analysis, for the header.
type costs struct {
	capture     capture.Stats
	parse, name time.Duration
	coverage    naming.Coverage
	degraded    []string
	sampleRate  int
	released    int // registrations not watched (over the agent's cap)
	growthBase  uint64
	analyse     time.Duration
	dominators  time.Duration
}

// document builds the snapshot document: findings first (complete false,
// after Analyse) or the whole of it (after Complete).
func (h *held) document(complete bool, k costs) *heaptopv1.Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := h.a
	doc := &heaptopv1.Snapshot{Id: h.id, CapturedUnixNano: h.capturedAt.UnixNano(), Complete: complete}
	var ids map[analysis.Vertex]uint32
	var notes []string
	if complete {
		var paths [][]analysis.Vertex
		for _, s := range a.Suspects {
			p := []analysis.Vertex{}
			if s.Parent != analysis.PseudoRoot {
				p = append(p, s.Parent)
			}
			paths = append(paths, append(p, s.Path...))
		}
		tree, got, err := h.treeLocked(maxTreeNodes, paths)
		if err != nil {
			notes = append(notes, "the heap tree could not be built: "+err.Error())
		}
		doc.Tree, ids = tree, got
	}
	f, fnotes := h.findingsLocked(complete, ids, h.capturedAt)
	doc.Findings = f.out
	notes = append(notes, fnotes...)
	doc.Groups, doc.ListTotals = h.listsLocked(complete, f)
	for st, t := range a.Totals {
		doc.States = append(doc.States, &heaptopv1.StateTotal{State: protoStates[st], Objects: t.Objects, Bytes: t.Bytes})
	}
	if complete {
		for _, r := range a.Growth[:min(len(a.Growth), maxGrowthRows)] {
			doc.Growth = append(doc.Growth, &heaptopv1.GrowthRow{TypeName: r.Type, Site: protoSite(r.Site),
				CountDelta: r.CountDelta, BytesDelta: r.BytesDelta, Count: r.Count, Bytes: r.Bytes, GrewIn: uint32(r.GrewIn)})
		}
		doc.GrowthIntervals = uint32(a.GrowthIntervals)
		if a.GrowthIntervals > 0 {
			doc.GrowthBaseId = k.growthBase
		}
	}
	doc.Stats = h.stats(k, complete)
	doc.Notes = append(h.notes(k), notes...)
	bound(doc)
	return doc
}

// stats fills in the document's header figures.
func (h *held) stats(k costs, complete bool) *heaptopv1.CaptureStats {
	a, g := h.a, h.g
	st := &heaptopv1.CaptureStats{
		PauseNs: uint64(k.capture.HostPause), DumpBytes: uint64(k.capture.Size), DumpNs: uint64(k.capture.Total),
		ParseNs: uint64(k.parse), NameNs: uint64(k.name), AnalyseNs: uint64(k.analyse),
		Objects: uint64(g.NumObjects()), Edges: uint64(g.NumEdges()),
		ObjectsWithSite: k.coverage.SitedObjects, BytesWithSite: k.coverage.SitedBytes,
		ObjectsTyped: k.coverage.TypedObjects, BytesTyped: k.coverage.TypedBytes,
		SampleRate: uint64(max(k.sampleRate, 0)), FullSites: k.sampleRate == 1,
		HiddenWords: uint64(a.HiddenStats.Words), HiddenCounted: uint64(a.HiddenStats.Counted),
	}
	st.HeapBytes = k.coverage.Bytes
	if complete {
		st.DominatorsNs = uint64(k.dominators)
		st.HeldBytes = uint64(g.MappedBytes() + a.Stats.Mapped)
	}
	return st
}

// notes says what the snapshot lacks and why, and what the hidden-word
// rules left out.
func (h *held) notes(k costs) []string {
	a := h.a
	notes := append([]string(nil), k.degraded...)
	cv := k.coverage
	switch {
	case cv.Objects == 0 || cv.SitedObjects == cv.Objects:
	case k.sampleRate == 1:
		notes = append(notes, fmt.Sprintf("allocation sites are recorded for every allocation since the agent started: %s of objects and %s of bytes have one (those allocated before have none)",
			percent(cv.SitedObjects, cv.Objects), percent(cv.SitedBytes, cv.Bytes)))
	default:
		notes = append(notes, fmt.Sprintf("allocation sites are sampled (runtime.MemProfileRate %d): %s of objects and %s of bytes have one; start the agent with FullAllocSites to record all",
			k.sampleRate, percent(cv.SitedObjects, cv.Objects), percent(cv.SitedBytes, cv.Bytes)))
	}
	if ex := a.HiddenStats.Exclusions(); len(ex) > 0 {
		var parts []string
		for _, e := range ex {
			parts = append(parts, fmt.Sprintf("%d %s", e.Words, e.Reason))
		}
		notes = append(notes, fmt.Sprintf("%d words hold heap addresses the GC does not follow; %d count as hidden references; not judged: %s",
			a.HiddenStats.Words, a.HiddenStats.Counted, strings.Join(parts, ", ")))
	}
	if k.released > 0 {
		notes = append(notes, fmt.Sprintf("%d objects declared released were not watched: the agent watches at most 65,536 at once", k.released))
	}
	return notes
}

func percent(part, whole uint64) string {
	if whole == 0 {
		return "0%"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(part)/float64(whole))
}

// bound trims a document until it fits maxDocumentBytes, least important
// first: growth rows, list rows, tree leaves, then findings (keeping the
// first of each kind), saying so in a note.
func bound(doc *heaptopv1.Snapshot) {
	size := proto.Size(doc)
	if size <= maxDocumentBytes {
		doc.Stats.DocumentBytes = uint64(size)
		return
	}
	var trimmed []string
	for proto.Size(doc) > maxDocumentBytes {
		switch {
		case len(doc.Growth) > 10:
			doc.Growth = doc.Growth[:len(doc.Growth)/2]
			trimmed = append(trimmed, "growth rows")
		case len(doc.Groups) > 40:
			doc.Groups = doc.Groups[:len(doc.Groups)/2]
			trimmed = append(trimmed, "list rows")
		case len(doc.Tree) > 100:
			doc.Tree = trimTree(doc.Tree, len(doc.Tree)/2)
			trimmed = append(trimmed, "tree nodes")
		case len(doc.Findings) > 6:
			doc.Findings = doc.Findings[:len(doc.Findings)/2]
			trimmed = append(trimmed, "findings")
		default:
			for _, f := range doc.Findings {
				f.Path = f.Path[:min(len(f.Path), 3)]
			}
			doc.Tree, doc.Groups, doc.Growth = nil, nil, nil
			trimmed = append(trimmed, "everything but the findings' first hops")
			doc.Notes = append(doc.Notes, "the document was cut to fit "+units.Bytes(int64(maxDocumentBytes))+": "+strings.Join(dedupe(trimmed), ", "))
			doc.Stats.DocumentBytes = uint64(proto.Size(doc))
			return
		}
	}
	doc.Notes = append(doc.Notes, "the document was trimmed to fit "+units.Bytes(int64(maxDocumentBytes))+": fewer "+strings.Join(dedupe(trimmed), ", ")+" (Expand and Path reach the rest)")
	doc.Stats.DocumentBytes = uint64(proto.Size(doc))
}

// trimTree keeps the first n nodes of a pre-order tree whose parents are
// kept, fixing the children counts sent.
func trimTree(tree []*heaptopv1.TreeNode, n int) []*heaptopv1.TreeNode {
	kept := map[uint32]bool{0: true}
	out := tree[:0:0]
	for _, t := range tree {
		if len(out) < n && kept[t.Parent] {
			kept[t.Id] = true
			out = append(out, t)
		}
	}
	sent := map[uint32]uint32{}
	for _, t := range out {
		sent[t.Parent]++
	}
	for _, t := range out {
		t.ChildrenSent = sent[t.Id]
	}
	return out
}

func dedupe(s []string) []string {
	var out []string
	for _, x := range s {
		if len(out) == 0 || out[len(out)-1] != x {
			out = append(out, x)
		}
	}
	return out
}

// memProfileRate is runtime.MemProfileRate, read once per capture.
func memProfileRate() int { return runtime.MemProfileRate }
