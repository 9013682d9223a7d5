package snapshot_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/internal/agenttest"
)

// TestDemo captures the demo (agent/examples/demo) while it serves, after a
// GC, and finds the two bugs it plants (bugs.go) and nothing else: every
// hidden reference is one of the 64 words of main.planted.evicted, those
// naming freed statements reported dangling; every leak is a closed
// session held by main.planted.closed, with its allocation line.
func TestDemo(t *testing.T) {
	// A small cache, so statements are evicted from the first second.
	p := startProg(t, "./examples/demo", "-full-sites", "-rate", "300", "-cache", "100")
	time.Sleep(3 * time.Second)
	s := p.capture(t, &heaptopv1.CaptureRequest{ForceGc: true})
	sessionLine := fmt.Sprintf("bugs.go:%d", markerLineIn(t, "examples/demo/bugs.go", "session"))

	var hidden, free, leaks uint64
	for _, f := range s.Findings {
		switch {
		case hiddenKinds[f.Kind]:
			hidden += f.Count
			word, target := f.Path[len(f.Path)-2], f.Path[len(f.Path)-1]
			if f.Path[0].Label != "main.planted" || !strings.HasPrefix(word.Label, "main.planted.evicted[") || word.TypeName != "uintptr" {
				t.Errorf("a hidden reference the demo did not plant:\n%s", describe(f))
			}
			if f.Kind == heaptopv1.FindingKind_FINDING_KIND_DANGLING {
				if target.State != heaptopv1.State_STATE_FREE || target.Label != "free 48 B slot" {
					t.Errorf("dangling target %v %q, want a free 48 B slot (a *main.statement's)\n%s", target.State, target.Label, describe(f))
				}
				free += f.Count
			}
		case f.Kind == heaptopv1.FindingKind_FINDING_KIND_LEAK:
			leaks += f.Count
			last := f.Path[len(f.Path)-1]
			if f.Path[0].Label != "main.planted" || !strings.HasPrefix(last.Label, "main.planted.closed[") || last.TypeName != "main.session" ||
				siteLine(last) != sessionLine || f.Reason != "session closed" {
				t.Errorf("a leak the demo did not plant, or its chain is wrong (want main.planted → main.planted.closed[i] main.session at %s):\n%s", sessionLine, describe(f))
			}
		}
	}
	// The ring is full after 3 s of evictions; a word may point at no
	// allocation the dump proves (a span freed whole) and not count.
	if hidden != s.Stats.HiddenCounted || hidden == 0 || hidden > 64 {
		t.Errorf("%d hidden references in findings, %d counted, want 1 to 64 (main.planted.evicted)", hidden, s.Stats.HiddenCounted)
	}
	if free == 0 {
		t.Errorf("no dangling reference to a freed statement after a GC")
	}
	// Sessions stay registered while reachable; those closed between the
	// registry's read and the dump are missed (see snapshot.Taker).
	if leaks == 0 || leaks > 256 {
		t.Errorf("%d leaked sessions, want 1 to 256 (main.planted.closed)", leaks)
	}
	t.Logf("%d hidden references (%d to free slots), %d leaked sessions", hidden, free, leaks)
	// The first capture loads the executable's DWARF while the dump is
	// written, after the fork: its goroutine and buffers are not in it.
	for _, n := range s.Tree {
		loading := strings.Contains(n.Label, "compress/") || strings.Contains(n.Label, "debug/") || strings.Contains(n.Label, "agent/symbols.")
		if strings.HasPrefix(n.Label, "goroutine ") && loading {
			t.Errorf("the agent's loading of the executable is in the first snapshot: %q %s", n.Label, n.TypeName)
		}
	}

	// The first capture loaded the executable's symbols into the agent: the
	// next one sees the agent's own memory, labelled so, and no suspect in it.
	time.Sleep(2 * time.Second) // the agent's minimum interval between captures
	s = p.capture(t, &heaptopv1.CaptureRequest{ConfirmCost: true})
	agentTypes := map[string]bool{}
	for _, n := range s.Tree {
		switch {
		case n.Agent:
			agentTypes[n.TypeName] = true
			if strings.HasPrefix(n.TypeName, "main.") || strings.HasPrefix(n.Label, "main.") {
				t.Errorf("the program's own node %q %q is labelled as the agent's", n.Label, n.TypeName)
			}
		case n.TypeName == "symbols.Image" || n.TypeName == "snapshot.Taker":
			t.Errorf("the agent's %s is not labelled as the agent's (%q)", n.TypeName, n.Label)
		}
	}
	if !agentTypes["symbols.Image"] {
		t.Errorf("no symbols.Image labelled as the agent's in the tree; agent types: %v", agentTypes)
	}
	for _, f := range s.Findings {
		if f.Kind == heaptopv1.FindingKind_FINDING_KIND_SUSPECT && agentTypes[f.Path[len(f.Path)-1].TypeName] {
			t.Errorf("the agent's own memory is a suspect:\n%s", describe(f))
		}
	}
	t.Logf("agent types in the tree: %v", agentTypes)
	checkGroups(t, p, s, sessionLine)
}

