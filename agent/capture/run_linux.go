//go:build linux && (amd64 || arm64)

package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/heaptop/heaptop/agent/internal/units"
	"golang.org/x/sys/unix"
)

// Memory the capture leaves to the rest of the machine besides its own
// needs, and what it reserves for copy-on-write: while the child lives,
// every page this process writes is copied. The reserve is a guess,
// bounded by BENCHMARKS.md's measurement (capture section: an
// allocation-heavy host dirtied under 25% of its heap during a dump).
const (
	minSpareBytes    = 64 << 20
	cowReserveFactor = 4 // reserve estimate/cowReserveFactor
	errTextCap       = 1 << 20
)

// headroom is memoryHeadroom; tests replace it.
var headroom = memoryHeadroom

// dumpEstimate is the estimated size of a dump now; tests replace it.
var dumpEstimate = func() int64 { return estimateDumpSize(readHeapFigures()) }

// captureOnce runs the attempts of one capture, each attempt's dump read
// by consume (see Stream), or kept whole in the shot's bytes if consume is
// nil (Capture). stop ends it early (Close, or a Stream caller's context).
// A panic inside becomes an error: a bug here must not crash the host.
func (c *Capturer) captureOnce(stop context.Context, consume func(io.Reader) error) (s *shot, err error) {
	defer func() {
		if r := recover(); r != nil {
			if s != nil && s.unmap != nil {
				s.unmap()
			}
			s, err = nil, fmt.Errorf("capture: internal error: %v", r)
		}
	}()
	start := time.Now()
	if stop.Err() != nil {
		return nil, c.stopError(stop)
	}
	est := dumpEstimate()

	c.segOnce.Do(func() {
		segs, allgs, mheap, err := readRuntimeSymbols()
		if c.opts.Segments != nil {
			segs, err = c.opts.Segments()
		}
		c.segs, c.segErr = segs, err
		c.allgs.CompareAndSwap(0, allgs) // the child checks it before use
		c.arenaIndex, c.arenaIndexFound = findArenaIndex(mheap)
		c.populateArenaIndex = c.arenaIndexFound && !populateCostsMemory()
	})
	if c.populateArenaIndex {
		populateArenaIndex(c.arenaIndex) // see arenaindex_linux.go
	}
	// A stripped binary's allgs is learnt from a whole dump (findAllgs):
	// until then a Stream keeps its dump too, and consumes it from memory.
	learnAllgs := c.allgs.Load() == 0 && c.stackGuard() != 0
	keep := consume == nil || learnAllgs

	// The segments and the runtime's messages go to shared memory (memfd)
	// or, failing that, to files; a kept dump is held in this process's
	// memory. Refuse before forking when they cannot fit.
	backing := "memfd"
	if probe, err := unix.MemfdCreate("heaptop-probe", unix.MFD_CLOEXEC); err != nil {
		backing = "tempfile"
	} else {
		unix.Close(probe)
	}
	// The dump file holds what its reader has not read yet: at worst, a
	// reader starved by a busy program, the whole dump.
	if backing == "tempfile" {
		disk, err := diskRoom(c.opts.TempDir)
		if err != nil {
			return nil, refuse("no memfd and cannot stat %s: %v", c.opts.TempDir, err)
		}
		if files := est + segmentsFileSize(c.segs) + errTextCap; disk < files+minSpareBytes {
			return nil, refuse("the capture needs about %s on disk and %s has %s free", units.Bytes(files), c.opts.TempDir, units.Bytes(disk))
		}
	}
	need := est/cowReserveFactor + minSpareBytes
	what := "a copy-on-write reserve and 64 MiB to spare"
	if backing == "memfd" {
		need += est
		what = fmt.Sprintf("the estimated %s dump in shared memory until it is read, %s", units.Bytes(est), what)
	}
	if keep {
		need += est
		what = fmt.Sprintf("the dump kept whole, %s", what)
	}
	if room, source := headroom(); room >= 0 && room < need {
		return nil, refuse("the dump needs about %s of memory (%s) and %s leaves %s", units.Bytes(need), what, source, units.Bytes(room))
	}
	limit := est + est/2 + minSpareBytes // a dump reaching this has its child killed, and is refused

	timeout := c.opts.Timeout
	if timeout <= 0 {
		timeout = 20*time.Second + time.Duration(est>>30)*10*time.Second
	}

	read := consume
	var buf *dumpBuffer
	if keep {
		if buf, err = newDumpBuffer(limit); err != nil {
			return nil, refuse("cannot reserve %s of memory for the dump: %v", units.Bytes(limit), err)
		}
		defer buf.free()
		read = buf.fill
	}
	var retried []string
	for attempt := 1; attempt <= c.opts.Attempts; attempt++ {
		var retry bool
		s, retry, err = c.attempt(stop, backing, est, limit, timeout, read)
		if err == nil {
			s.stats.Retried = retried
			s.stats.Start = start
			s.stats.Estimate = est
			s.stats.Attempts = attempt
			s.stats.Backing = backing
			s.stats.ArenaIndexFound, s.stats.ArenaIndexMapped = c.arenaIndexFound, c.populateArenaIndex
			break
		}
		if !retry || stop.Err() != nil {
			return nil, err
		}
		retried = append(retried, err.Error())
	}
	if err != nil {
		return nil, err
	}
	if keep {
		dump, free := buf.seal()
		s.bytes = dump
		unmapRest := s.unmap
		s.unmap = func() error { return errors.Join(free(), unmapRest()) }
		if learnAllgs {
			s.after = func(s *shot) { c.allgs.CompareAndSwap(0, findAllgs(s.bytes)) }
		}
		if consume != nil {
			err := consume(&untilStopped{bytes.NewReader(s.bytes), stop})
			if err != nil || stop.Err() != nil {
				s.unmap()
				if stop.Err() != nil {
					return nil, c.stopError(stop)
				}
				return nil, fmt.Errorf("capture: the dump's consumer: %w", err)
			}
		}
	}
	s.stats.Total = time.Since(start)
	return s, nil
}

