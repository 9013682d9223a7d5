//go:build linux && (amd64 || arm64)

package capture

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heaptop/heaptop/agent/heapdump"
)

// leftovers are what a capture may leave behind in this process.
type leftovers struct {
	goroutines int
	fds        int
	children   int
}

func countLeftovers() leftovers {
	fds, _ := os.ReadDir("/proc/self/fd")
	var kids int
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		kids += len(strings.Fields(string(b)))
	}
	return leftovers{runtime.NumGoroutine(), len(fds), kids}
}

// expectNoLeftovers waits (a background goroutine of the capture may
// still be ending) for the counts to come back to before's.
func expectNoLeftovers(t *testing.T, before leftovers) {
	t.Helper()
	var now leftovers
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if now = countLeftovers(); now.goroutines <= before.goroutines && now.fds <= before.fds && now.children == 0 {
			return
		}
	}
	t.Fatalf("after the capture: %+v, before: %+v", now, before)
}

// learnedAllgs is runtime.allgs as a first capture learns it (test
// binaries have no symbol table: go test links with -s).
var learnedAllgs = sync.OnceValues(func() (uint64, error) {
	d, err := New(Options{}).Capture(context.Background())
	if err != nil {
		return 0, err
	}
	defer d.Close()
	return findAllgs(d.Bytes), nil
})

// streamingCapturer returns a Capturer that knows runtime.allgs, as in a
// binary with its symbol table, so that Stream streams rather than keeps
// the dump to learn it.
func streamingCapturer(t *testing.T, opts Options) *Capturer {
	t.Helper()
	allgs, err := learnedAllgs()
	if err != nil || allgs == 0 {
		t.Fatalf("learning runtime.allgs: %#x, %v", allgs, err)
	}
	c := New(opts)
	c.segOnce.Do(func() { c.segs, _, c.segErr = runtimeSymbols() })
	c.allgs.Store(allgs)
	return c
}

