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
	// heaptop through heapgen's real agent: the chain by address through
	// each planted object to the target, named; every root's retained
	// bytes within 1% of heapgen's.
	if m.Status != "ok" || m.ChainMatch != "objects" || m.ChainNamed == nil || !*m.ChainNamed {
		t.Errorf("heaptop: status %s, error %q, chain %s named %v:\n%s", m.Status, m.Error, m.ChainMatch, m.ChainNamed, m.Chain)
	}
	if len(m.Roots) != len(h.Roots) || !allWithin(m.Roots) {
		t.Errorf("heaptop's retained bytes per root: %+v", m.Roots)
	}
	if m.Agent == nil || m.Agent.PauseNs == 0 || m.Agent.Objects < h.Objects {
		t.Errorf("agent's capture figures %+v for %d objects", m.Agent, h.Objects)
	}
	// The dump goes through a pipe; the memfds (noptr segments, runtime
	// messages) may hold nothing at all.
	if m.Forked == nil || m.Forked.Children == 0 || m.Forked.ChildPrivPeak == 0 {
		t.Errorf("the dump child was not seen: %+v", m.Forked)
	}
	if !strings.Contains(stdout.String(), "heaptop") {
		t.Errorf("no heaptop row in the table:\n%s", stdout.String())
	}
}