// checkGroups pages through the demo's live list with Groups: the
// document carries its 200 biggest groups (with full sites the demo has
// many more), Groups gives all of them, the document's first and in its
// order, adding up to the list's total; a filter finds the planted
// sessions' group among them all, and its key works with Members.
func checkGroups(t *testing.T, p *prog, s *heaptopv1.Snapshot, sessionLine string) {
	t.Helper()
	live := heaptopv1.List_LIST_LIVE
	var total *heaptopv1.ListTotal
	for _, lt := range s.ListTotals {
		if lt.List == live {
			total = lt
		}
	}
	var inDocument []string
	for _, g := range s.Groups {
		if g.List == live {
			inDocument = append(inDocument, g.Key)
		}
	}
	if total == nil || total.Groups <= 200 || len(inDocument) != 200 {
		t.Fatalf("live list total %v with %d groups in the document; want over 200 groups, 200 sent", total, len(inDocument))
	}
	groups := func(req *heaptopv1.GroupsRequest) (*heaptopv1.GroupsReply, error) {
		ctx, cancel := context.WithTimeout(context.Background(), agenttest.Deadline)
		defer cancel()
		return p.client.Groups(ctx, req)
	}
	const page = 300
	var all []*heaptopv1.ListGroup
	for offset := uint32(0); ; offset += page {
		r, err := groups(&heaptopv1.GroupsRequest{SnapshotId: s.Id, List: live, Offset: offset, Limit: page})
		if err != nil {
			t.Fatalf("Groups from %d: %v", offset, err)
		}
		if r.Total != total.Groups {
			t.Fatalf("Groups from %d: total %d, the document's list total %d", offset, r.Total, total.Groups)
		}
		all = append(all, r.Groups...)
		if len(r.Groups) < page {
			break
		}
	}
	var count, bytes uint64
	seen := map[string]bool{}
	for i, g := range all {
		count, bytes = count+g.Count, bytes+g.Bytes
		if seen[g.Key] || g.List != live || g.State != heaptopv1.State_STATE_LIVE {
			t.Errorf("group %d %q: repeated, or not a live group (%v, %v)", i, g.Key, g.List, g.State)
		}
		seen[g.Key] = true
		if i < len(inDocument) && g.Key != inDocument[i] {
			t.Errorf("group %d is %q, the document's is %q", i, g.Key, inDocument[i])
		}
		if i > 0 && g.Bytes > all[i-1].Bytes {
			t.Errorf("group %d (%d B) is bigger than the one before it (%d B)", i, g.Bytes, all[i-1].Bytes)
		}
	}
	if uint64(len(all)) != total.Groups || count != total.Count || bytes != total.Bytes {
		t.Errorf("Groups gave %d groups, %d objects, %d B; the list total is %d, %d, %d", len(all), count, bytes, total.Groups, total.Count, total.Bytes)
	}

	// The filter ignores case and looks at "type file:line function", as heaptop's / does.
	r, err := groups(&heaptopv1.GroupsRequest{SnapshotId: s.Id, List: live, Filter: "MAIN.SESSION"})
	if err != nil {
		t.Fatalf("Groups filtered: %v", err)
	}
	var sessions *heaptopv1.ListGroup
	for _, g := range r.Groups {
		text := g.TypeName
		if g.Site != nil {
			text += fmt.Sprintf(" %s:%d %s", g.Site.File, g.Site.Line, g.Site.Function)
			if g.TypeName == "main.session" && fmt.Sprintf("%s:%d", filepath.Base(g.Site.File), g.Site.Line) == sessionLine {
				sessions = g
			}
		}
		if !strings.Contains(strings.ToLower(text), "main.session") {
			t.Errorf("filter main.session gave %q", text)
		}
	}
	if sessions == nil || r.Total != uint64(len(r.Groups)) {
		t.Fatalf("filter main.session: %d of %d groups, none main.session at %s", len(r.Groups), r.Total, sessionLine)
	}
	ctx, cancel := context.WithTimeout(context.Background(), agenttest.Deadline)
	defer cancel()
	m, err := p.client.Members(ctx, &heaptopv1.MembersRequest{SnapshotId: s.Id, GroupKey: sessions.Key})
	if err != nil || m.Total != sessions.Count {
		t.Errorf("Members of the filtered sessions group: %v, %d members of %d", err, m.GetTotal(), sessions.Count)
	}

	for _, bad := range []struct {
		req  *heaptopv1.GroupsRequest
		code codes.Code
	}{
		{&heaptopv1.GroupsRequest{SnapshotId: s.Id, List: heaptopv1.List_LIST_DANGLING}, codes.InvalidArgument},
		{&heaptopv1.GroupsRequest{SnapshotId: s.Id + 1, List: live}, codes.NotFound},
	} {
		if _, err := groups(bad.req); status.Code(err) != bad.code {
			t.Errorf("Groups %v: %v, want %v", bad.req, err, bad.code)
		}
	}
	t.Logf("live list: %d groups, %d objects, %d B; %d groups match main.session", total.Groups, total.Count, total.Bytes, r.Total)
}
