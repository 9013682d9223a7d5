package graph

import (
	"bytes"
	"context"
	"io"
	"math"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// stressLoad runs 1,000 goroutines that keep the scheduler busy in every
// state a capture can meet: blocking system calls that return at random
// times (pipe reads fed by writers, nanosleep), short system calls in
// loops (getpid, pread/pwrite on a file), timers, channel waits, a
// contended mutex and loopback TCP echo. progress counts each goroutine's
// completed iterations.
type stressLoad struct {
	stop     chan struct{}
	wg       sync.WaitGroup
	progress []atomic.Int64
	kinds    []string
	pipes    []int // write ends, to wake blocked readers at the end
}

const stressGoroutines = 1000

func startStress(t *testing.T) *stressLoad {
	s := &stressLoad{stop: make(chan struct{}), progress: make([]atomic.Int64, stressGoroutines), kinds: make([]string, stressGoroutines)}
	next := 0
	spawn := func(kind string, f func(i int, r *rand.Rand) bool) {
		i := next
		next++
		s.kinds[i] = kind
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			r := rand.New(rand.NewSource(int64(i)))
			for {
				select {
				case <-s.stop:
					return
				default:
				}
				if !f(i, r) {
					return
				}
				s.progress[i].Add(1)
			}
		}()
	}

	// 150 readers blocked in read(2) on blocking pipes, 150 writers.
	for range 150 {
		var p [2]int
		if err := syscall.Pipe(p[:]); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Close(p[0]); syscall.Close(p[1]) })
		s.pipes = append(s.pipes, p[1])
		spawn("pipe read", func(int, *rand.Rand) bool {
			var b [64]byte
			n, err := syscall.Read(p[0], b[:])
			return err == nil && n > 0
		})
		spawn("pipe write", func(_ int, r *rand.Rand) bool {
			time.Sleep(time.Duration(r.Intn(10000)) * time.Microsecond)
			_, err := syscall.Write(p[1], []byte("x"))
			return err == nil
		})
	}
	// 150 in nanosleep(2): blocking system calls ending at random times.
	for range 150 {
		spawn("nanosleep", func(_ int, r *rand.Rand) bool {
			ts := syscall.NsecToTimespec(int64(r.Intn(10000)+1) * 1000)
			syscall.Nanosleep(&ts, nil)
			return true
		})
	}
	// 100 in getpid loops (entersyscall/exitsyscall each time).
	for range 100 {
		spawn("getpid", func(_ int, r *rand.Rand) bool {
			for range 20 {
				syscall.Syscall(syscall.SYS_GETPID, 0, 0, 0)
			}
			time.Sleep(time.Duration(r.Intn(5000)) * time.Microsecond)
			return true
		})
	}
	// 50 pread/pwrite on a file.
	f, err := os.Create(filepath.Join(t.TempDir(), "stress"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fd := int(f.Fd())
	for range 50 {
		spawn("file io", func(i int, r *rand.Rand) bool {
			b := bytes.Repeat([]byte{byte(i)}, 512)
			if _, err := syscall.Pwrite(fd, b, int64(i*512)); err != nil {
				return false
			}
			_, err := syscall.Pread(fd, b, int64(i*512))
			time.Sleep(time.Duration(r.Intn(5000)) * time.Microsecond)
			return err == nil
		})
	}
	// 100 sleepers.
	for range 100 {
		spawn("sleep", func(_ int, r *rand.Rand) bool {
			time.Sleep(time.Duration(r.Intn(10000)) * time.Microsecond)
			return true
		})
	}
	// 50 pairs on channels.
	for range 50 {
		ping, pong := make(chan int), make(chan int)
		spawn("chan ping", func(i int, r *rand.Rand) bool {
			select {
			case ping <- i:
			case <-s.stop:
				return false
			}
			select {
			case <-pong:
			case <-s.stop:
				return false
			}
			time.Sleep(time.Duration(r.Intn(5000)) * time.Microsecond)
			return true
		})
		spawn("chan pong", func(i int, _ *rand.Rand) bool {
			select {
			case v := <-ping:
				select {
				case pong <- v:
				case <-s.stop:
					return false
				}
			case <-s.stop:
				return false
			}
			return true
		})
	}
	// 100 on one contended mutex.
	var mu sync.Mutex
	shared := map[int]int{}
	for range 100 {
		spawn("mutex", func(i int, r *rand.Rand) bool {
			mu.Lock()
			shared[i]++
			time.Sleep(time.Duration(r.Intn(50)) * time.Microsecond)
			mu.Unlock()
			time.Sleep(time.Duration(r.Intn(5000)) * time.Microsecond)
			return true
		})
	}
	// 100 loopback TCP clients of one echo server.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	for range 100 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		spawn("tcp echo", func(i int, r *rand.Rand) bool {
			msg := []byte{byte(i), byte(r.Intn(256)), 7, 9}
			c.SetDeadline(time.Now().Add(30 * time.Second))
			if _, err := c.Write(msg); err != nil {
				return false
			}
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
				return false
			}
			time.Sleep(time.Duration(r.Intn(5000)) * time.Microsecond)
			return true
		})
	}
	if next != stressGoroutines {
		t.Fatalf("spawned %d goroutines, want %d", next, stressGoroutines)
	}
	return s
}

