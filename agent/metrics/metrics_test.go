package metrics

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
)

// gcOff turns automatic GC off for the test, so that the only cycles are the
// ones it forces and counts.
func gcOff(t testing.TB) {
	old := debug.SetGCPercent(-1)
	t.Cleanup(func() { debug.SetGCPercent(old) })
}

func mustNew(t testing.TB) *Sampler {
	t.Helper()
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkPauses fails unless pauses are exactly cycles first..last, each with
// the duration and end time MemStats holds for it.
func checkPauses(t *testing.T, pauses []*heaptopv1.GcPause, first, last uint64, ms *runtime.MemStats) {
	t.Helper()
	if got, want := uint64(len(pauses)), last-first+1; got != want {
		t.Fatalf("got %d pauses, want %d (cycles %d..%d)", got, want, first, last)
	}
	for i, p := range pauses {
		c := first + uint64(i)
		slot := (c - 1) % uint64(len(ms.PauseNs))
		want := &heaptopv1.GcPause{Cycle: c, DurationNs: ms.PauseNs[slot], EndUnixNano: int64(ms.PauseEnd[slot])}
		if p.Cycle != want.Cycle || p.DurationNs != want.DurationNs || p.EndUnixNano != want.EndUnixNano {
			t.Errorf("pause %d = {cycle %d, %d ns, end %d}, want MemStats' {cycle %d, %d ns, end %d}",
				i, p.Cycle, p.DurationNs, p.EndUnixNano, want.Cycle, want.DurationNs, want.EndUnixNano)
		}
	}
}

// TestSamplePauses forces a known number of GCs between two samples and
// checks that the second sample carries exactly their pauses, as MemStats
// records them, and counts the ones the 256-entry ring could not hold.
func TestSamplePauses(t *testing.T) {
	tests := []struct {
		name       string
		gcs        int
		wantHeld   uint64
		wantMissed uint64
	}{
		{"no_gc", 0, 0, 0},
		{"five_forced_gcs", 5, 5, 0},
		{"ring_full_256", 256, 256, 0},
		{"ring_overflow_300", 300, 256, 44},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gcOff(t)
			s := mustNew(t)
			s.Sample() // the ring's history before the test
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			for range tt.gcs {
				runtime.GC()
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.NumGC != before.NumGC+uint32(tt.gcs) {
				t.Fatalf("NumGC went from %d to %d, want exactly %d more: a GC the test did not force", before.NumGC, ms.NumGC, tt.gcs)
			}
			tick := s.Sample()
			if tick.GcCycles != uint64(ms.NumGC) {
				t.Errorf("gc_cycles = %d, want MemStats.NumGC %d", tick.GcCycles, ms.NumGC)
			}
			if tick.PausesMissed != tt.wantMissed {
				t.Errorf("pauses_missed = %d, want %d", tick.PausesMissed, tt.wantMissed)
			}
			last := uint64(ms.NumGC)
			checkPauses(t, tick.Pauses, last-tt.wantHeld+1, last, &ms)
		})
	}
}

// TestFirstSampleReportsRing checks that the first tick carries the pauses
// from before the Sampler existed, as far as the ring holds them.
func TestFirstSampleReportsRing(t *testing.T) {
	gcOff(t)
	runtime.GC() // at least one cycle to report
	s := mustNew(t)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	tick := s.Sample()
	n := uint64(ms.NumGC)
	held := min(n, 256)
	if tick.PausesMissed != n-held {
		t.Errorf("pauses_missed = %d, want %d", tick.PausesMissed, n-held)
	}
	checkPauses(t, tick.Pauses, n-held+1, n, &ms)
}

// TestSampleRates allocates a known number of bytes between two samples.
// The objects are large (64 KiB > 32 KiB), so the runtime counts each one as
// it is allocated rather than a span at a time.
func TestSampleRates(t *testing.T) {
	gcOff(t)
	const objects, size = 200, 64 << 10
	s := mustNew(t)
	t0 := s.Sample()
	sink := make([][]byte, objects)
	for i := range sink {
		sink[i] = make([]byte, size)
	}
	t1 := s.Sample()
	runtime.KeepAlive(sink)

	gotBytes := t1.TotalAllocBytes - t0.TotalAllocBytes
	if gotBytes < objects*size || gotBytes > objects*size+1<<20 {
		t.Errorf("total_alloc_bytes grew by %d, want %d (+ at most 1 MiB of the test's own)", gotBytes, objects*size)
	}
	secs := float64(t1.UnixNano-t0.UnixNano) / 1e9
	if want := float64(gotBytes) / secs; math.Abs(t1.AllocBytesPerSecond-want) > 0.01*want {
		t.Errorf("alloc_bytes_per_second = %.0f, want %.0f (%d B in %.6f s) within 1%%", t1.AllocBytesPerSecond, want, gotBytes, secs)
	}
	// The rate uses the monotonic clock, secs the wall clock: allow 1%.
	if got := t1.AllocObjectsPerSecond * secs; got < 0.99*objects {
		t.Errorf("alloc_objects_per_second × %.6f s = %.1f objects, want at least %d", secs, got, objects)
	}
}

// TestSampleGCCPU checks the two ends of gc_cpu_fraction: nothing is charged
// while no GC runs, and forced cycles are charged to the interval they end in.
func TestSampleGCCPU(t *testing.T) {
	gcOff(t)
	s := mustNew(t)
	s.Sample()
	if f := s.Sample().GcCpuFraction; f != 0 {
		t.Errorf("gc_cpu_fraction without a GC = %v, want 0", f)
	}
	for range 5 {
		runtime.GC()
	}
	if f := s.Sample().GcCpuFraction; f <= 0 || f > 1 {
		t.Errorf("gc_cpu_fraction after 5 forced GCs = %v, want in (0, 1]", f)
	}
}

func TestSampleGoroutines(t *testing.T) {
	s := mustNew(t)
	// Goroutines of earlier tests may still be exiting: start from a count
	// that has held still for 50 ms.
	for n, still := runtime.NumGoroutine(), 0; still < 5; still++ {
		time.Sleep(10 * time.Millisecond)
		if m := runtime.NumGoroutine(); m != n {
			n, still = m, 0
		}
	}
	before := s.Sample().Goroutines
	const parked = 10
	release := make(chan struct{})
	started := make(chan struct{})
	for range parked {
		go func() { started <- struct{}{}; <-release }()
	}
	for range parked {
		<-started
	}
	got := s.Sample().Goroutines
	close(release)
	if got != before+parked {
		t.Errorf("goroutines = %d with %d parked, want %d", got, parked, before+parked)
	}
}

// TestSampleAllocs pins the Sampler's own allocation: the Tick and nothing
// else when no GC completed; metrics.Read and ReadGCStats reuse buffers.
func TestSampleAllocs(t *testing.T) {
	gcOff(t)
	s := mustNew(t)
	s.Sample()
	if n := testing.AllocsPerRun(100, func() { s.Sample() }); n != 1 {
		t.Errorf("Sample allocates %v times without a GC, want 1 (the Tick)", n)
	}
}
