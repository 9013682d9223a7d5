// Why the heap dump is never written by the process it describes.
//
// runtime/debug.WriteHeapDump stops the world and, in dumpgs
// (runtime/heapdump.go), walks every goroutine:
//
//	switch status {
//	case _Grunning:
//		if gp.syscallsp != 0 {
//			dumpgoroutine(gp)
//		}
//		fallthrough
//	default:
//		throw("dumpgs in STW - bad status")
//	case _Gdead, _Gdeadextra:
//	case _Grunnable, _Gsyscall, _Gwaiting:
//		dumpgoroutine(gp)
//	}
//
// The fallthrough makes every _Grunning goroutine fatal, not only those
// outside a system call. throw kills the process. Which statuses can it
// meet while the world is stopped, in go1.26.8 (runtime2.go lists 0..11
// plus the _Gscan bit)?
//
//   - _Grunning, reachable. The writer itself is moved to _Gwaiting first
//     (writeheapdump_m). Every other goroutine that owned a P was stopped.
//     But a goroutine in a system call does not hold its P through the
//     stop: stopTheWorldWithSema takes that P (setBlockOnExitSyscall,
//     gcstopP). When its call returns during the stop, exitsyscall
//     (proc.go) CASes it _Gsyscall -> _Grunning, finds no P, fails
//     exitsyscallTryGetP (the Ps are _Pgcstop, none idle) and only in
//     exitsyscallNoP CASes _Grunning -> _Grunnable. In between it is
//     _Grunning with syscallsp set: the case above. The same window opens
//     in entersyscallblock between handoffp(releasep()) and its CAS to
//     _Gsyscall (used by os/signal's signal_recv through notetsleepg).
//     Every path that ends a system call crosses it: syscall.Syscall and
//     x/sys/unix calls, file I/O on non-pollable files, cgo calls
//     returning and C threads calling into Go (needm, cgocallbackg,
//     exitsyscall), goroutines locked to their thread (the same
//     exitsyscall; stoplockedm comes after the CAS), signal delivery to
//     os/signal. The window is a few hundred nanoseconds of code, longer
//     when the OS deschedules the thread inside it: measured with an
//     instrumented copy of proc.go under 1,000 goroutines in nanosleep
//     loops on this 2-core VM, 0.6 µs on average, 4% over 1 µs, 0.16%
//     over 10 µs, at most 1.9 ms. The runtime's own debugExtendGrunningNoP
//     switch (a 10 µs sleep in the window) makes such a process die in
//     its own WriteHeapDump within a few dumps (testdata/progs/dumpthrow,
//     TestInProcessDump_throws_on_the_exitsyscall_window; 3 to 10 dumps in
//     our runs). Unmodified, 5,608 in-process dumps under 2,000 goroutines
//     in nanosleep loops all survived: the rate is small (well under 10⁻³
//     per dump here) but not zero, and grows with the rate of system call
//     returns and the length of the stop. The returns are asynchronous (a
//     pipe, a timer, a signal, another process): nothing inside the
//     process can keep them out of the stop.
//   - _Gleaked (10), reachable with GOEXPERIMENT=goroutineleakprofile:
//     findGoroutineLeaks marks goroutines _Gleaked during a leak-detection
//     GC (the goroutineleak profile) and they stay so until the next GC
//     cycle starts (allGsSnapshotSortedForGC CASes them back to _Gwaiting).
//     A dump in between always throws.
//   - _Gpreempted (9): set by preemptPark for a suspendG, which CASes it
//     to _Gwaiting at once; suspendG runs on the system stack of a GC
//     worker that holds a P, so the stop waits for it. Not observable.
//   - _Gcopystack (8): newstack and shrinkstack run with a P (or under the
//     _Gscan bit). _Gscan*: set by holders of a P (suspendG,
//     setBlockOnExitSyscall from stopTheWorldWithSema itself, which
//     releases it). _Gidle (0): newproc1 and oneNewExtraM make a g _Gdead
//     or _Gdeadextra before allgadd. _Gmoribund_unused and
//     _Genqueue_unused are never set. Not observable.
//
// So the dumper cannot safely run in the user's process. Capture runs it
// in a copy.
//
// The copy: clone(2) without CLONE_VM, taken while the capturing goroutine
// holds the only P (GOMAXPROCS(1) for the length of the call, restored
// right after). The child has one thread, the capturing one; every other
// P would be owned by a thread the child does not have and its
// stop-the-world would wait for it forever. In the child:
//
//   - Until it is confined it runs only //go:nosplit code and raw system
//     calls (fork_linux.go), so it cannot yield to the scheduler, which
//     would run the host's goroutines in the copy with the host's
//     descriptors. A preemption request pending on the g is cleared from
//     the g itself (g_linux.go, the one runtime layout capture relies on,
//     checked on the parent's own g).
//   - Confinement: PR_SET_PDEATHSIG, not dumpable, oom_score_adj 1000,
//     RLIMIT_FSIZE, every host descriptor closed, the runtime's epoll
//     descriptor replaced by an empty epoll instance (its scheduler polls
//     once when the dump restarts the world; polling the host's instance
//     would consume the host's edge-triggered events), writable shared
//     mappings made read-only, then a seccomp filter (seccomp_linux.go)
//     that kills it at any call besides writing its three capture
//     descriptors, private anonymous memory, futexes, signals, clocks,
//     sleeps and exit.
//   - Goroutines the clone froze in the window above (the clone copies
//     page tables for milliseconds while other threads run: under the
//     stress test a third of the children met one) are set to the status
//     they were moving to before the dump (goroutines_linux.go); a child
//     that throws anyway is retried.
//   - The dump goes to a memfd (or an unlinked temporary file) that the
//     child appends to and the host reads while it grows, freeing what it
//     has read (stream_linux.go): the dump need not exist whole anywhere
//     unless the host keeps it, and the child never waits for the host (a
//     pipe made it wait for a reader goroutine that a busy program's
//     thousand runnable goroutines starved for seconds). RLIMIT_FSIZE caps
//     the file at the size limit (the estimate plus half, plus 64 MiB); a
//     dump that reaches it is refused. The noptrdata and noptrbss
//     segments, which the dump lacks, go to a sealed memfd of a fixed
//     size, copied from the same instant as the dump (of noptrbss only
//     the pages the host ever wrote: see writtenParts); runtime messages
//     to a second one.
//
// The child has no exit signal (a host reaping its children with
// wait4(-1) never sees it); the parent waits with waitid(WNOWAIT) and
// kills it on timeout, on Close, when the reader fails or when the dump
// outgrows its limit, always before reaping, so no kill can hit a
// recycled pid. A child killed or failed ends the stream early; a reader
// that fails has the child killed, its dump being of no use.
//
// What it costs the host. The pause (Stats.HostPause) is the stop-the-world
// of GOMAXPROCS(1), the clone call (page tables are copied: it grows with
// mapped memory) and the stop-the-world that restores GOMAXPROCS; the
// dump's own stop-the-world (Stats.ChildDump) happens in the child and
// stops nothing in the host. Memory: the pages the host writes while the
// child lives, which are copied, and whatever the reader keeps: Capture
// keeps the whole dump (about the heap in use) in anonymous memory,
// Stream only what its consumer builds. The child also touches the runtime's 32 MiB arena
// index in dumpparams for the first time in every child (8,192 page
// faults, about 150 ms on this VM), a fixed cost of the child only.
//
// Package capture takes nothing but the running process and gives heap
// dumps of it, written by a confined child process after checking that
// memory can hold what the capture keeps: Stream hands the dump to a
// consumer as it is written; Capture (single flight) returns it whole,
// read-only. Both give the noptr segments and what the capture cost the
// process.
package capture