// snapshot copies the progress counters.
func (s *stressLoad) snapshot() []int64 {
	out := make([]int64, len(s.progress))
	for i := range s.progress {
		out[i] = s.progress[i].Load()
	}
	return out
}

func (s *stressLoad) finish(t *testing.T) {
	close(s.stop)
	for _, fd := range s.pipes {
		syscall.Write(fd, []byte("x")) // wake the readers blocked in read(2)
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Error("the load did not stop within 10 s")
	}
}

// pauseHist snapshots the runtime's GC pause histogram.
type pauseHist struct {
	counts  []uint64
	buckets []float64
}

func gcPauses() pauseHist {
	s := []metrics.Sample{{Name: "/sched/pauses/total/gc:seconds"}}
	metrics.Read(s)
	h := s[0].Value.Float64Histogram()
	return pauseHist{append([]uint64(nil), h.Counts...), h.Buckets}
}

// since returns the median and maximum (bucket upper bounds) and number of
// the pauses recorded between p and q.
func (p pauseHist) since(q pauseHist) (median, maximum time.Duration, n uint64) {
	d := make([]uint64, len(q.counts))
	for i := range d {
		d[i] = q.counts[i] - p.counts[i]
		n += d[i]
	}
	bound := func(i int) time.Duration {
		hi := q.buckets[i+1]
		if math.IsInf(hi, 1) {
			hi = q.buckets[i]
		}
		return time.Duration(hi * float64(time.Second))
	}
	var seen uint64
	for i, c := range d {
		if c == 0 {
			continue
		}
		if seen < (n+1)/2 && seen+c >= (n+1)/2 {
			median = bound(i)
		}
		seen += c
		maximum = bound(i)
	}
	return median, maximum, n
}

// TestStress_captures_under_1000_busy_goroutines: the process survives
// captures in a row (40 in npm test; HEAPTOP_STRESS_CAPTURES=200 for the
// full run) while 1,000 goroutines churn through system calls,
// timers, channels, a mutex and TCP; every graph keeps its invariants, the
// goroutines are all in it, and every goroutine (the TCP clients included,
// whose events a careless child could steal) keeps making progress.
// A capture here takes 0.5–5 s on a 2-core VM, by the machine's load;
// skipped with -short.
func TestStress_captures_under_1000_busy_goroutines(t *testing.T) {
	if testing.Short() {
		t.Skip("minutes; run without -short")
	}
	captures := 40
	if n, err := strconv.Atoi(os.Getenv("HEAPTOP_STRESS_CAPTURES")); err == nil && n > 0 {
		captures = n
	}
	s := startStress(t)
	defer s.finish(t)
	time.Sleep(200 * time.Millisecond)
	gcBefore := gcPauses()
	start := time.Now()
	retried, repaired, maxPause := 0, 0, time.Duration(0)
	var pauses time.Duration
	for i := range captures {
		d, err := capturer.Capture(context.Background())
		if err != nil {
			t.Fatalf("capture %d: %v", i, err)
		}
		if d.Stats.Attempts > 1 {
			retried++
			t.Logf("capture %d retried: %q", i, d.Stats.Retried)
		}
		pauses += d.Stats.HostPause
		repaired += d.Stats.Repaired
		maxPause = max(maxPause, d.Stats.HostPause)
		g, err := Build(Input{Dump: d.Bytes, FuncName: InProcessFuncName})
		d.Close()
		if err != nil {
			t.Fatalf("capture %d: build: %v", i, err)
		}
		if err := g.checkInvariants(); err != nil {
			t.Fatalf("capture %d: %v", i, err)
		}
		hidden := len(g.Hidden)
		if i%20 == 0 {
			t.Logf("capture %d at %v: host pause %v (clone %v), child dump %v, total %v, repaired %d, %d objects, %d hidden words",
				i, time.Since(start).Round(time.Millisecond), d.Stats.HostPause, d.Stats.Fork, d.Stats.ChildDump, d.Stats.Total, d.Stats.Repaired, g.NumObjects(), hidden)
		}
		if len(g.Goroutines) < stressGoroutines {
			t.Fatalf("capture %d: %d goroutines in the dump, want at least %d", i, len(g.Goroutines), stressGoroutines)
		}
		g.Close()
	}
	elapsed := time.Since(start)
	// Everyone still moves after the captures.
	before := s.snapshot()
	time.Sleep(2 * time.Second)
	after := s.snapshot()
	for i := range before {
		if after[i] == before[i] {
			t.Errorf("goroutine %d (%s) made no progress in the 2 s after the captures", i, s.kinds[i])
		}
	}
	t.Logf("%d captures in %v; host pause mean %v max %v; %d captures needed a second child; %d goroutines frozen mid-transition repaired in children",
		captures, elapsed, pauses/time.Duration(captures), maxPause, retried, repaired)
	gcMedian, gcMax, gcN := gcBefore.since(gcPauses())
	t.Logf("for comparison, the runtime's own %d GC stop-the-world pauses meanwhile: median %v, max %v (histogram bucket bounds)", gcN, gcMedian, gcMax)
}
