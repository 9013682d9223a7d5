package snapshot_test

import (
	"strings"
	"testing"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
)

// TestNegatives captures testdata/progs/negatives, which holds integers
// that only look like addresses and the runtime's and standard library's
// by-design integer addresses (weak pointers, unique handles, cleanups,
// sync.Pool, an idle net/http client): not one hidden-reference finding.
func TestNegatives(t *testing.T) {
	p := startProg(t, "negatives")
	planted := p.Marker(t, "planted")
	if planted["randoms"] != "1000000" || planted["cleanups"] != "32" || planted["idle"] != "32" || planted["dead"] != "true" {
		t.Fatalf("the program did not plant everything: %v (want 1000000 randoms, 32 cleanups run, 32 idle connections, the weak pointer's target dead)", planted)
	}
	s := p.capture(t, &heaptopv1.CaptureRequest{})
	var found []*heaptopv1.Finding
	for _, f := range s.Findings {
		if hiddenKinds[f.Kind] {
			found = append(found, f)
		}
	}
	if len(found) > 0 {
		t.Errorf("%d hidden-reference findings, want none:\n%s", len(found), describeAll(found))
	}
	if s.Stats.HiddenCounted != 0 {
		t.Errorf("%d hidden references counted, want 0", s.Stats.HiddenCounted)
	}
	// The analysis saw the by-design addresses and said why it left them
	// out: weak handles, and the runtime's words (runtime.Cleanup's ptr).
	var note string
	for _, n := range s.Notes {
		if strings.Contains(n, "words hold heap addresses the GC does not follow") {
			note = n
		}
	}
	for _, why := range []string{"weak-pointer handles", "owned by the runtime"} {
		if !strings.Contains(note, why) {
			t.Errorf("the hidden-word note does not exclude %q: %q", why, note)
		}
	}
	t.Logf("%d hidden-looking words: %s", s.Stats.HiddenWords, note)
}
