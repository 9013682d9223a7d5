package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSmoke is the reduced run `npm test` includes: heapgen at 10⁵ objects
// and heaptop alone (-tools heaptop skips the peers). It checks that the
// harness builds and drives heapgen and writes its results — heapgen's
// exact per-root figures, the probe's baseline, heaptop's entry — not any
// timing.
func TestSmoke(t *testing.T) {
	out := filepath.Join(t.TempDir(), "results.json")
	var stdout bytes.Buffer
	err := run(context.Background(), []string{"-objects", "1e5", "-tools", "heaptop", "-settle", "200ms", "-out", out}, &stdout)
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(stdout.String())
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res results
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Sizes) != 1 {
		t.Fatalf("%d sizes in the results, want 1", len(res.Sizes))
	}
	s := res.Sizes[0]
	if s.Error != "" || s.Heap == nil {
		t.Fatalf("size failed: %s", s.Error)
	}
	h := s.Heap
	// heapgen's own check passed (it exits otherwise); the figures add up.
	var sum, objects uint64
	shapes := map[string]bool{}
	for _, r := range h.Roots {
		sum += r.Retained
		objects += r.Objects
		shapes[r.Shape] = true
		if r.Computed != 0 && r.Computed != r.Retained {
			t.Errorf("%s: retained %d, computed %d", r.Name, r.Retained, r.Computed)
		}
	}
	if sum != h.Bytes || objects != h.Objects {
		t.Errorf("roots add up to %d B, %d objects; heapgen says %d B, %d objects", sum, objects, h.Bytes, h.Objects)
	}
	for _, shape := range []string{"trees", "maps", "slices", "planted"} {
		if !shapes[shape] {
			t.Errorf("no %s root in %v", shape, h.Roots)
		}
	}
	// 10⁵ objects requested: every shape gets a third, elements with
	// payloads are two objects, the map adds its own; within 1%.
	if h.Objects < 99_000 || h.Objects > 101_000 {
		t.Errorf("built %d objects, want about 100,000", h.Objects)
	}
	if h.Target == "" || len(h.Chain) != 5 || h.Chain[0].Label != "main.planted" {
		t.Errorf("planted target %q, chain %+v", h.Target, h.Chain)
	}
	if s.Baseline.WindowNs == 0 || s.Baseline.Wakeups == 0 {
		t.Errorf("probe baseline %+v: the probe did not run", s.Baseline)
	}
	if len(s.Measurements) != 1 {
		t.Fatalf("%d measurements, want heaptop's alone", len(s.Measurements))
	}
	m := s.Measurements[0]
	// Until the graph tier lands heaptop's entry is pending, saying why;
	// after, this test wants it ok.
	switch {
	case m.Status == "pending" && strings.Contains(m.Error, "Capture"):
	case m.Status == "ok":
	default:
		t.Errorf("heaptop: status %s, error %q", m.Status, m.Error)
	}
	if !strings.Contains(stdout.String(), "heaptop") {
		t.Errorf("no heaptop row in the table:\n%s", stdout.String())
	}
}
