// Package metrics is the agent's metrics tier: it takes the Go runtime's own
// counters and gives one heaptopv1.Tick per call to Sampler.Sample, cheap
// enough to run every second for the life of a production process.
//
// # Sources
//
// Gauges and counters come from runtime/metrics, read into one reused
// []metrics.Sample (no allocation, no stop-the-world; metrics.Read takes the
// runtime's metrics semaphore and, briefly, the heap lock):
//
//	heap_live_bytes      /gc/heap/live:bytes (marked live by the last GC)
//	heap_goal_bytes      /gc/heap/goal:bytes
//	heap_released_bytes  /memory/classes/heap/released:bytes
//	heap_objects         /gc/heap/objects:objects (live or not yet swept)
//	total_alloc_bytes    /gc/heap/allocs:bytes
//	alloc_*_per_second   deltas of /gc/heap/allocs:bytes and :objects over
//	                     the monotonic time between two samples; objects
//	                     count tiny blocks, not the tiny objects packed in them
//	gc_cpu_fraction      see below
//
// goroutines is runtime.NumGoroutine(), the figure users know from pprof; the
// /sched/goroutines metric would add the runtime's system goroutines and take
// the scheduler lock to count them.
//
// # Pauses
//
// The runtime records each GC cycle's stop-the-world time (sweep termination
// plus mark termination, runtime/mgc.go work.pauseNS) and its end time in a
// 256-entry ring, memstats.pause_ns and pause_end, at index (cycle-1)%256,
// during mark termination, with the world stopped, just before it increments
// memstats.numgc (gcMarkTermination). runtime.ReadMemStats copies that ring
// into MemStats.PauseNs/PauseEnd, but stops the world to do it. We read the
// same ring through debug.ReadGCStats instead: it copies pause_ns,
// pause_end and numgc under the heap lock on the system stack (mstats.go
// readGCStats_m), where no stop-the-world can begin, so the three are one
// consistent snapshot; durations and end times are exactly MemStats' values
// (the tests compare them). Reused GCStats slices mean no allocation.
//
// Each Sample reports the cycles completed since the previous one, oldest
// first, with their cycle numbers. The ring holds the last 256 cycles, so
// none is lost while at most 256 complete between two samples; cycles beyond
// that were overwritten and are counted in Tick.pauses_missed. The first
// Sample after New reports every cycle since the process started that the
// ring still holds (and counts the older ones as missed), so a client's pause
// sparkline is full from the first tick.
//
// # GC CPU fraction
//
// The runtime keeps its CPU classes (/cpu/classes/...) up to date only at GC
// stop-the-world points (runtime/mstats.go cpuStats): a pause is added when
// it ends, and the cycle's mark work (assists, dedicated and fractional
// workers, idle workers) plus the elapsed total are folded in at mark
// termination (mgc.go gcMarkTermination → cpuStats.accumulate). Between GCs
// nothing moves. So gc_cpu_fraction is
//
//	Δ(/cpu/classes/gc/total − /cpu/classes/gc/mark/idle)
//	─────────────────────────────────────────────────────
//	   GOMAXPROCS × wall time since the previous sample
//
// that is, the GC CPU the runtime charged during this interval, as a share of
// the CPU GOMAXPROCS makes available in it. The whole of a cycle's mark CPU
// is charged to the interval in which the cycle ends; an interval in which no
// cycle ended reads ~0 (only a sweep-termination pause, if one began). Summed
// over intervals it equals the runtime's own accounting, so averages over
// several ticks are right; a single tick can overstate a cycle that began in
// an earlier one, and the value is capped at 1. Idle mark workers are left
// out, as MemStats.GCCPUFraction leaves them out: they only use CPU nothing
// else wanted.
package metrics

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
)

// Indexes into Sampler.samples; names lists the metric for each.
const (
	iHeapLive = iota
	iHeapGoal
	iHeapReleased
	iHeapObjects
	iAllocBytes
	iAllocObjects
	iGCCPU
	iGCIdleCPU
	iGOMAXPROCS
	nSamples
)

var names = [nSamples]string{
	iHeapLive:     "/gc/heap/live:bytes",
	iHeapGoal:     "/gc/heap/goal:bytes",
	iHeapReleased: "/memory/classes/heap/released:bytes",
	iHeapObjects:  "/gc/heap/objects:objects",
	iAllocBytes:   "/gc/heap/allocs:bytes",
	iAllocObjects: "/gc/heap/allocs:objects",
	iGCCPU:        "/cpu/classes/gc/total:cpu-seconds",
	iGCIdleCPU:    "/cpu/classes/gc/mark/idle:cpu-seconds",
	iGOMAXPROCS:   "/sched/gomaxprocs:threads",
}