// untilStopped reads a kept dump for a Stream's consumer until stop.
type untilStopped struct {
	r    io.Reader
	stop context.Context
}

func (u *untilStopped) Read(p []byte) (int, error) {
	if u.stop.Err() != nil {
		return 0, errStreamStopped
	}
	return u.r.Read(p)
}

// stopError is the error of a capture ended through stop: ErrClosed after
// Close, else the Stream caller's context error.
func (c *Capturer) stopError(stop context.Context) error {
	if c.closing.Err() != nil {
		return ErrClosed
	}
	return stop.Err()
}

// segmentsFileSize is the size of the child's segments file: each range's
// address and length, then its bytes, plus a page to spare.
func segmentsFileSize(segs []Segment) int64 {
	var n int64 = 4096
	for _, sg := range segs {
		n += 16 + int64(sg.Size)
	}
	return n
}

// files are the capture descriptors of one attempt: the dump file, the
// segments file and the runtime messages file.
type files struct {
	dump, extra, errText *os.File
}

func (fs *files) close() {
	for _, f := range []*os.File{fs.dump, fs.extra, fs.errText} {
		if f != nil {
			f.Close()
		}
	}
}

// newBacking makes one capture file of at most limit bytes: a sealed memfd
// or an unlinked temporary file, moved to a descriptor >= minHighFD.
func (c *Capturer) newBacking(name, backing string, limit int64) (*os.File, error) {
	f, err := newFile(name, backing, c.opts.TempDir, unix.MFD_ALLOW_SEALING)
	if err != nil || backing != "memfd" {
		return f, err
	}
	// A sparse file of the limit's size, sealed so no write can grow it: a
	// child writing more than expected is cut short instead of eating
	// memory.
	fd := int(f.Fd())
	if err := unix.Ftruncate(fd, limit); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_GROW|unix.F_SEAL_SHRINK|unix.F_SEAL_SEAL); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// newFile makes an empty capture file: a memfd (with the extra flags) or,
// without memfd, an unlinked 0600 temporary file in tempDir; close-on-exec
// and moved to a descriptor >= minHighFD.
func newFile(name, backing, tempDir string, memfdFlags int) (*os.File, error) {
	var fd int
	if backing == "memfd" {
		var err error
		if fd, err = unix.MemfdCreate(name, unix.MFD_CLOEXEC|memfdFlags); err != nil {
			return nil, err
		}
	} else {
		f, err := os.CreateTemp(tempDir, "heaptop-*.dump")
		if err != nil {
			return nil, err
		}
		os.Remove(f.Name())
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return nil, err
		}
		fd, err = unix.Dup(int(f.Fd()))
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	high, err := highFD(fd)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(high), name), nil
}

