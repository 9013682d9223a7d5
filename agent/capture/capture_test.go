//go:build linux && (amd64 || arm64)

package capture

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// sink keeps planted memory reachable.
var sink [][]*[4]int

func TestCapture_single_flight(t *testing.T) {
	c := New(Options{})
	const callers = 4
	dumps := make([]*Dump, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := c.Capture(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			dumps[i] = d
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// All callers started within microseconds of a capture that takes
	// over 50 ms: they share one dump.
	for _, d := range dumps[1:] {
		if &d.Bytes[0] != &dumps[0].Bytes[0] || d.Stats.Start != dumps[0].Stats.Start {
			t.Fatalf("callers got different dumps (started %v and %v)", d.Stats.Start, dumps[0].Stats.Start)
		}
	}
	s := dumps[0].shot
	// The first capture also looks for runtime.allgs in the background
	// (shot.after), holding one more reference until it is done.
	for deadline := time.Now().Add(10 * time.Second); s.refs.Load() > callers && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if got := s.refs.Load(); got != callers {
		t.Fatalf("%d references for %d callers", got, callers)
	}
	for _, d := range dumps {
		d.Close()
		d.Close() // idempotent: releases once
	}
	if got := s.refs.Load(); got != 0 {
		t.Fatalf("%d references left after every caller closed", got)
	}
	// The next capture is a new one.
	d, err := c.Capture(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Stats.Start == dumps[0].Stats.Start {
		t.Fatal("a later capture returned the earlier dump")
	}
}

func TestCapture_refuses_when_memory_is_short(t *testing.T) {
	defer func(h func() (int64, string)) { headroom = h }(headroom)
	headroom = func() (int64, string) { return 8 << 20, "memory cgroup /test" }
	d, err := New(Options{}).Capture(context.Background())
	if err == nil {
		d.Close()
		t.Fatal("captured with 8 MiB of headroom")
	}
	var r *RefusedError
	if !errors.As(err, &r) || !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "memory cgroup /test leaves 8.0 MiB") {
		t.Fatalf("got %v, want a refusal naming the cgroup and its room", err)
	}
	t.Log(err)
}

func TestCapture_estimate_bounds_the_dump(t *testing.T) {
	c := New(Options{})
	for _, n := range []int{0, 100000, 400000} {
		batch := make([]*[4]int, n)
		for i := range batch {
			batch[i] = new([4]int)
		}
		sink = append(sink, batch)
		d, err := c.Capture(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		st := d.Stats
		d.Close()
		if st.Size <= 0 || st.Size > st.Estimate {
			t.Fatalf("after %d more objects: dump of %d bytes, estimate %d", n, st.Size, st.Estimate)
		}
		t.Logf("+%d objects: dump %d bytes, estimate %d (%.2fx); host pause %v, child dump %v", n, st.Size, st.Estimate, float64(st.Estimate)/float64(st.Size), st.HostPause, st.ChildDump)
	}
	sink = nil
}

func TestCapture_restores_GOMAXPROCS(t *testing.T) {
	before := runtimeProcs()
	d, err := New(Options{}).Capture(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if after := runtimeProcs(); after != before {
		t.Fatalf("GOMAXPROCS %d after a capture, %d before", after, before)
	}
}
