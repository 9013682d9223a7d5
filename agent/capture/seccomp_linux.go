//go:build linux && (amd64 || arm64)

package capture

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The dump child's seccomp filter. Once installed, the child can write only
// to its capture descriptors (1 and 2: error text, the dump file, the
// segments file), poll its own empty epoll instance (which replaced the
// host's, see childSetup), map and unmap private anonymous memory, use
// futexes, signals, clocks and sleeps, and exit. Every other system call kills it before the
// call has any effect: it cannot touch the host's sockets, files, epoll
// instance or eventfd (a read of the shared epoll instance would steal the
// host's edge-triggered events), start threads, signal other processes or
// change memory protections. These are the calls WriteHeapDump and the Go
// runtime make in the child (see fork_linux.go); the capture tests run
// every real dump under this filter.

// childErrFD receives the child's runtime messages (and fd 1 too).
const childErrFD = 2

// seccomp_data offsets (linux/seccomp.h): nr, arch, instruction pointer,
// then six 64-bit arguments. Only low halves are compared (little-endian).
const (
	offNr   = 0
	offArch = 4
	offArg0 = 16
)

func offArg(i uint32) uint32 { return offArg0 + 8*i }

// filterFailAction is what a refused call does: kill the child before the
// call has any effect. To see which call a future runtime needs, set it to
// unix.SECCOMP_RET_TRAP: the child's runtime then prints a "SIGSYS: bad
// system call" traceback, which capture reports from the error text.
const filterFailAction = unix.SECCOMP_RET_KILL_PROCESS

// madvise advice values the runtime uses (mem_linux.go): MADV_DONTNEED,
// MADV_FREE, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_COLLAPSE. MADV_REMOVE
// and friends, which can punch holes in shared files, are refused.
var allowedAdvice = []uint32{unix.MADV_DONTNEED, unix.MADV_FREE, unix.MADV_HUGEPAGE, unix.MADV_NOHUGEPAGE, unix.MADV_COLLAPSE}

// plainSyscalls are allowed whatever their arguments.
var plainSyscalls = []uint32{
	unix.SYS_EXIT, unix.SYS_EXIT_GROUP,
	unix.SYS_MUNMAP,
	unix.SYS_FUTEX,
	unix.SYS_RT_SIGRETURN, unix.SYS_RT_SIGPROCMASK, unix.SYS_SIGALTSTACK,
	unix.SYS_SCHED_YIELD, unix.SYS_NANOSLEEP, unix.SYS_CLOCK_NANOSLEEP, unix.SYS_CLOCK_GETTIME,
	unix.SYS_GETPID, unix.SYS_GETTID,
}

func auditArch() uint32 {
	if runtime.GOARCH == "arm64" {
		return unix.AUDIT_ARCH_AARCH64
	}
	return unix.AUDIT_ARCH_X86_64
}

// childFilter builds the filter program for a child whose capture files
// are writeFDs and whose (replaced) epoll descriptors are epollFDs. The slice it returns must stay
// alive (and unmoved, which Go heap memory is) until the child has
// installed it.
func childFilter(writeFDs, epollFDs []uint32) []unix.SockFilter {
	const (
		ld   = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq  = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		and  = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K
		ret  = unix.BPF_RET | unix.BPF_K
		kill = filterFailAction
		ok   = unix.SECCOMP_RET_ALLOW
	)
	var p []unix.SockFilter
	stmt := func(code uint16, k uint32) { p = append(p, unix.SockFilter{Code: code, K: k}) }
	// jumpIfEq appends a comparison whose true branch is patched later to
	// land on label; the false branch falls through.
	type fixup struct {
		at    int
		label string
	}
	var fixups []fixup
	jumpIfEq := func(k uint32, label string) {
		fixups = append(fixups, fixup{len(p), label})
		p = append(p, unix.SockFilter{Code: jeq, K: k})
	}
	labels := map[string]int{}
	label := func(name string) { labels[name] = len(p) }

	stmt(ld, offArch)
	jumpIfEq(auditArch(), "native")
	stmt(ret, kill)
	label("native")
	stmt(ld, offNr)
	for _, nr := range plainSyscalls {
		jumpIfEq(nr, "allow")
	}
	jumpIfEq(unix.SYS_WRITE, "write")
	jumpIfEq(unix.SYS_MMAP, "mmap")
	jumpIfEq(unix.SYS_MADVISE, "madvise")
	jumpIfEq(unix.SYS_EPOLL_PWAIT, "epoll")
	stmt(ret, kill)

	label("epoll") // epoll_pwait(epfd, …) only on the child's own instance
	stmt(ld, offArg(0))
	for _, fd := range epollFDs {
		jumpIfEq(fd, "allow")
	}
	stmt(ret, kill)

	label("write") // write(fd, …) only to the capture descriptors
	stmt(ld, offArg(0))
	for _, fd := range append([]uint32{1, childErrFD}, writeFDs...) {
		jumpIfEq(fd, "allow")
	}
	stmt(ret, kill)

	label("mmap") // mmap(…, flags, …) only private and anonymous
	stmt(ld, offArg(3))
	stmt(and, unix.MAP_SHARED|unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	jumpIfEq(unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, "allow")
	stmt(ret, kill)

	label("madvise")
	stmt(ld, offArg(2))
	for _, a := range allowedAdvice {
		jumpIfEq(a, "allow")
	}
	stmt(ret, kill)

	label("allow")
	stmt(ret, ok)

	for _, f := range fixups {
		target, found := labels[f.label]
		if !found || target-f.at-1 > 255 {
			panic("capture: bad seccomp filter label " + f.label) // a programming error, caught by tests
		}
		p[f.at].Jt = uint8(target - f.at - 1)
	}
	return p
}

// filterProg wraps a filter for the seccomp system call.
func filterProg(f []unix.SockFilter) *unix.SockFprog {
	return &unix.SockFprog{Len: uint16(len(f)), Filter: (*unix.SockFilter)(unsafe.Pointer(&f[0]))}
}
