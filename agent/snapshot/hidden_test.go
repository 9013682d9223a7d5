package snapshot_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
)

// TestHidden captures testdata/progs/hidden, which plants one hidden
// reference of each kind, and checks every finding: kind, count, chain,
// names and file:line, and that there are no others.
func TestHidden(t *testing.T) {
	p := startProg(t, "hidden")
	planted := p.Marker(t, "planted")
	freed, _ := strconv.Atoi(planted["freed"])
	goid, _ := strconv.Atoi(planted["goroutine"])
	if freed != 12 {
		t.Fatalf("the program planted %d freed slots, want its wantFreed, 12", freed)
	}
	s := p.capture(t, &heaptopv1.CaptureRequest{})
	handlesLine := fmt.Sprintf("main.go:%d", markerLine(t, "hidden", "main.go", "handles"))
	parkedLine := fmt.Sprintf("main.go:%d", markerLine(t, "hidden", "main.go", "parked"))

	t.Run("uintptr_to_freed_slots", func(t *testing.T) {
		fs := findingsOf(s, heaptopv1.FindingKind_FINDING_KIND_DANGLING, "main.freedHandles")
		if len(fs) != 1 {
			t.Fatalf("%d dangling findings from main.freedHandles, want 1 (all %d of one shape)", len(fs), freed)
		}
		f := fs[0]
		if f.Count != uint64(freed) || len(f.Path) != 4 {
			t.Fatalf("want %d dangling of a 4-hop chain, got:\n%s", freed, describe(f))
		}
		root, array, word, target := f.Path[0], f.Path[1], f.Path[2], f.Path[3]
		if root.Via != heaptopv1.Via_VIA_GLOBAL || root.TypeName != "[]uintptr" {
			t.Errorf("root hop: %v %q %q, want the global main.freedHandles of type []uintptr", root.Via, root.Label, root.TypeName)
		}
		if array.TypeName != "[]uintptr backing array" || siteLine(array) != handlesLine || array.Label != "main.freedHandles" {
			t.Errorf("slice hop: %q %q allocated at %q, want main.freedHandles' []uintptr backing array allocated at %s",
				array.Label, array.TypeName, siteLine(array), handlesLine)
		}
		if word.Via != heaptopv1.Via_VIA_HIDDEN || !strings.HasPrefix(word.Label, "[") || word.TypeName != "uintptr" ||
			word.Address != array.Address+array.Offset {
			t.Errorf("hidden hop: %v %q %q at %#x, want an element of the array (base %#x + offset %#x) as uintptr",
				word.Via, word.Label, word.TypeName, word.Address, array.Address, array.Offset)
		}
		if target.State != heaptopv1.State_STATE_FREE || target.Label != "free 3200 B slot" || target.Bytes != 3200 {
			t.Errorf("target: %v %q %d B, want a free 3200 B slot", target.State, target.Label, target.Bytes)
		}
		if want := fmt.Sprintf("main.freedHandles%s holds %#x as uintptr: free 3200 B slot", word.Label, target.Address); f.Summary != want {
			t.Errorf("summary %q, want %q", f.Summary, want)
		}
		if t.Failed() {
			t.Log(describe(f))
		}
		full := p.path(t, &heaptopv1.PathRequest{SnapshotId: s.Id, Of: &heaptopv1.PathRequest_FindingKey{FindingKey: f.Key}})
		if len(full) != len(f.Path) || full[3].Label != target.Label {
			t.Errorf("Path of the finding: %d hops ending %q", len(full), full[len(full)-1].Label)
		}
	})

	t.Run("uintptr_to_parked_local", func(t *testing.T) {
		fs := findingsOf(s, heaptopv1.FindingKind_FINDING_KIND_STACK, "main.stackAddr")
		if len(fs) != 1 || fs[0].Count != 1 || len(fs[0].Path) != 3 {
			t.Fatalf("want one stack finding from main.stackAddr, a 3-hop chain; got %d:\n%s", len(fs), describeAll(fs))
		}
		word, target := fs[0].Path[1], fs[0].Path[2]
		if word.Via != heaptopv1.Via_VIA_HIDDEN || word.Label != "main.stackAddr" || word.TypeName != "uintptr" {
			t.Errorf("hidden hop %v %q %q", word.Via, word.Label, word.TypeName)
		}
		// The label cannot name the local: go1.26 gives holdLocal's `local`
		// (its address taken into a uintptr) an empty DW_AT_location, so
		// DWARF says nothing of where it lives.
		wantLabel := fmt.Sprintf("stack of goroutine %d in main.holdLocal", goid)
		if target.State != heaptopv1.State_STATE_STACK || target.Goroutine != uint64(goid) || target.Label != wantLabel ||
			siteLine(target) != parkedLine || target.WaitReason != "chan receive" {
			t.Errorf("target: %v goroutine %d %q at %s [%s], want STACK goroutine %d %q at %s [chan receive]\n%s",
				target.State, target.Goroutine, target.Label, siteLine(target), target.WaitReason, goid, wantLabel, parkedLine, describe(fs[0]))
		}
	})

	t.Run("uintptr_to_unreachable_object", func(t *testing.T) {
		fs := findingsOf(s, heaptopv1.FindingKind_FINDING_KIND_DANGLING_SOON, "main.soonAddr")
		if len(fs) != 1 || fs[0].Count != 1 || len(fs[0].Path) != 3 {
			t.Fatalf("want one dangling-soon finding from main.soonAddr; got %d:\n%s", len(fs), describeAll(fs))
		}
		target := fs[0].Path[2]
		soonLine := fmt.Sprintf("main.go:%d", markerLine(t, "hidden", "main.go", "soon"))
		if target.State != heaptopv1.State_STATE_PENDING || target.TypeName != "main.soonVictim" || siteLine(target) != soonLine {
			t.Errorf("target: %v %q at %s, want a pending main.soonVictim allocated at %s\n%s", target.State, target.TypeName, siteLine(target), soonLine, describe(fs[0]))
		}
	})

	t.Run("uintptr_to_object_held_elsewhere", func(t *testing.T) {
		fs := findingsOf(s, heaptopv1.FindingKind_FINDING_KIND_UNPROTECTED, "main.heldAddr")
		if len(fs) != 1 || fs[0].Count != 1 || len(fs[0].Path) != 3 {
			t.Fatalf("want one unprotected finding from main.heldAddr; got %d:\n%s", len(fs), describeAll(fs))
		}
		if target := fs[0].Path[2]; target.State != heaptopv1.State_STATE_LIVE || target.TypeName != "main.heldThing" {
			t.Errorf("target: %v %q, want a live main.heldThing\n%s", target.State, target.TypeName, describe(fs[0]))
		}
		if len(findingsOf(s, heaptopv1.FindingKind_FINDING_KIND_DANGLING, "main.heldAddr")) != 0 {
			t.Error("main.heldAddr is also reported dangling")
		}
	})

	// The second capture: main.reusedAddr's victim was live (unprotected)
	// in the first; freed since and its slot taken by a main.reuser, it is
	// dangling, and the finding says what the slot held before.
	t.Run("uintptr_to_reused_slot", func(t *testing.T) {
		before := findingsOf(s, heaptopv1.FindingKind_FINDING_KIND_UNPROTECTED, "main.reusedAddr")
		if len(before) != 1 || before[0].Path[2].TypeName != "main.victim" {
			t.Fatalf("first capture: want main.reusedAddr unprotected, naming a live main.victim; got:\n%s", describeAll(before))
		}
		p.Send(t, "reuse")
		if r := p.Marker(t, "reused"); r["ok"] != "true" {
			t.Fatalf("the program found no reuser in the freed slot after %s allocations", r["tries"])
		}
		s2 := p.capture(t, &heaptopv1.CaptureRequest{})
		fs := findingsOf(s2, heaptopv1.FindingKind_FINDING_KIND_DANGLING, "main.reusedAddr")
		if len(fs) != 1 || fs[0].Count != 1 || len(fs[0].Path) != 3 {
			t.Fatalf("second capture: want one dangling finding from main.reusedAddr; got %d:\n%s", len(fs), describeAll(fs))
		}
		target := fs[0].Path[2]
		reuserLine := fmt.Sprintf("main.go:%d", markerLine(t, "hidden", "main.go", "reuser"))
		wantLabel := fmt.Sprintf("slot reused by main.reuser (was main.victim (main.newVictim at main.go:%d))", markerLine(t, "hidden", "main.go", "victim"))
		if target.State != heaptopv1.State_STATE_LIVE || target.TypeName != "main.reuser" || siteLine(target) != reuserLine || target.Label != wantLabel {
			t.Errorf("target: %v %q %q at %s, want the live main.reuser allocated at %s, %q\n%s",
				target.State, target.TypeName, target.Label, siteLine(target), reuserLine, wantLabel, describe(fs[0]))
		}
	})

	t.Run("nothing_else", func(t *testing.T) {
		planted := map[string]bool{"main.freedHandles": true, "main.stackAddr": true, "main.soonAddr": true, "main.heldAddr": true, "main.reusedAddr": true}
		var others []*heaptopv1.Finding
		for _, f := range s.Findings {
			if hiddenKinds[f.Kind] && !planted[f.Path[0].Label] {
				others = append(others, f)
			}
		}
		if len(others) > 0 {
			t.Errorf("%d hidden-reference findings the program did not plant:\n%s", len(others), describeAll(others))
		}
	})
}

func describeAll(fs []*heaptopv1.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(describe(f))
	}
	return b.String()
}