func TestStream_delivers_the_dump(t *testing.T) {
	c := streamingCapturer(t, Options{})
	var got []byte
	calls := 0
	d, err := c.Stream(context.Background(), func(r io.Reader) error {
		calls++
		var err error
		got, err = io.ReadAll(r)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if calls != 1 || d.Bytes != nil || int64(len(got)) != d.Stats.Size || d.Stats.Size == 0 {
		t.Fatalf("%d calls, Bytes %d, consumer read %d bytes, Stats.Size %d", calls, len(d.Bytes), len(got), d.Stats.Size)
	}
	if err := heapdump.Parse(got, heapdump.NopVisitor{}); err != nil {
		t.Fatalf("the streamed dump does not parse: %v", err)
	}
	if len(d.Segments) == 0 && d.SegmentsErr == nil {
		t.Fatal("no segments and no reason why")
	}
	t.Logf("streamed %d bytes; host pause %v, child dump %v, total %v", d.Stats.Size, d.Stats.HostPause, d.Stats.ChildDump, d.Stats.Total)
}

func TestStream_failing_consumer_kills_the_child(t *testing.T) {
	c := streamingCapturer(t, Options{})
	before := countLeftovers()
	planted := errors.New("planted consumer failure")
	calls := 0
	d, err := c.Stream(context.Background(), func(r io.Reader) error {
		calls++
		if _, err := io.CopyN(io.Discard, r, 256<<10); err != nil {
			return err
		}
		return planted
	})
	if err == nil {
		d.Close()
		t.Fatal("Stream succeeded with a failing consumer")
	}
	if !errors.Is(err, planted) || calls != 1 {
		t.Fatalf("%d calls, error %v; want one call and the consumer's error", calls, err)
	}
	expectNoLeftovers(t, before)
	d, err = c.Capture(context.Background())
	if err != nil {
		t.Fatalf("the capture after: %v", err)
	}
	d.Close()
}

func TestStream_slow_consumer_gets_the_whole_dump(t *testing.T) {
	var got bytes.Buffer
	reads := 0
	d, err := streamingCapturer(t, Options{}).Stream(context.Background(), func(r io.Reader) error {
		got.Reset()
		buf := make([]byte, 256<<10)
		for {
			n, err := r.Read(buf)
			got.Write(buf[:n])
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			reads++
			time.Sleep(2 * time.Millisecond) // the child finishes long before the reader
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if int64(got.Len()) != d.Stats.Size {
		t.Fatalf("read %d bytes, Stats.Size %d", got.Len(), d.Stats.Size)
	}
	if err := heapdump.Parse(got.Bytes(), heapdump.NopVisitor{}); err != nil {
		t.Fatalf("the slowly read dump does not parse: %v", err)
	}
	t.Logf("%d reads, %d bytes, child dump %v", reads, got.Len(), d.Stats.ChildDump)
}

func TestStream_close_stops_a_slow_consumer(t *testing.T) {
	c := streamingCapturer(t, Options{})
	before := countLeftovers()
	started := make(chan struct{})
	var readErr atomic.Value
	done := make(chan error, 1)
	go func() {
		d, err := c.Stream(context.Background(), func(r io.Reader) error {
			buf := make([]byte, 4096)
			for i := 0; ; i++ {
				if _, err := r.Read(buf); err != nil {
					readErr.Store(err)
					return err
				}
				if i == 0 {
					close(started)
				}
				time.Sleep(50 * time.Millisecond) // a dump of megabytes would take minutes
			}
		})
		if err == nil {
			d.Close()
		}
		done <- err
	}()
	<-started
	closed := time.Now()
	c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Stream after Close: %v, want ErrClosed", err)
		}
		t.Logf("returned %v after Close; the consumer's read failed with %v", time.Since(closed), readErr.Load())
	case <-time.After(5 * time.Second):
		t.Fatal("Stream still running 5 s after Close")
	}
	expectNoLeftovers(t, before)
	if _, err := c.Stream(context.Background(), func(io.Reader) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Stream on a closed Capturer: %v", err)
	}
}

// bigBlock is a live pointer-free 80 MiB object: the dump carries its
// bytes (it is never written, so it costs no memory).
var bigBlock []byte

func TestStream_refuses_a_dump_past_its_limit(t *testing.T) {
	c := streamingCapturer(t, Options{})
	defer func(e func() int64) { dumpEstimate = e }(dumpEstimate)
	dumpEstimate = func() int64 { return 0 } // the limit becomes 64 MiB
	bigBlock = make([]byte, 80<<20)
	defer func() { bigBlock = nil }()
	before := countLeftovers()
	var read int64
	d, err := c.Stream(context.Background(), func(r io.Reader) error {
		n, err := io.Copy(io.Discard, r)
		read = n
		return err
	})
	if err == nil {
		d.Close()
		t.Fatalf("streamed a dump past its limit (%d bytes read)", read)
	}
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "outgrew its 64.0 MiB limit") || read != minSpareBytes {
		t.Fatalf("error %v after %d bytes; want the outgrew refusal after exactly 64 MiB", err, read)
	}
	expectNoLeftovers(t, before)

	// Capture reads into a buffer of the limit's size: the same refusal.
	if d, err = c.Capture(context.Background()); err == nil {
		d.Close()
		t.Fatal("captured a dump past its limit")
	}
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "outgrew its 64.0 MiB limit") {
		t.Fatalf("Capture: %v, want the outgrew refusal", err)
	}
	expectNoLeftovers(t, before)
}

func TestStream_ends_with_its_context(t *testing.T) {
	c := streamingCapturer(t, Options{})
	before := countLeftovers()
	ctx, cancel := context.WithCancel(context.Background())
	_, err := c.Stream(ctx, func(r io.Reader) error {
		buf := make([]byte, 4096)
		for i := 0; ; i++ {
			if _, err := r.Read(buf); err != nil {
				return err
			}
			if i == 0 {
				cancel()
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Stream after its context ended: %v", err)
	}
	expectNoLeftovers(t, before)
	d, err := c.Capture(context.Background()) // the Capturer is not closed
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
}

// A Stream does not keep the dump: it needs room for the dump file (the
// whole dump at worst, when its reader falls behind) and the copy-on-write
// reserve; Capture needs room for its kept copy too. With room for the
// first and not the second, Stream captures and Capture is refused.
func TestStream_needs_less_room_than_Capture(t *testing.T) {
	defer func(e func() int64) { dumpEstimate = e }(dumpEstimate)
	defer func(h func() (int64, string)) { headroom = h }(headroom)
	c := streamingCapturer(t, Options{})
	dumpEstimate = func() int64 { return 400 << 20 }
	headroom = func() (int64, string) { return 700 << 20, "memory cgroup /test" }
	d, err := c.Stream(context.Background(), func(r io.Reader) error {
		_, err := io.Copy(io.Discard, r)
		return err
	})
	if err != nil {
		t.Fatalf("Stream with room for the dump file but not a kept copy: %v", err)
	}
	d.Close()
	if d, err := c.Capture(context.Background()); !errors.Is(err, ErrRefused) {
		if err == nil {
			d.Close()
		}
		t.Fatalf("Capture with no room for a kept copy: %v, want a refusal", err)
	}
}

// A child that fails is the error, not its consumer's failure on the short
// stream, and each retry gets a fresh reader.
func TestStream_child_failure_is_retried_with_a_fresh_reader(t *testing.T) {
	c := streamingCapturer(t, Options{Timeout: time.Millisecond, Attempts: 2})
	var readers []io.Reader
	_, err := c.Stream(context.Background(), func(r io.Reader) error {
		readers = append(readers, r)
		_, err := io.Copy(io.Discard, r)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "did not finish within 1ms") {
		t.Fatalf("got %v, want the child's timeout", err)
	}
	if len(readers) != 2 || readers[0] == readers[1] {
		t.Fatalf("consumer called %d times for 2 attempts (readers %p)", len(readers), readers)
	}
}

// Without runtime.allgs from the symbol table (a stripped binary, as test
// binaries are), a Stream learns it from its dump as a Capture does, and
// its consumer reads the kept dump.
func TestStream_learns_allgs_without_symbols(t *testing.T) {
	want, err := learnedAllgs()
	if err != nil || want == 0 {
		t.Fatalf("learning runtime.allgs by a Capture: %#x, %v", want, err)
	}
	c := New(Options{})
	var got []byte
	d, err := c.Stream(context.Background(), func(r io.Reader) error {
		var err error
		got, err = io.ReadAll(r)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if int64(len(got)) != d.Stats.Size || d.Bytes != nil {
		t.Fatalf("consumer read %d bytes of %d (Bytes %d)", len(got), d.Stats.Size, len(d.Bytes))
	}
	if err := heapdump.Parse(got, heapdump.NopVisitor{}); err != nil {
		t.Fatalf("the kept dump as consumed does not parse: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); c.allgs.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if c.allgs.Load() != want {
		t.Fatalf("allgs learnt by Stream %#x, by Capture %#x", c.allgs.Load(), want)
	}
}

// Stream and Capture take turns: a Capture that comes during a Stream waits
// for it and gets a dump of its own, taken after the Stream's.
func TestStream_and_Capture_take_turns(t *testing.T) {
	c := streamingCapturer(t, Options{})
	started := make(chan struct{})
	streamed := make(chan *Dump, 1)
	go func() {
		d, err := c.Stream(context.Background(), func(r io.Reader) error {
			close(started)
			time.Sleep(200 * time.Millisecond) // the Capture comes meanwhile
			_, err := io.Copy(io.Discard, r)
			return err
		})
		if err != nil {
			t.Error(err)
		}
		streamed <- d
	}()
	<-started
	d, err := c.Capture(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	s := <-streamed
	if s == nil {
		return
	}
	s.Close()
	if !d.Stats.Start.After(s.Stats.Start.Add(s.Stats.Total)) {
		t.Fatalf("the Capture started at %v, during the Stream (%v, %v long)", d.Stats.Start, s.Stats.Start, s.Stats.Total)
	}
	if err := heapdump.Parse(d.Bytes, heapdump.NopVisitor{}); err != nil {
		t.Fatal(err)
	}
}