// attempt starts one dump child, has read consume its dump stream while it
// runs, and collects its result. retry says whether another child may
// succeed where this one failed.
//
// Who is to blame when both sides fail: a child that ended on its own
// (a throw, a timeout, the seccomp filter) cut the stream short, so its
// failure is the error and the consumer's is ignored; a consumer that
// failed while the child was healthy has the child killed (its dump is of
// no use) and its error is returned, not retried.
func (c *Capturer) attempt(stop context.Context, backing string, est, limit int64, timeout time.Duration, read func(io.Reader) error) (s *shot, retry bool, err error) {
	var fs files
	defer fs.close()
	segs := writtenParts(c.segs)
	segFileSize := segmentsFileSize(segs)
	if fs.extra, err = c.newBacking("heaptop-segments", backing, segFileSize); err != nil {
		return nil, false, fmt.Errorf("capture: segments file: %w", err)
	}
	if fs.errText, err = c.newBacking("heaptop-stderr", backing, errTextCap); err != nil {
		return nil, false, fmt.Errorf("capture: stderr file: %w", err)
	}

	page, err := unix.Mmap(-1, 0, os.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, false, fmt.Errorf("capture: status page: %w", err)
	}
	defer unix.Munmap(page)
	status := (*childStatus)(unsafe.Pointer(&page[0]))

	protect, err := sharedWritableMappings(uintptr(unsafe.Pointer(&page[0])))
	if err != nil {
		return nil, false, fmt.Errorf("capture: reading /proc/self/maps: %w", err)
	}
	noptr := make([]memRange, 0, len(segs))
	for _, sg := range segs {
		noptr = append(noptr, memRange{uintptr(sg.Addr), uintptr(sg.Size)})
	}
	// RLIMIT_FSIZE caps every file the child writes, the dump's at limit.
	fsize := uint64(max(segFileSize, errTextCap, limit))
	oomPath := []byte("/proc/self/oom_score_adj\x00")
	oomValue := []byte("1000")
	args := &childArgs{
		parentPID:   uintptr(os.Getpid()),
		extraFD:     fs.extra.Fd(),
		errFD:       fs.errText.Fd(),
		fsizeLimit:  unix.Rlimit{Cur: fsize, Max: fsize},
		protect:     protect,
		noptr:       noptr,
		status:      status,
		oomAdjPath:  &oomPath[0],
		oomAdjValue: &oomValue[0],
		oomAdjLen:   uintptr(len(oomValue)),
		guard:       c.stackGuard(),
		allgs:       uintptr(c.allgs.Load()),
	}
	pid, times, err := c.startChild(&fs, args, backing)
	runtime.KeepAlive(oomPath)
	runtime.KeepAlive(oomValue)
	if err != nil {
		return nil, false, err
	}

	var peak atomic.Int64
	stopSampling := make(chan struct{})
	if c.opts.MeasureChild {
		go sampleChildMemory(pid, &peak, stopSampling)
	}
	ch := &dumpChild{pid: pid}
	exited := make(chan struct{})
	stream := &dumpStream{limit: limit, outgrew: func() { ch.kill(killOutgrew) }}
	stream.r = tailReader{f: fs.dump, exited: exited, stopped: &stream.stopped}
	var stopped atomic.Bool
	defer context.AfterFunc(stop, func() {
		stopped.Store(true)
		ch.kill(killStopped)
		stream.stop()
	})()
	consumed := make(chan error, 1)
	go func() {
		consumed <- consumeStream(read, stream, ch)
	}()
	ws, killed, waitErr := ch.wait(timeout)
	close(exited)
	close(stopSampling)
	clean := waitErr == nil && killed == notKilled && ws.Exited() && ws.ExitStatus() == exitOK && status.phase.Load() == phaseDone
	if !clean {
		stream.stop() // the consumer learns at its next Read
	}
	consumeErr := <-consumed

	switch {
	case stopped.Load():
		return nil, false, c.stopError(stop)
	case waitErr != nil:
		return nil, false, fmt.Errorf("capture: waiting for the dump process %d: %w", pid, waitErr)
	case killed == killOutgrew || stream.n >= limit:
		return nil, false, refuse("the dump outgrew its %s limit (the estimate was %s)", units.Bytes(limit), units.Bytes(est))
	case killed == killConsumer:
		return nil, false, fmt.Errorf("capture: the dump's consumer: %w", consumeErr)
	}
	if err := childFailure(ws, killed == killTimeout, timeout, status, fs.errText); err != nil {
		var cf *childError
		return nil, errors.As(err, &cf) && cf.retry, err
	}
	if consumeErr != nil {
		return nil, false, fmt.Errorf("capture: the dump's consumer: %w", consumeErr)
	}
	// A whole dump ends with its EOF record, a zero byte.
	if stream.n == 0 || stream.last != 0 {
		return nil, false, fmt.Errorf("capture: the dump stream ended without its EOF record after %d bytes", stream.n)
	}

	extraSize, err := unix.Seek(int(fs.extra.Fd()), 0, 1) // the child's writes moved the shared offset
	if err != nil {
		return nil, false, fmt.Errorf("capture: segments size: %w", err)
	}
	s = &shot{unmap: func() error { return nil }, segErr: c.segErr}
	if extraSize > 0 {
		extra, err := unix.Mmap(int(fs.extra.Fd()), 0, int(extraSize), unix.PROT_READ, unix.MAP_SHARED)
		if err != nil {
			return nil, false, fmt.Errorf("capture: mapping the segments: %w", err)
		}
		s.unmap = func() error { return unix.Munmap(extra) }
		if s.segments, err = splitSegments(extra, segs); err != nil {
			s.segments, s.segErr = nil, err
		}
	}
	s.stats.Repaired = int(status.repaired.Load())
	s.stats.ChildPrivatePeak = peak.Load()
	s.stats.HostPause = times.stop + times.clone + times.restore
	s.stats.Fork = times.clone
	s.stats.FirstStop, s.stats.Restore = times.stop, times.restore
	s.stats.ChildDump = time.Duration(status.dumpEndNs.Load() - status.dumpStartNs.Load())
	s.stats.Size = stream.n
	return s, false, nil
}

