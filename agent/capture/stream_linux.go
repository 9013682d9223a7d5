//go:build linux && (amd64 || arm64)

package capture

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The dump travels from the child to the host through a pipe, read while
// it is written. A memfd holds the whole dump in shared memory, every
// page of it allocated by the child's writes (on this VM, a 116 MB
// WriteHeapDump in one process took about 0.9 s into a memfd against 0.15
// s into a pipe read concurrently; in the dump child, whose own page
// faults dominate its time, the difference measured smaller). A pipe holds
// at most pipeBytes, so a consumer that keeps up lets the child run at the
// dumper's own speed, and one that does not only slows the child, never
// the host.

// pipeBytes is the pipe buffer asked for: fewer wake-ups for the child
// and the reader than the default 64 KiB.
const pipeBytes = 1 << 20

// dumpPipe returns the two ends of the dump pipe, both close-on-exec and
// moved >= minHighFD: the read end non-blocking, for the host's poller
// (so a stop can interrupt a Read), and the write end blocking, for the
// child (the dumper ignores write errors: a non-blocking write would lose
// data).
func dumpPipe() (r *os.File, w int, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, -1, err
	}
	rfd, err := highFD(p[0])
	if err != nil {
		unix.Close(p[1])
		return nil, -1, err
	}
	if w, err = highFD(p[1]); err != nil {
		unix.Close(rfd)
		return nil, -1, err
	}
	// The default (64 KiB) still works: ignore a refusal.
	unix.FcntlInt(uintptr(w), unix.F_SETPIPE_SZ, min(pipeBytes, pipeMaxSize()))
	if err := unix.SetNonblock(rfd, true); err != nil {
		unix.Close(rfd)
		unix.Close(w)
		return nil, -1, err
	}
	return os.NewFile(uintptr(rfd), "heaptop-dump"), w, nil
}

// pipeMaxSize is the largest pipe buffer an unprivileged process may ask for.
func pipeMaxSize() int {
	b, err := os.ReadFile("/proc/sys/fs/pipe-max-size")
	if err != nil {
		return pipeBytes
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		return pipeBytes
	}
	return n
}

// highFD moves fd to a close-on-exec descriptor >= minHighFD.
func highFD(fd int) (int, error) {
	high, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, minHighFD)
	unix.Close(fd)
	return high, err
}

var (
	errStreamStopped = errors.New("capture: the dump stream was stopped")
	errStreamOutgrew = errors.New("capture: the dump stream passed its size limit")
)

// dumpStream is the read end of the dump pipe as a consumer sees it: it
// counts the bytes, refuses to pass the size limit (calling outgrew, which
// kills the child), and fails every Read once stopped, a Read in progress
// included, so that a capture that ends early ends its consumer at its
// next Read rather than after the pipe's last buffered MiB. It reads the
// pipe through a buffer of the pipe's size: a consumer's small reads (8
// KiB from io.Copy) would otherwise cost a system call and a wake-up of
// the child each.
type dumpStream struct {
	f       *os.File
	r       *bufio.Reader // over f
	limit   int64
	outgrew func()
	stopped atomic.Bool

	// Touched only by the consumer's goroutine until it returns.
	n    int64
	last byte // the last byte read: the EOF record's tag, 0, in a whole dump
}

func (s *dumpStream) Read(p []byte) (int, error) {
	if s.stopped.Load() {
		return 0, errStreamStopped
	}
	if s.n >= s.limit {
		s.outgrew()
		return 0, errStreamOutgrew
	}
	if int64(len(p)) > s.limit-s.n {
		p = p[:s.limit-s.n]
	}
	n, err := s.r.Read(p)
	if n > 0 {
		s.n += int64(n)
		s.last = p[n-1]
	}
	if err != nil && s.stopped.Load() {
		err = errStreamStopped
	}
	return n, err
}

// stop makes every Read fail from now on; one blocked in the pipe returns
// at once (the read deadline).
func (s *dumpStream) stop() {
	s.stopped.Store(true)
	s.f.SetReadDeadline(time.Unix(1, 0))
}

// dumpBuffer is anonymous memory a whole dump is read into, for Capture
// (and for a Stream that must look for runtime.allgs in the dump). It is
// reserved at the size limit and touched only as the dump fills it. It is
// mapped and unmapped by address (MmapPtr), since seal returns its unused
// tail.
type dumpBuffer struct {
	mem []byte
	n   int
}

func newDumpBuffer(limit int64) (*dumpBuffer, error) {
	p, err := unix.MmapPtr(-1, 0, nil, uintptr(limit), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return nil, err
	}
	mem := unsafe.Slice((*byte)(p), int(limit))
	// One page fault per 2 MiB rather than per 4 KiB, where the kernel
	// allows: first touches cost about 16 µs a page on a VM, and the child
	// waits on a full pipe while the reader faults. A refusal costs only
	// speed.
	unix.Madvise(mem, unix.MADV_HUGEPAGE)
	return &dumpBuffer{mem: mem}, nil
}

// fill reads one attempt's dump to its end, from the start of the buffer.
func (b *dumpBuffer) fill(r io.Reader) error {
	b.n = 0
	for {
		n, err := r.Read(b.mem[b.n:])
		b.n += n
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// seal makes the filled part read-only, returns the rest of the reservation
// and gives the dump and the function that frees it. The buffer is empty
// afterwards.
func (b *dumpBuffer) seal() (dump []byte, free func() error) {
	page := os.Getpagesize()
	kept := (b.n + page - 1) / page * page
	if kept < len(b.mem) {
		unix.MunmapPtr(unsafe.Pointer(&b.mem[kept]), uintptr(len(b.mem)-kept))
	}
	mem := b.mem[:kept:kept]
	b.mem = nil
	if kept == 0 {
		return nil, func() error { return nil }
	}
	unix.Mprotect(mem, unix.PROT_READ)
	return mem[:b.n], func() error { return unix.MunmapPtr(unsafe.Pointer(&mem[0]), uintptr(kept)) }
}

// free releases a buffer that was not sealed.
func (b *dumpBuffer) free() {
	if b != nil && len(b.mem) > 0 {
		unix.MunmapPtr(unsafe.Pointer(&b.mem[0]), uintptr(len(b.mem)))
		b.mem = nil
	}
}
