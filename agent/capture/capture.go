package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a Capturer. The zero value is safe in production.
type Options struct {
	// Timeout bounds one dump attempt in the child, which is killed when
	// it runs out. Default: 20 s plus 10 s per GiB of estimated dump (the
	// child writes about 1 GiB/s on a 2-core VM; see BENCHMARKS.md). The
	// child writes no faster than the dump is read: a Stream consumer
	// slower than that (100 MiB/s) needs a longer Timeout. The bound
	// stays on the whole attempt because the copy-on-write cost to this
	// process grows with the child's life.
	Timeout time.Duration

	// TempDir holds the dump child's segments and messages files when
	// memfd_create is not available (each file is unlinked as soon as it
	// is created). Default: os.TempDir().
	TempDir string

	// Attempts is how many times a capture is tried when the child dies
	// for a reason another try can cure (a goroutine caught in a state the
	// dumper rejects, a runtime lock held at the fork). Default: 3.
	Attempts int

	// MeasureChild samples the dump child's private memory every 20 ms
	// (/proc/PID/smaps_rollup) into Stats.ChildPrivatePeak: a measurement
	// aid for benchmarks, off by default.
	MeasureChild bool

	// Segments returns the noptrdata and noptrbss ranges of this process,
	// the globals the dump leaves out. Default: read from the symbol table
	// of /proc/self/exe; without one, dumps come without those segments and
	// Dump.SegmentsErr says why.
	Segments func() ([]Segment, error)
}

// Segment is a range of this process's globals: in Options.Segments only
// its Name, Addr and Size; in a Dump also its Bytes, copied by the dump
// child at the same instant as the dump. A Dump may give a segment in
// several parts of one Name: the pages of noptrbss never written (zeros)
// are left out.
type Segment struct {
	Name  string // "noptrdata" or "noptrbss"
	Addr  uint64
	Size  uint64
	Bytes []byte
}

// Stats describes one capture. All durations are wall-clock (monotonic).
type Stats struct {
	Start time.Time

	// HostPause is how long this process's own goroutines could not run
	// because of the capture: the stop-the-world of GOMAXPROCS(1) (as the
	// runtime records it), then the time the capturing goroutine held the
	// only P (the clone system call) up to the end of the stop-the-world
	// that restores GOMAXPROCS. The dump's own stop-the-world happens in
	// the child and does not stop this process.
	HostPause time.Duration
	// HostPause's parts: FirstStop, GOMAXPROCS(1)'s stop-the-world (the
	// upper bound of its bucket in /sched/pauses/total/other); Fork, the
	// clone system call, which grows with the process's mapped memory
	// (page tables are copied); Restore, the call restoring GOMAXPROCS,
	// its own stop-the-world included.
	FirstStop, Fork, Restore time.Duration
	// ChildDump is WriteHeapDump's duration in the child: the pause the
	// runtime's dumper would have imposed had it run in this process.
	ChildDump time.Duration
	// Total runs from the request to a readable dump (Capture), or to the
	// end of the consumer's work and the child's exit (Stream).
	Total time.Duration

	Estimate int64  // dump size estimated before capturing
	Size     int64  // dump size, as read from the child
	Attempts int    // children started
	Backing  string // where the segments and the child's messages went: "memfd" or "tempfile"
	// Retried lists why each failed attempt before the last failed.
	Retried []string
	// ChildPrivatePeak is the most memory the child held privately, pages
	// copied on write by either process included (Options.MeasureChild).
	ChildPrivatePeak int64
	// Repaired counts goroutines the child found frozen by the fork in a
	// state the dumper throws on, and set to the state they were entering
	// (see goroutines_linux.go).
	Repaired int
	// ArenaIndexFound: the runtime's arena index was found; ArenaIndexMapped:
	// and its pages were mapped before the fork, so the child did not fault
	// on them, which is done only where that costs the process no memory
	// (arenaindex_linux.go).
	ArenaIndexFound, ArenaIndexMapped bool
}

