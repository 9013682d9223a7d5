package agent

import "runtime"

// Allocation sites come from the runtime's memory profiler: every object
// it samples carries its allocation stack, which the heap dump writes as
// allocation-sample records (package naming turns them into file:line).
//
// The linker trap. When runtime.memProfileInternal is dead code after the
// linker's dead-code pass, the linker sets runtime.disableMemoryProfiling
// (cmd/link/internal/ld/lib.go, linksetup), and schedinit sets
// MemProfileRate to 0 before main runs (runtime/proc.go; go1.26.8). A
// program that never calls runtime.MemProfile (nor imports runtime/pprof)
// would then sample nothing, and every capture would have no sites at all:
// a program importing this package and calling Start was measured at
// MemProfileRate 0 before memProfile below existed
// (TestDefaultSamplingSurvivesTheLinker).
//
// memProfile keeps runtime.MemProfile, and through it memProfileInternal,
// reachable: Start reads it (keepMemProfile), so it is live whenever the
// agent can run.
var memProfile = runtime.MemProfile

// keepMemProfile is a use of memProfile the compiler cannot drop (the
// variable could have been changed, so it must be loaded).
func keepMemProfile() {
	if memProfile == nil {
		panic("heaptop agent: runtime.MemProfile is gone")
	}
}

// fullSitesRate is the MemProfileRate of FullAllocSites: sample every
// allocation.
const fullSitesRate = 1

// enableFullSites sets MemProfileRate to sample every allocation from now
// on and returns the rate it replaced. The runtime reads the rate at each
// allocation with no synchronisation (mallocgc); setting it while the
// program allocates is what the runtime's own documentation allows ("as
// early as possible"), and a rate of 1 applies from the next allocation of
// each P, whatever sample point the old rate had drawn.
func enableFullSites() (previous int) {
	previous = runtime.MemProfileRate
	runtime.MemProfileRate = fullSitesRate
	return previous
}

// restoreSampling puts back the rate FullAllocSites replaced, unless the
// program set another one meanwhile.
func restoreSampling(previous int) {
	if runtime.MemProfileRate == fullSitesRate {
		runtime.MemProfileRate = previous
	}
}
