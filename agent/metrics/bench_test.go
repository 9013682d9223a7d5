package metrics

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// BenchmarkSample is the sampler's cost per tick (BENCHMARKS.md, metrics tier).
// It runs without GCs in between, the common case at 1 Hz.
func BenchmarkSample(b *testing.B) {
	s := mustNew(b)
	b.ReportAllocs()
	for b.Loop() {
		s.Sample()
	}
}

// BenchmarkPauseRing compares the two ways to read the GC pause ring:
// ReadMemStats stops the world, debug.ReadGCStats (what Sample uses) does not.
func BenchmarkPauseRing(b *testing.B) {
	b.Run("ReadMemStats", func(b *testing.B) {
		var ms runtime.MemStats
		b.ReportAllocs()
		for b.Loop() {
			runtime.ReadMemStats(&ms)
		}
	})
	b.Run("ReadGCStats", func(b *testing.B) {
		gc := debug.GCStats{
			Pause:    make([]time.Duration, 0, 2*256+3),
			PauseEnd: make([]time.Time, 0, 256),
		}
		b.ReportAllocs()
		for b.Loop() {
			debug.ReadGCStats(&gc)
		}
	})
}