// consumeStream runs one attempt's consumer, then discards whatever it
// left unread. A consumer that fails has the child killed at once: its
// dump is of no use any more.
func consumeStream(read func(io.Reader) error, stream *dumpStream, ch *dumpChild) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
		if err != nil {
			ch.kill(killConsumer)
		}
	}()
	if err := read(stream); err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, stream)
	return err
}

// startChild creates the dump file, lists the host's descriptors for the
// child to close, builds its filter and forks it, all under forkMu: a
// descriptor another Capturer creates meanwhile would otherwise be missing
// from the list and stay open in the child. fs.dump becomes the dump file.
func (c *Capturer) startChild(fs *files, args *childArgs, backing string) (pid int, times forkTimes, err error) {
	forkMu.Lock()
	defer forkMu.Unlock()
	// The dump file grows as the child appends (no size, no seals).
	if fs.dump, err = newFile("heaptop-dump", backing, c.opts.TempDir, 0); err != nil {
		return 0, times, fmt.Errorf("capture: dump file: %w", err)
	}
	w := fs.dump.Fd()
	closeFDs, epollFDs, err := hostDescriptors(w, fs.extra.Fd(), fs.errText.Fd())
	if err != nil {
		return 0, times, fmt.Errorf("capture: listing descriptors: %w", err)
	}
	epollU := make([]uint32, len(epollFDs))
	for i, fd := range epollFDs {
		epollU[i] = uint32(fd)
	}
	filter := childFilter([]uint32{uint32(w), uint32(fs.extra.Fd())}, epollU)
	args.dumpFD = uintptr(w)
	args.closeFDs, args.epollFDs = closeFDs, epollFDs
	args.prog = filterProg(filter)
	p, times, errno := c.fork(args)
	runtime.KeepAlive(filter)
	runtime.KeepAlive(args)
	if errno != 0 {
		return 0, times, refuse("cannot create the dump process: clone: %v", errno)
	}
	return int(p), times, nil
}

// stackGuard checks go1.26's g layout once (g_linux.go) and returns the
// stack guard the child restores, or 0 if the layout is not the expected one.
func (c *Capturer) stackGuard() uintptr {
	c.guardOnce.Do(func() {
		for range 10 { // a preemption request pending right now fails the check
			if g, ok := gLayoutGuard(); ok {
				c.guard = g
				return
			}
			runtime.Gosched()
		}
	})
	return c.guard
}

// forkMu serialises the dump children's starts (startChild) between
// Capturers: the GOMAXPROCS dance, and the descriptor list each child
// closes.
var forkMu sync.Mutex

