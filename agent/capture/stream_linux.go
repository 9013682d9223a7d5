//go:build linux && (amd64 || arm64)

package capture

import (
	"errors"
	"io"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The dump travels from the child to the host through a file the child
// appends to (a memfd, or an unlinked temporary file without one) and the
// host reads while it grows, behind the child (tailReader). The child never
// waits for the host: a pipe made it write at the pace of the host's
// reader, a goroutine among the program's, and a program with a thousand
// runnable goroutines gave that reader a turn every few seconds (graph's
// stress test: a dump child killed after 20 s). The file holds what the
// reader has not consumed yet: consumed stretches are punched out of it,
// so a reader that keeps up keeps it small, and RLIMIT_FSIZE in the child
// caps it at the size limit whatever the reader does.

// tailReader reads the dump file as the child appends to it: a Read with
// nothing new waits for more (polling: the child gives no other sign) until
// the child has exited, then gives the rest and io.EOF.
type tailReader struct {
	f       *os.File
	exited  <-chan struct{} // closed once the child is gone
	stopped *atomic.Bool
	off     int64
	punched int64 // the file before this offset is freed
}

// tailPoll is how long a reader that caught up with the child waits before
// looking again; punchBytes, how much it consumes between freeing it.
const (
	tailPoll   = 500 * time.Microsecond
	punchBytes = 4 << 20
)

func (t *tailReader) Read(p []byte) (int, error) {
	for {
		if t.stopped.Load() {
			return 0, errStreamStopped
		}
		// Whether the child was gone is known before reading: what it wrote
		// before it went is then all there.
		var gone bool
		select {
		case <-t.exited:
			gone = true
		default:
		}
		n, err := unix.Pread(int(t.f.Fd()), p, t.off)
		if n > 0 {
			t.off += int64(n)
			if t.off-t.punched >= punchBytes {
				// Free what was read (KEEP_SIZE: the child appends at the end).
				unix.Fallocate(int(t.f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, t.punched, t.off-t.punched)
				t.punched = t.off
			}
			return n, nil
		}
		if err != nil && err != unix.EINTR {
			return 0, err
		}
		if gone {
			return 0, io.EOF
		}
		time.Sleep(tailPoll)
	}
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

// dumpStream is the dump as a consumer sees it: it counts the bytes,
// refuses to pass the size limit (calling outgrew, which kills the child),
// and fails every Read once stopped, so that a capture that ends early
// ends its consumer at its next Read.
type dumpStream struct {
	r       tailReader
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
	return n, err
}

// stop makes every Read fail from now on, one waiting for the child
// included.
func (s *dumpStream) stop() { s.stopped.Store(true) }

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
	// allows: first touches cost about 16 µs a page on a VM. A refusal
	// costs only speed.
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