// Dump is a captured heap dump: Bytes in the format package heapdump
// reads, mapped read-only (nil from Stream, whose consumer had the dump).
// Bytes and the Segments' Bytes are valid until Close; every Dump returned
// by Capture or Stream must be closed.
type Dump struct {
	Bytes       []byte
	Segments    []Segment
	SegmentsErr error // why Segments is empty, if it is
	Stats       Stats

	shot   *shot
	closed atomic.Bool
}

// Close releases this handle; the mapping goes when the last handle of a
// shared capture is closed. Close is idempotent.
func (d *Dump) Close() error {
	if d == nil || !d.closed.CompareAndSwap(false, true) {
		return nil
	}
	return d.shot.release()
}

// shot is one capture's result, shared by the callers that waited for it.
type shot struct {
	refs     atomic.Int32
	bytes    []byte
	segments []Segment
	segErr   error
	stats    Stats
	unmap    func() error
	// after, if set, runs in the background on the result, holding a
	// reference to it.
	after func(*shot)
}

// share hands the result to n holders, and starts after.
func (s *shot) share(n int32) {
	s.refs.Store(n)
	if s.after != nil {
		s.refs.Add(1)
		go func() {
			defer func() { recover() }() // a bug here must not hurt the host
			defer s.release()
			s.after(s)
		}()
	}
}

func (s *shot) release() error {
	if s.refs.Add(-1) == 0 && s.unmap != nil {
		return s.unmap()
	}
	return nil
}

func (s *shot) handle() *Dump {
	return &Dump{Bytes: s.bytes, Segments: s.segments, SegmentsErr: s.segErr, Stats: s.stats, shot: s}
}

// ErrClosed: the Capturer was closed before or during the capture, whose
// child, if any, was killed.
var ErrClosed = errors.New("capture: stopped, the capturer was closed")

// ErrRefused: a capture that cannot be done safely was not attempted.
var ErrRefused = errors.New("capture refused")

// RefusedError says why a capture was not attempted; it unwraps to ErrRefused.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "capture refused: " + e.Reason }
func (e *RefusedError) Unwrap() error { return ErrRefused }

func refuse(format string, args ...any) error {
	return &RefusedError{Reason: fmt.Sprintf(format, args...)}
}

// Capturer takes heap dumps of this process, one at a time.
type Capturer struct {
	opts Options

	// closing is done once Close was called: a dump child still running is
	// killed and no other is started.
	closing context.Context
	close   context.CancelFunc

	mu     sync.Mutex // guards flight
	flight *flight    // the Capture in progress or waiting for its turn, or nil

	// turn is held by the one capture running (a flight's or a Stream's):
	// one dump child per Capturer at a time.
	turn chan struct{}

	segOnce sync.Once // guards segs, segErr and arenaIndex
	segs    []Segment
	segErr  error
	// The runtime's arena index, which the dump child reads whole
	// (arenaindex_linux.go), when found, and whether to map it before each
	// fork.
	arenaIndex         memRange
	arenaIndexFound    bool
	populateArenaIndex bool
	envProcs           bool // GOMAXPROCS was set in the environment at New

	guardOnce sync.Once     // guards guard
	guard     uintptr       // see stackGuard
	allgs     atomic.Uint64 // address of runtime.allgs, once a dump showed it (goroutines_linux.go)
}

// flight is a capture in progress. Every caller waiting for it holds one
// reference to its result, counted in waiters under Capturer.mu.
type flight struct {
	done    chan struct{}
	waiters int32
	shot    *shot // nil on failure; set before done is closed
	err     error
}

// New returns a Capturer with opts' defaults filled in.
func New(opts Options) *Capturer {
	if opts.TempDir == "" {
		opts.TempDir = os.TempDir()
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 3
	}
	closing, close := context.WithCancel(context.Background())
	return &Capturer{opts: opts, envProcs: os.Getenv("GOMAXPROCS") != "", closing: closing, close: close, turn: make(chan struct{}, 1)}
}

// Close kills the dump child of a capture in progress, which then fails
// with ErrClosed, and refuses every later capture with ErrClosed. It does
// not wait: the capture's caller returns at once, its descriptors closed.
// Idempotent.
func (c *Capturer) Close() { c.close() }