// fork clones the dump child while this goroutine holds the only P, so the
// child's runtime has no P owned by a thread it lacks (see doc.go), then
// restores GOMAXPROCS. It returns the child's pid and the parts of the
// host pause. The caller holds forkMu.
//
// The pause is measured from the return of GOMAXPROCS(1) to the return of
// the restoring call (the host has one P and the capture holds it), plus
// the stop-the-world of the GOMAXPROCS(1) call itself as the runtime
// records it (/sched/pauses/total/other, the upper bound of its histogram
// bucket). Wall time around GOMAXPROCS(1) would also count the wait for a
// GC cycle in progress, during which the host runs normally.
func (c *Capturer) fork(a *childArgs) (pid uintptr, t forkTimes, errno syscall.Errno) {
	restore := c.procsRestorer()
	a.t0 = time.Now()
	before := otherPauses()
	prev := runtime.GOMAXPROCS(1)
	// From here to the restoring stop-the-world the host has one P and
	// this goroutine holds it. A preemption request (sysmon asks after
	// 10 ms on one P, and may count from before the STW) would make it
	// yield at the next call and leave the host on one P behind the whole
	// run queue: clear it, and call nothing that can yield until restore.
	t1 := monoNow()
	clearPreempt(a.guard)
	pid, errno = forkDumpChild(a)
	t2 := monoNow()
	clearPreempt(a.guard)
	restore(prev)
	t3 := monoNow()
	t.stop = before.newestMax(otherPauses())
	t.clone, t.restore = time.Duration(t2-t1), time.Duration(t3-t2)
	return pid, t, errno
}

// forkTimes are the parts of the host pause (Stats.HostPause).
type forkTimes struct {
	stop    time.Duration // GOMAXPROCS(1)'s stop-the-world, from the runtime's histogram
	clone   time.Duration // the clone call, holding the only P
	restore time.Duration // restoring GOMAXPROCS, its stop-the-world included
}

// monoNow reads CLOCK_MONOTONIC in nanoseconds without a preemption point.
//
//go:nosplit
func monoNow() int64 {
	var ts unix.Timespec
	syscall.RawSyscall(unix.SYS_CLOCK_GETTIME, unix.CLOCK_MONOTONIC, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

// killReason says why the host killed a dump child.
type killReason int

const (
	notKilled    killReason = iota
	killTimeout             // it ran past the timeout
	killStopped             // Close, or a Stream caller's context
	killConsumer            // its consumer failed: its dump is of no use
	killOutgrew             // its stream passed the size limit
)

// dumpChild is a running dump child: killed at most once, for the first
// reason that comes, and only until it is reaped, so that no kill can hit
// a recycled pid.
type dumpChild struct {
	pid    int
	mu     sync.Mutex // guards exited and killed
	exited bool
	killed killReason
}

func (ch *dumpChild) kill(why killReason) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if !ch.exited && ch.killed == notKilled {
		ch.killed = why
		unix.Kill(ch.pid, unix.SIGKILL)
	}
}

// wait waits for the child to exit, killing it after timeout, and reaps
// it. The child has no exit signal, hence __WALL. It waits with WNOWAIT
// first: until the final wait4 the exited child keeps its pid as a zombie,
// so a kill in between hits nothing else. killed is why the host killed
// it, or notKilled if it ended on its own (a kill that reached a child
// already exiting does not count).
func (ch *dumpChild) wait(timeout time.Duration) (ws syscall.WaitStatus, killed killReason, err error) {
	timer := time.AfterFunc(timeout, func() { ch.kill(killTimeout) })
	var info unix.Siginfo
	for {
		err = unix.Waitid(unix.P_PID, ch.pid, &info, unix.WEXITED|unix.WNOWAIT|unix.WALL, nil)
		if err != unix.EINTR {
			break
		}
	}
	timer.Stop()
	ch.mu.Lock()
	ch.exited = true
	killed = ch.killed
	ch.mu.Unlock()
	if err != nil {
		return 0, killed, err
	}
	for {
		_, err = unix.Wait4(ch.pid, (*unix.WaitStatus)(&ws), unix.WALL, nil)
		if err != unix.EINTR {
			break
		}
	}
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		killed = notKilled
	}
	return ws, killed, err
}

