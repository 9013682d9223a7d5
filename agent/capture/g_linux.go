//go:build linux && (amd64 || arm64)

package capture

import (
	"bytes"
	"runtime"
	"strconv"
	"unsafe"
)

// A preemption request pending on the capturing goroutine when the process
// is cloned is inherited by the child: sysmon asks a goroutine that has
// held its P for 10 ms to yield, and under CPU pressure the clone call
// alone can take longer. The child would then yield at the first function
// prologue after its nosplit setup and its scheduler would run one of the
// host's goroutines, which the seccomp filter kills at its first system
// call. So the child clears the request, in assembly, from its g: the
// stack guard (g.stackguard0, the word every prologue compares with, at a
// fixed offset the compiler knows) back to stack.lo + the stack guard, and
// the preempt, preemptStop and preemptShrink flags, at the offsets of
// go1.26's runtime2.go g struct (the only runtime layout capture relies
// on). The parent checks that layout on its own g once (gLayoutGuard) and
// nothing is cleared if it does not match. The parent clears its own
// request the same way around the clone (see Capturer.fork): a request
// only asks for a yield, and the yield comes microseconds later, at the
// restoring stop-the-world.

// Offsets in go1.26's g (runtime/runtime2.go): stack.lo 0, stack.hi 8,
// stackguard0 16, goid 152 (after _panic, _defer, m, the 6-word sched,
// syscallsp, syscallpc, syscallbp, stktopsp, param, atomicstatus and
// stackLock), preempt 177 (after schedlink, waitsince and the 1-byte
// waitreason).
const (
	gStackLo     = 0
	gStackHi     = 8
	gStackguard0 = 16
	gGoid        = 152
	gPreemptWord = 176 // waitreason, preempt, preemptStop, preemptShrink, …
)

// gWord returns the word at off in the current g.
func gWord(off uintptr) uintptr

// clearPreempt sets the current g's stackguard0 to stack.lo+guard and
// clears its preempt, preemptStop and preemptShrink flags; with guard 0 it
// does nothing. Nosplit.
func clearPreempt(guard uintptr)

// gLayoutGuard checks go1.26's g layout on the calling goroutine and
// returns its stack guard (stackguard0 - stack.lo), or ok false.
func gLayoutGuard() (guard uintptr, ok bool) {
	var here byte
	sp := uintptr(unsafe.Pointer(&here))
	lo, hi, sg := gWord(gStackLo), gWord(gStackHi), gWord(gStackguard0)
	if !(lo < sp && sp < hi) || sg <= lo || sg-lo > 4096 {
		return 0, false
	}
	if uint64(gWord(gGoid)) != currentGoid() {
		return 0, false
	}
	// The preempt flags are 0 while nothing asks this goroutine to yield;
	// stackPreempt in stackguard0 would have failed the check above.
	if (gWord(gPreemptWord)>>8)&0xffffff != 0 {
		return 0, false
	}
	return sg - lo, true
}

// currentGoid parses "goroutine N [" from the current goroutine's stack.
func currentGoid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b, _ = bytes.CutPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		id, err := strconv.ParseUint(string(b[:i]), 10, 64)
		if err == nil {
			return id
		}
	}
	return 0
}