// Sampler turns the runtime's counters into Ticks. It is not safe for
// concurrent use: one goroutine (the agent's sampling loop) owns it.
type Sampler struct {
	samples []metrics.Sample // reused by every Sample; indexed by the i* constants
	gc      debug.GCStats    // reused: ReadGCStats refills its slices in place

	// The previous sample's counters, for deltas.
	at           time.Time // carries the monotonic clock reading
	allocBytes   uint64
	allocObjects uint64
	gcCPUSeconds float64 // GC total minus idle mark workers

	// cycle is the last GC cycle whose pause has been reported (or counted
	// as missed); 0 before the first Sample.
	cycle uint64
}

// New returns a Sampler whose first Sample measures rates from now. It
// fails if this Go runtime lacks one of the metrics the Sampler reads.
func New() (*Sampler, error) {
	s := &Sampler{samples: make([]metrics.Sample, nSamples)}
	for i, n := range names {
		s.samples[i].Name = n
	}
	// ReadGCStats allocates its buffers when they are too small; give them
	// their full size once (2×256+3 durations and 256 end times, see
	// runtime/debug.ReadGCStats) so that Sample never allocates them.
	s.gc.Pause = make([]time.Duration, 0, 2*len((*runtime.MemStats)(nil).PauseNs)+3)
	s.gc.PauseEnd = make([]time.Time, 0, len((*runtime.MemStats)(nil).PauseEnd))
	s.read()
	for _, m := range s.samples {
		if m.Value.Kind() == metrics.KindBad {
			return nil, fmt.Errorf("runtime metric %s is not supported by %s", m.Name, runtime.Version())
		}
	}
	return s, nil
}

// read refreshes samples and the pause ring and stores the counters the next
// Sample takes deltas from; it returns the elapsed wall time since the
// previous read.
func (s *Sampler) read() (elapsed time.Duration) {
	now := time.Now()
	metrics.Read(s.samples)
	debug.ReadGCStats(&s.gc)
	if !s.at.IsZero() {
		elapsed = now.Sub(s.at)
	}
	s.at = now
	return elapsed
}

func (s *Sampler) uint(i int) uint64 { return s.samples[i].Value.Uint64() }

func (s *Sampler) float(i int) float64 { return s.samples[i].Value.Float64() }

// Sample reads the runtime and returns the Tick for the interval since the
// previous Sample (or since New). The Tick is new and never touched again by
// the Sampler, so it may be shared once published.
func (s *Sampler) Sample() *heaptopv1.Tick {
	elapsed := s.read()
	secs := elapsed.Seconds()

	allocBytes, allocObjects := s.uint(iAllocBytes), s.uint(iAllocObjects)
	gcCPU := s.float(iGCCPU) - s.float(iGCIdleCPU)
	t := &heaptopv1.Tick{
		UnixNano:          s.at.UnixNano(),
		HeapLiveBytes:     s.uint(iHeapLive),
		HeapGoalBytes:     s.uint(iHeapGoal),
		HeapReleasedBytes: s.uint(iHeapReleased),
		HeapObjects:       s.uint(iHeapObjects),
		Goroutines:        uint64(runtime.NumGoroutine()),
		GcCycles:          uint64(s.gc.NumGC),
		TotalAllocBytes:   allocBytes,
	}
	if secs > 0 {
		t.AllocBytesPerSecond = float64(allocBytes-s.allocBytes) / secs
		t.AllocObjectsPerSecond = float64(allocObjects-s.allocObjects) / secs
		if procs := s.uint(iGOMAXPROCS); procs > 0 {
			t.GcCpuFraction = min(1, max(0, (gcCPU-s.gcCPUSeconds)/(secs*float64(procs))))
		}
	}
	s.allocBytes, s.allocObjects, s.gcCPUSeconds = allocBytes, allocObjects, gcCPU
	t.Pauses, t.PausesMissed = s.newPauses()
	return t
}

// newPauses returns the pauses of the cycles completed since the previous
// call, oldest first, and how many of them the ring no longer holds.
func (s *Sampler) newPauses() ([]*heaptopv1.GcPause, uint64) {
	numGC := uint64(s.gc.NumGC)
	// s.gc.Pause[k] and PauseEnd[k] belong to cycle numGC-k (most recent
	// first); the ring holds len(s.gc.Pause) = min(numGC, 256) of them.
	fresh := numGC - s.cycle
	held := min(fresh, uint64(len(s.gc.Pause)))
	s.cycle = numGC
	if held == 0 {
		return nil, fresh
	}
	// One block for all the messages: one allocation instead of one each.
	block := make([]heaptopv1.GcPause, held)
	out := make([]*heaptopv1.GcPause, held)
	for i := range out {
		k := held - 1 - uint64(i)
		p := &block[i]
		p.Cycle = numGC - k
		p.EndUnixNano = s.gc.PauseEnd[k].UnixNano()
		p.DurationNs = uint64(s.gc.Pause[k])
		out[i] = p
	}
	return out, fresh - held
}
