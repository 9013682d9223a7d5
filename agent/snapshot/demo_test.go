package snapshot_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
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
}
