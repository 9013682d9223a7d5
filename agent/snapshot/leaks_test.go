package snapshot_test

import (
	"fmt"
	"strings"
	"testing"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
)

// TestLeaks captures testdata/progs/leaky three times while its cache,
// which declares evicted entries released but keeps them in its map, grows
// between captures: every released entry is a leak finding with its chain
// from main.cache; main.cache is the suspect retaining at least 10% of the
// heap with the map as its accumulation point; and the growth rows name
// the entries' and their payloads' allocation sites as grown in both
// intervals.
func TestLeaks(t *testing.T) {
	p := startProg(t, "leaky")
	filled := p.marker(t, "filled")
	var s *heaptopv1.Snapshot
	for i := range 3 {
		if i > 0 {
			p.send(t, "grow")
			filled = p.marker(t, "filled")
		}
		s = p.capture(t, &heaptopv1.CaptureRequest{})
	}
	// 6,000 entries, then 2,000 twice; all but the limit of 1,000 evicted.
	if filled["entries"] != "10000" || filled["released"] != "9000" {
		t.Fatalf("the program reports %v, want 10000 entries and 9000 released", filled)
	}
	const released = 9000
	entryLine := fmt.Sprintf("main.go:%d", markerLine(t, "leaky", "main.go", "entry"))
	dataLine := fmt.Sprintf("main.go:%d", markerLine(t, "leaky", "main.go", "data"))
	const mapType = "map header of map[int]*main.entry"

	t.Run("leaks", func(t *testing.T) {
		var leaks []*heaptopv1.Finding
		for _, f := range s.Findings {
			if f.Kind == heaptopv1.FindingKind_FINDING_KIND_LEAK {
				leaks = append(leaks, f)
			}
		}
		if len(leaks) != 1 || leaks[0].Count != released {
			t.Fatalf("want one leak finding folding all %d released entries, got %d:\n%s", released, len(leaks), describeAll(leaks))
		}
		f := leaks[0]
		first, entries, last := f.Path[0], f.Path[1], f.Path[len(f.Path)-1]
		if first.Label != "main.cache" || entries.Label != "main.cache.entries" || entries.TypeName != mapType {
			t.Errorf("chain starts %q → %q %q, want main.cache → main.cache.entries %s", first.Label, entries.Label, entries.TypeName, mapType)
		}
		if last.Via != heaptopv1.Via_VIA_MAP_VALUE || last.TypeName != "main.entry" || siteLine(last) != entryLine {
			t.Errorf("chain ends %v %q at %s, want a map value main.entry allocated at %s", last.Via, last.TypeName, siteLine(last), entryLine)
		}
		if f.Reason != "evicted from cache" {
			t.Errorf("reason %q, want MarkReleased's why", f.Reason)
		}
		if t.Failed() {
			t.Log(describe(f))
		}
	})

	t.Run("suspect", func(t *testing.T) {
		fs := findingsOf(s, heaptopv1.FindingKind_FINDING_KIND_SUSPECT, "main.cache")
		if len(fs) != 1 {
			t.Fatalf("%d suspects at main.cache, want 1; all findings:\n%s", len(fs), describeAll(s.Findings))
		}
		f := fs[0]
		acc := f.Path[len(f.Path)-1]
		if f.Share < 0.10 || acc.TypeName != mapType || acc.Label != "main.cache.entries" {
			t.Errorf("suspect retains %.0f%% with accumulation point %q %q, want ≥ 10%% and the map main.cache.entries (%s)\n%s",
				100*f.Share, acc.Label, acc.TypeName, mapType, describe(f))
		}
		if want := fmt.Sprintf("%s holding ×10000 main.entry (%s) ", mapType, entryLine); !strings.HasPrefix(f.Target, want) {
			t.Errorf("accumulation point %q, want it to start %q", f.Target, want)
		}
		var node *heaptopv1.TreeNode
		for _, n := range s.Tree {
			if n.Id == f.AccumulationNode {
				node = n
			}
		}
		if node == nil || node.TypeName != mapType || float64(node.RetainedBytes) < float64(released)*1024 {
			t.Errorf("accumulation node %d in the tree: %v, want the map retaining at least the released entries' payloads", f.AccumulationNode, node)
		}
	})

	t.Run("growth", func(t *testing.T) {
		if s.GrowthIntervals != 2 {
			t.Fatalf("growth over %d intervals, want 2 (three captures)", s.GrowthIntervals)
		}
		want := map[string]struct {
			typ   string
			bytes int64
		}{entryLine: {"main.entry", 2000 * 32}, dataLine: {"[]uint8 backing array", 2000 * 1024}}
		for _, r := range s.Growth {
			w, ok := want[siteLine(&heaptopv1.Hop{Site: r.Site})]
			if !ok || r.TypeName != w.typ {
				continue
			}
			delete(want, siteLine(&heaptopv1.Hop{Site: r.Site}))
			if r.CountDelta != 2000 || r.BytesDelta != w.bytes || r.GrewIn != 2 || r.Site.Function != "main.(*Cache).add" {
				t.Errorf("growth of %s at %s in %s: %+d objects %+d B, grew in %d of 2; want +2000, %+d B, grew in 2",
					r.TypeName, siteLine(&heaptopv1.Hop{Site: r.Site}), r.Site.Function, r.CountDelta, r.BytesDelta, r.GrewIn, w.bytes)
			}
		}
		if len(want) > 0 {
			t.Errorf("no growth rows for %v", want)
		}
	})
}