// Capture dumps the heap of this process and returns the dump, read whole
// from the child's dump file into anonymous memory (so it needs memory room
// for that copy too, unlike Stream). If a Capture is already running, Capture waits
// for it and returns the same dump (its own handle, to Close); during a
// Stream it waits for the Stream to end (see Stream). A capture that
// cannot be done safely is refused with a *RefusedError before anything
// happens to the process. ctx bounds only this caller's wait: the
// capture itself, shared with other callers, is bounded by
// Options.Timeout.
func (c *Capturer) Capture(ctx context.Context) (*Dump, error) {
	c.mu.Lock()
	f := c.flight
	if f == nil {
		f = &flight{done: make(chan struct{})}
		c.flight = f
		go c.run(f)
	}
	f.waiters++
	c.mu.Unlock()

	select {
	case <-f.done:
		if f.err != nil {
			return nil, f.err
		}
		return f.shot.handle(), nil
	case <-ctx.Done():
		// Our reference is counted: give it back once the result exists.
		go func() {
			<-f.done
			if f.shot != nil {
				f.shot.release()
			}
		}()
		return nil, ctx.Err()
	}
}

// Stream dumps the heap of this process like Capture, but the dump is not
// kept: consume reads it while the child writes it, and what it has read
// is freed from the dump file (which still needs room for the whole dump,
// should the reader fall behind; a consumer that keeps the dump, or builds
// something from it, accounts for its own memory). The returned Dump has the
// Segments and Stats (Size is the bytes read) and no Bytes; it must be
// closed.
//
// consume is called once per attempt of the capture, in a goroutine of
// its own, with a reader over the dump; it returns when it has read the
// dump (through its EOF record) or failed. An attempt the child fails (a
// throw, its timeout) may be retried: consume is then called again, with a
// fresh reader over a new dump, and must start over (reset whatever it
// built from the earlier one). One exception: while runtime.allgs is
// unknown (a binary without its symbol table, until a dump showed it; see
// goroutines_linux.go) the dump is kept in memory like Capture's, needs
// the memory room Capture needs, and consume is called once, in Stream's
// goroutine, on the kept dump. The rules:
//
//   - A child that fails on its own cuts the stream short: its failure is
//     the error (retried when another child may succeed), consume's error
//     on the short stream is ignored.
//   - consume failing while the child is healthy has the child killed at
//     once (its dump is of no use) and Stream returns consume's
//     error, wrapped, without retrying.
//   - A stream passing the size limit makes the reader fail, the child is
//     killed and the capture refused (*RefusedError).
//   - After consume returns nil, what it left unread is discarded, and the
//     child must then exit cleanly for Stream to succeed.
//   - The child writes only as fast as consume reads, and
//     Options.Timeout bounds the whole attempt: a consumer too slow for
//     it has the child killed and the attempt retried.
//   - Close, or ctx ending, kills the child and makes the reader fail at
//     its next Read (one in progress included); Stream returns ErrClosed
//     (or ctx's error) once consume has returned. Stream never returns
//     while consume runs.
//
// Stream and Capture take turns: Stream starts when no capture is
// running (waiting, within ctx, for one in progress), does not share a
// Capture's dump, and Captures that come meanwhile wait for it, then
// share one new dump between them. ctx bounds the wait and the capture.
func (c *Capturer) Stream(ctx context.Context, consume func(dump io.Reader) error) (*Dump, error) {
	select {
	case c.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.closing.Done():
		return nil, ErrClosed
	}
	defer func() { <-c.turn }()
	stop, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(c.closing, cancel)()
	s, err := c.captureOnce(stop, consume)
	if err != nil {
		return nil, err
	}
	s.share(1)
	d := s.handle()
	d.Bytes = nil
	return d, nil
}

// run performs one flight's capture, in its turn, and publishes its result.
func (c *Capturer) run(f *flight) {
	var s *shot
	var err error
	select {
	case c.turn <- struct{}{}:
		s, err = c.captureOnce(c.closing, nil)
		<-c.turn
	case <-c.closing.Done():
		err = ErrClosed
	}
	c.mu.Lock()
	c.flight = nil
	if s != nil {
		s.share(f.waiters)
	}
	f.shot, f.err = s, err
	close(f.done)
	c.mu.Unlock()
}
