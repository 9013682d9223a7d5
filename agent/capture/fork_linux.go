//go:build linux && (amd64 || arm64)

package capture

import (
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The dump child: a copy of this process, made with clone (no shared
// memory, no shared descriptor table, no exit signal), in which
// debug.WriteHeapDump runs. See doc.go for why the host never calls it.
//
// Between clone and the installed seccomp filter the child runs only
// //go:nosplit code and raw system calls: a nosplit function has no stack
// check, so the child cannot be preempted there and its scheduler cannot
// run one of the host's goroutines (which would act on the host's
// descriptors) before the filter confines it. This is the rule
// syscall.forkAndExecInChild1 follows. After the filter, anything the child
// runs can only compute in its own copy of memory, write to the capture
// descriptors, or die.

// Child exit codes. The runtime itself exits with 2 after a throw.
const (
	exitOK          = 0
	exitThrow       = 2 // runtime fatal error (e.g. dumpgs' bad status)
	exitOrphan      = 90
	exitSetup       = 91 // a setup system call failed; status.errno says which
	exitNoSeccomp   = 92
	exitExtraWrite  = 93
	exitUnreachable = 94
)

// Phases the child reports through childStatus.phase.
const (
	phaseForked uint32 = iota + 1
	phaseConfined
	phaseDumping
	phaseDumped
	phaseExtras
	phaseDone
)

var phaseNames = [...]string{"not started", "forked", "confined", "dumping", "dumped", "writing segments", "done"}

// childStatus lives in a MAP_SHARED anonymous page: the child's only
// channel back besides its descriptors. The child writes, the parent reads
// after the child is gone.
type childStatus struct {
	phase       atomic.Uint32
	setupStep   atomic.Uint32 // which setup call failed (exitSetup)
	errno       atomic.Uint32
	dumpStartNs atomic.Int64 // since childArgs.t0, monotonic
	dumpEndNs   atomic.Int64
	repaired    atomic.Uint32 // goroutines repairGoroutines patched
}

// childArgs is built by the parent before clone; the child only reads it.
type childArgs struct {
	parentPID   uintptr
	dumpFD      uintptr // capture descriptors, all >= minHighFD: the dump file
	extraFD     uintptr
	errFD       uintptr
	closeFDs    []int32     // the host's descriptors, closed in the child
	epollFDs    []int32     // the host's epoll descriptors, replaced by an empty one
	fsizeLimit  unix.Rlimit // RLIMIT_FSIZE for temp-file segments and messages
	prog        *unix.SockFprog
	protect     []memRange // host's writable shared mappings, made read-only in the child
	noptr       []memRange // segments copied to extraFD after the dump
	status      *childStatus
	oomAdjPath  *byte // "/proc/self/oom_score_adj\x00"
	oomAdjValue *byte // "1000"
	oomAdjLen   uintptr
	guard       uintptr // stack guard for clearPreempt, 0 to leave the g alone
	allgs       uintptr // address of runtime.allgs for repairGoroutines, or 0
	t0          time.Time
}

// atFDCWD is a variable: the constant -100 cannot convert to uintptr.
var atFDCWD = unix.AT_FDCWD

// memRange is an address range of this process.
type memRange struct{ addr, size uintptr }

// minHighFD: the capture descriptors are moved at or above this number so
// that dup3 onto 1 and 2 in the child never overwrites one of them.
const minHighFD = 10

// forkDumpChild clones the process. In the parent it returns the child's
// pid; the child never returns. The caller must hold the only P
// (GOMAXPROCS 1): see doc.go.
//
//go:nosplit
//go:norace
func forkDumpChild(a *childArgs) (pid uintptr, errno syscall.Errno) {
	// clone(flags=0): a new process with copies of memory and descriptors
	// and no exit signal, so a host that reaps children on SIGCHLD with
	// wait4(-1) never sees or reaps it (waiting for it needs __WALL).
	r1, _, e := syscall.RawSyscall6(unix.SYS_CLONE, 0, 0, 0, 0, 0, 0)
	if e != 0 || r1 != 0 {
		return r1, e
	}
	childSetup(a)
	childMain(a)
	syscall.RawSyscall(unix.SYS_EXIT_GROUP, exitUnreachable, 0, 0)
	return 0, 0
}

// childSetup confines the child. Each step is a raw system call; a failure
// records the step and errno and exits.
//
//go:nosplit
//go:norace
func childSetup(a *childArgs) {
	a.status.phase.Store(phaseForked)
	var e syscall.Errno
	// Die with the parent (the thread that cloned us), and never leave a
	// core file behind.
	_, _, e = syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0, 0)
	setupCheck(a, 1, e)
	if ppid, _, _ := syscall.RawSyscall(unix.SYS_GETPPID, 0, 0, 0); ppid != a.parentPID {
		syscall.RawSyscall(unix.SYS_EXIT_GROUP, exitOrphan, 0, 0)
	}
	_, _, e = syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_DUMPABLE, 0, 0, 0, 0, 0)
	setupCheck(a, 2, e)
	// If memory runs out, the kernel's OOM killer should pick the child.
	fd, _, e := syscall.RawSyscall6(unix.SYS_OPENAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(a.oomAdjPath)), unix.O_WRONLY|unix.O_CLOEXEC, 0, 0, 0)
	if e == 0 {
		syscall.RawSyscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(a.oomAdjValue)), a.oomAdjLen)
		syscall.RawSyscall(unix.SYS_CLOSE, fd, 0, 0)
	}
	_, _, e = syscall.RawSyscall6(unix.SYS_PRLIMIT64, 0, unix.RLIMIT_FSIZE, uintptr(unsafe.Pointer(&a.fsizeLimit)), 0, 0, 0)
	setupCheck(a, 3, e)
	// Descriptors: 1 and 2 take the error text; the dump and segments files
	// keep their numbers; every other descriptor of the host is closed, so
	// the child holds none of its files, sockets or pipes open. The
	// runtime's epoll descriptor becomes a fresh, empty epoll instance: the
	// child's scheduler polls it once when the dump restarts the world, and
	// polling the host's instance would consume the host's edge-triggered
	// events.
	_, _, e = syscall.RawSyscall(unix.SYS_DUP3, a.errFD, childErrFD, 0)
	setupCheck(a, 4, e)
	_, _, e = syscall.RawSyscall(unix.SYS_DUP3, a.errFD, 1, 0)
	setupCheck(a, 5, e)
	for _, fd := range a.closeFDs {
		syscall.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
	}
	if len(a.epollFDs) > 0 {
		ep, _, e := syscall.RawSyscall(unix.SYS_EPOLL_CREATE1, unix.EPOLL_CLOEXEC, 0, 0)
		setupCheck(a, 6, e)
		for _, fd := range a.epollFDs {
			_, _, e = syscall.RawSyscall(unix.SYS_DUP3, ep, uintptr(fd), 0)
			setupCheck(a, 7, e)
		}
		syscall.RawSyscall(unix.SYS_CLOSE, ep, 0, 0)
	}
	// Memory shared with other processes stays untouched.
	for _, r := range a.protect {
		_, _, e = syscall.RawSyscall(unix.SYS_MPROTECT, r.addr, r.size, unix.PROT_READ)
		setupCheck(a, 8, e)
	}
	_, _, e = syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0)
	setupCheck(a, 9, e)
	if _, _, e := syscall.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(a.prog))); e != 0 {
		a.status.errno.Store(uint32(e))
		syscall.RawSyscall(unix.SYS_EXIT_GROUP, exitNoSeccomp, 0, 0)
	}
	// A preemption request inherited from the parent would make the child
	// yield at its next prologue (see g_linux.go).
	clearPreempt(a.guard)
	a.status.phase.Store(phaseConfined)
}

