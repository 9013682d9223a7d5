package snapshot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/internal/agenttest"
)

// TestLeaks captures testdata/progs/leaky three times while its cache,
// which declares evicted entries released but keeps them in its map, grows
// between captures: every released entry is a leak finding with its chain
// from main.cache; main.cache is the suspect retaining at least 10% of the
// heap with the map as its accumulation point; and the growth rows name
// the entries' and their payloads' allocation sites as grown in both
// intervals. Members pages through the 10,000 entries of their live group,
// each retaining itself and its payload.
func TestLeaks(t *testing.T) {
	p := startProg(t, "leaky")
	filled := p.Marker(t, "filled")
	var s *heaptopv1.Snapshot
	for i := range 3 {
		if i > 0 {
			p.Send(t, "grow")
			filled = p.Marker(t, "filled")
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

	t.Run("members", func(t *testing.T) {
		var group *heaptopv1.ListGroup
		for _, g := range s.Groups {
			if g.List == heaptopv1.List_LIST_LIVE && g.TypeName == "main.entry" && siteLine(&heaptopv1.Hop{Site: g.Site}) == entryLine {
				group = g
			}
		}
		if group == nil || group.Count != 10000 {
			t.Fatalf("live group of main.entry at %s: %v, want one of 10000 objects", entryLine, group)
		}
		members := func(key string, offset, limit uint32) (*heaptopv1.MembersReply, error) {
			ctx, cancel := context.WithTimeout(context.Background(), agenttest.Deadline)
			defer cancel()
			return p.client.Members(ctx, &heaptopv1.MembersRequest{SnapshotId: s.Id, GroupKey: key, Offset: offset, Limit: limit})
		}
		var all []*heaptopv1.Member
		for offset := uint32(0); offset < 10000; offset += 3000 {
			r, err := members(group.Key, offset, 3000)
			if err != nil {
				t.Fatalf("Members at %d: %v", offset, err)
			}
			if r.Total != 10000 || len(r.Members) != min(3000, 10000-int(offset)) {
				t.Fatalf("Members at %d: %d of %d, want %d of 10000", offset, len(r.Members), r.Total, min(3000, 10000-int(offset)))
			}
			all = append(all, r.Members...)
		}
		// Every entry retains itself (32 B) and its payload (1 KiB), so the
		// order is by address.
		for i, m := range all {
			if m.Bytes != 32 || m.RetainedBytes != 32+1024 || m.State != heaptopv1.State_STATE_LIVE {
				t.Fatalf("member %d: %d B retaining %d B, %v; want 32 B retaining %d B, live", i, m.Bytes, m.RetainedBytes, m.State, 32+1024)
			}
			if i > 0 && m.Address <= all[i-1].Address {
				t.Fatalf("member %d at %#x follows %#x: want increasing addresses", i, m.Address, all[i-1].Address)
			}
		}
		hops := p.path(t, &heaptopv1.PathRequest{SnapshotId: s.Id, Of: &heaptopv1.PathRequest_Address{Address: all[9999].Address}})
		if last := hops[len(hops)-1]; hops[0].Label != "main.cache" || last.Address != all[9999].Address || siteLine(last) != entryLine {
			t.Errorf("the last member's chain: %s; want main.cache → … → the entry at %#x allocated at %s", describe(&heaptopv1.Finding{Path: hops}), all[9999].Address, entryLine)
		}
		if r, err := members(group.Key, 10000, 0); err != nil || len(r.Members) != 0 {
			t.Errorf("Members past the end: %v, %v; want none", r, err)
		}
		for key, code := range map[string]codes.Code{"live:no such group": codes.NotFound, leakGroupKey(s): codes.InvalidArgument} {
			if _, err := members(key, 0, 0); status.Code(err) != code {
				t.Errorf("Members of %q: %v, want %v", key, err, code)
			}
		}
	})
}

// leakGroupKey is the key of the snapshot's first leak group.
func leakGroupKey(s *heaptopv1.Snapshot) string {
	for _, g := range s.Groups {
		if g.List == heaptopv1.List_LIST_LEAKS {
			return g.Key
		}
	}
	return ""
}