// sampleChildMemory records the child's peak private memory until stop.
func sampleChildMemory(pid int, peak *atomic.Int64, stop <-chan struct{}) {
	defer func() { recover() }()
	path := fmt.Sprintf("/proc/%d/smaps_rollup", pid)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if b, err := os.ReadFile(path); err == nil {
			var total int64
			for _, line := range strings.Split(string(b), "\n") {
				f := strings.Fields(line)
				if len(f) == 3 && (f[0] == "Private_Clean:" || f[0] == "Private_Dirty:") {
					kb, _ := strconv.ParseInt(f[1], 10, 64)
					total += kb << 10
				}
			}
			if total > peak.Load() {
				peak.Store(total)
			}
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// childError is a dump child that did not produce a dump.
type childError struct {
	msg   string
	retry bool
}

func (e *childError) Error() string { return e.msg }

// The dumper's throw on a goroutine status it does not accept; see doc.go.
const badStatusThrow = "dumpgs in STW - bad status"

// childFailure explains a child's end, or returns nil if it finished.
func childFailure(ws syscall.WaitStatus, timedOut bool, timeout time.Duration, st *childStatus, errText *os.File) error {
	phase := st.phase.Load()
	where := "before starting"
	if int(phase) < len(phaseNames) {
		where = "while " + phaseNames[phase]
	}
	text := readErrText(errText)
	switch {
	case timedOut:
		// A runtime lock held by another thread at the fork would leave the
		// child waiting forever: another fork may not meet it.
		return &childError{fmt.Sprintf("capture: the dump process did not finish within %v (%s); killed", timeout, where), true}
	case ws.Exited() && ws.ExitStatus() == exitOK && phase == phaseDone:
		return nil
	case ws.Exited() && ws.ExitStatus() == exitSetup:
		return &childError{fmt.Sprintf("capture: the dump process could not confine itself (setup step %d: %v)", st.setupStep.Load(), syscall.Errno(st.errno.Load())), false}
	case ws.Exited() && ws.ExitStatus() == exitNoSeccomp:
		return refuse("seccomp filters are not available (%v); the dump process cannot be confined", syscall.Errno(st.errno.Load()))
	case strings.Contains(text, badStatusThrow):
		// A goroutine was frozen by the fork in a state the dumper throws on
		// (see doc.go). The host was not touched; a later fork will not
		// catch the same instant. _Gleaked (0xa) survives until the next GC.
		if strings.Contains(text, "G.status 0xa") {
			runtime.GC()
		}
		return &childError{fmt.Sprintf("capture: the dump process hit the runtime dumper's bad-status throw (%s; %d goroutines repaired before); retrying", firstLines(text, 2), st.repaired.Load()), true}
	case ws.Signaled() && ws.Signal() == syscall.SIGSYS:
		// The filter killed it: something in the child (a host goroutine
		// its scheduler ran, had it yielded) made a call the dump does
		// not need. Nothing reached the host; another child may not yield.
		return &childError{fmt.Sprintf("capture: the dump process was stopped by its seccomp filter %s%s", where, textSuffix(text)), true}
	case ws.Signaled():
		return &childError{fmt.Sprintf("capture: the dump process was killed by %v %s%s", ws.Signal(), where, textSuffix(text)), false}
	}
	return &childError{fmt.Sprintf("capture: the dump process exited with status %d %s%s", ws.ExitStatus(), where, textSuffix(text)), false}
}

func readErrText(f *os.File) string {
	n, err := unix.Seek(int(f.Fd()), 0, 1)
	if err != nil || n <= 0 {
		return ""
	}
	buf := make([]byte, min(n, errTextCap))
	m, _ := unix.Pread(int(f.Fd()), buf, 0)
	return string(buf[:max(m, 0)])
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(strings.TrimSpace(s), "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "; ")
}

func textSuffix(text string) string {
	if text == "" {
		return ""
	}
	return ": " + firstLines(text, 3)
}

// splitSegments cuts the child's segments file into the requested ranges.
func splitSegments(b []byte, want []Segment) ([]Segment, error) {
	out := make([]Segment, 0, len(want))
	for _, w := range want {
		if len(b) < 16 {
			return nil, errors.New("capture: segments file cut short")
		}
		addr, size := binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])
		b = b[16:]
		if addr != w.Addr || size != w.Size || uint64(len(b)) < size {
			return nil, errors.New("capture: segments file does not match the requested ranges")
		}
		out = append(out, Segment{Name: w.Name, Addr: addr, Size: size, Bytes: b[:size:size]})
		b = b[size:]
	}
	if len(bytes.TrimRight(b, "\x00")) != 0 {
		return nil, errors.New("capture: extra bytes after the segments")
	}
	return out, nil
}