// setupCheck ends the child if a setup call failed, recording which.
//
//go:nosplit
//go:norace
func setupCheck(a *childArgs, step uint32, e syscall.Errno) {
	if e != 0 {
		a.status.setupStep.Store(step)
		a.status.errno.Store(uint32(e))
		syscall.RawSyscall(unix.SYS_EXIT_GROUP, exitSetup, 0, 0)
	}
}

// childMain runs confined: the dump, then the segments the dump omits.
//
//go:norace
func childMain(a *childArgs) {
	a.status.repaired.Store(repairGoroutines(a.allgs))
	a.status.phase.Store(phaseDumping)
	a.status.dumpStartNs.Store(int64(time.Since(a.t0)))
	debug.WriteHeapDump(a.dumpFD)
	a.status.dumpEndNs.Store(int64(time.Since(a.t0)))
	a.status.phase.Store(phaseExtras)
	// Extras: for each range its address and length (8 bytes each, little
	// endian), then its bytes, as they were at the fork, like the dump.
	for _, r := range a.noptr {
		hdr := [2]uint64{uint64(r.addr), uint64(r.size)}
		if !childWrite(a.extraFD, uintptr(unsafe.Pointer(&hdr[0])), 16) || !childWrite(a.extraFD, r.addr, r.size) {
			syscall.RawSyscall(unix.SYS_EXIT_GROUP, exitExtraWrite, 0, 0)
		}
	}
	a.status.phase.Store(phaseDone)
	syscall.RawSyscall(unix.SYS_EXIT_GROUP, exitOK, 0, 0)
}

// childWrite writes [p, p+n) to fd, retrying short writes.
//
//go:norace
func childWrite(fd, p, n uintptr) bool {
	for n > 0 {
		w, _, e := syscall.RawSyscall(unix.SYS_WRITE, fd, p, n)
		if e == unix.EINTR {
			continue
		}
		if e != 0 || w == 0 {
			return false
		}
		p += w
		n -= w
	}
	return true
}
