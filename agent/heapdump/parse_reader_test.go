package heapdump_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/heaptop/heaptop/agent/capture"
	"github.com/heaptop/heaptop/agent/heapdump"
)

// callLog writes down every Visitor call with its whole record, copied out
// of what the record aliases, so that two parses compare call by call.
type callLog struct{ calls []string }

func (l *callLog) add(r any) error {
	l.calls = append(l.calls, fmt.Sprintf("%T %+v", r, r))
	return nil
}

func (l *callLog) Params(r *heapdump.Params) error           { return l.add(r) }
func (l *callLog) Type(r *heapdump.Type) error               { return l.add(r) }
func (l *callLog) Itab(r *heapdump.Itab) error               { return l.add(r) }
func (l *callLog) Object(r *heapdump.Object) error           { return l.add(r) }
func (l *callLog) Goroutine(r *heapdump.Goroutine) error     { return l.add(r) }
func (l *callLog) StackFrame(r *heapdump.StackFrame) error   { return l.add(r) }
func (l *callLog) Defer(r *heapdump.Defer) error             { return l.add(r) }
func (l *callLog) Panic(r *heapdump.Panic) error             { return l.add(r) }
func (l *callLog) OSThread(r *heapdump.OSThread) error       { return l.add(r) }
func (l *callLog) Segment(r *heapdump.Segment) error         { return l.add(r) }
func (l *callLog) Finalizer(r *heapdump.Finalizer) error     { return l.add(r) }
func (l *callLog) MemStats(r *heapdump.MemStats) error       { return l.add(r) }
func (l *callLog) MemProf(r *heapdump.MemProf) error         { return l.add(r) }
func (l *callLog) AllocSample(r *heapdump.AllocSample) error { return l.add(r) }

// chunkReader gives its bytes in chunks of random sizes, mostly small
// (sizes are spread evenly over their powers of two up to 64 KiB), as a
// pipe does when the writer is slower or faster than the reader.
type chunkReader struct {
	b []byte
	r *rand.Rand
}

func newChunkReader(b []byte, seed int64) *chunkReader {
	return &chunkReader{b: b, r: rand.New(rand.NewSource(seed))}
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.b[:min(len(c.b), 1+c.r.Intn(1<<c.r.Intn(17)))])
	c.b = c.b[n:]
	return n, nil
}

// streams are the ways the tests feed one dump to ParseReader.
var streams = []struct {
	name string
	open func(b []byte) io.Reader
}{
	{"bytes.Reader", func(b []byte) io.Reader { return bytes.NewReader(b) }},
	{"OneByteReader", func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }},
	{"HalfReader", func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) }},
	{"DataErrReader", func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) }}, // bytes with io.EOF
	{"chunkReader", func(b []byte) io.Reader { return newChunkReader(b, int64(len(b))) }},
}

// sameCalls parses b with Parse and, through each stream, with
// ParseReader, and fails the test unless all make the same Visitor calls
// and return the same error.
func sameCalls(t testing.TB, b []byte) {
	t.Helper()
	var want callLog
	wantErr := heapdump.Parse(b, &want)
	for _, s := range streams {
		var got callLog
		err := heapdump.ParseReader(s.open(b), &got)
		sameError(t, s.name, err, wantErr)
		if i := firstDifference(got.calls, want.calls); i >= 0 {
			t.Fatalf("%s: call %d of %d (Parse made %d):\n got %.300s\nwant %.300s", s.name, i, len(got.calls), len(want.calls), at(got.calls, i), at(want.calls, i))
		}
	}
}

func firstDifference(a, b []string) int {
	for i := range max(len(a), len(b)) {
		if at(a, i) != at(b, i) {
			return i
		}
	}
	return -1
}

func at(calls []string, i int) string {
	if i < len(calls) {
		return calls[i]
	}
	return "(no call)"
}

// sameError fails the test unless got is want: both nil, or *Errors equal
// in every field.
func sameError(t testing.TB, name string, got, want error) {
	t.Helper()
	var g, w *heapdump.Error
	gotE, wantE := errors.As(got, &g), errors.As(want, &w)
	if (got == nil) != (want == nil) || gotE != wantE || gotE && *g != *w {
		t.Fatalf("%s: ParseReader returned %v, Parse %v", name, got, want)
	}
}

func TestParseReader_real_dump(t *testing.T) {
	dump := mustRealDump(t)
	sameCalls(t, dump)

	// A Visitor's error stops ParseReader, which returns it unchanged.
	stop := errors.New("enough")
	seen := 0
	err := heapdump.ParseReader(iotest.HalfReader(bytes.NewReader(dump)), &stopAfter{n: 100, seen: &seen, err: stop})
	if err != stop || seen != 100 {
		t.Fatalf("a visitor failing at its 100th object: %v after %d objects, want its error after 100", err, seen)
	}
}

type stopAfter struct {
	heapdump.NopVisitor
	n    int
	seen *int
	err  error
}

func (s *stopAfter) Object(*heapdump.Object) error {
	if *s.seen++; *s.seen == s.n {
		return s.err
	}
	return nil
}

// A dump cut anywhere, or with a byte after its eof record, gives
// ParseReader the error Parse gives (checked by parseNoPanic for every cut
// and bit flip of TestParse_truncated and TestParse_corrupt); these are the
// cuts where a stream is most likely to go wrong, compared call by call
// through every stream.
func TestParseReader_cut(t *testing.T) {
	dump := mustRealDump(t)
	c := newTally(t)
	heapdump.Parse(dump, c)
	cuts := []int{0, 1, len(heapdump.Header) - 1, len(heapdump.Header), len(heapdump.Header) + 1, len(dump) - 1}
	for _, off := range c.offsets[:20] {
		cuts = append(cuts, int(off), int(off)+1, int(off)+2)
	}
	for _, n := range cuts {
		sameCalls(t, dump[:n])
	}
	sameCalls(t, append(bytes.Clone(dump), 0))
	sameCalls(t, append(bytes.Clone(dump), make([]byte, 3<<20)...))
}

func TestParseReader_read_error(t *testing.T) {
	dump := mustRealDump(t)
	var all callLog
	if err := heapdump.Parse(dump, &all); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("pipe broke")
	for _, n := range []int{0, 7, len(heapdump.Header), 5000, len(dump) / 2, len(dump) - 1, len(dump)} {
		var got callLog
		r := io.MultiReader(newChunkReader(dump[:n], int64(n)), iotest.ErrReader(boom))
		err := heapdump.ParseReader(r, &got)
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), fmt.Sprintf("offset %#x:", n)) {
			t.Fatalf("stream failing after %d bytes: %v, want %v at offset %#x", n, err, boom, n)
		}
		// Every record complete before the failure was seen, and no other.
		if len(got.calls) > len(all.calls) || firstDifference(got.calls, all.calls[:len(got.calls)]) >= 0 {
			t.Fatalf("stream failing after %d bytes: its %d calls are not the first of Parse's", n, len(got.calls))
		}
		var upTo callLog
		heapdump.Parse(dump[:n], &upTo)
		if len(got.calls) != len(upTo.calls) {
			t.Fatalf("stream failing after %d bytes: %d calls, Parse of those bytes makes %d", n, len(got.calls), len(upTo.calls))
		}
	}

	err := heapdump.ParseReader(iotest.TimeoutReader(newChunkReader(dump, 3)), heapdump.NopVisitor{})
	if !errors.Is(err, iotest.ErrTimeout) {
		t.Fatalf("a stream timing out on its second read: %v", err)
	}
	err = heapdump.ParseReader(io.MultiReader(bytes.NewReader(dump[:100]), stuckReader{}), heapdump.NopVisitor{})
	if !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("a stream that stops giving bytes without an error: %v", err)
	}
}

// stuckReader returns neither bytes nor an error, forever.
type stuckReader struct{}

func (stuckReader) Read([]byte) (int, error) { return 0, nil }

// A length of 2^40 or 2^60 costs ParseReader no more memory than the bytes
// that really came: the window doubles only when full of them.
func TestParseReader_huge_length(t *testing.T) {
	dump := mustRealDump(t)
	c := newTally(t)
	heapdump.Parse(dump, c)
	obj := c.offsets[0] // the first object record; the records before it are small
	for _, claim := range []uint64{1 << 40, 1 << 60} {
		for _, sent := range []int{100 << 10, 5 << 20} {
			b := bytes.Clone(dump[:obj])
			b = binary.AppendUvarint(b, uint64(heapdump.TagObject))
			b = binary.AppendUvarint(b, 0xc000010000)
			b = binary.AppendUvarint(b, claim)
			b = append(b, make([]byte, sent)...)
			var want callLog
			wantErr := heapdump.Parse(b, &want)
			if !errors.Is(wantErr, heapdump.ErrTruncated) {
				t.Fatalf("Parse of an object claiming %d bytes: %v", claim, wantErr)
			}
			r := newChunkReader(b, 1)
			var got callLog
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := heapdump.ParseReader(r, &got)
			runtime.ReadMemStats(&after)
			sameError(t, fmt.Sprint(claim), err, wantErr)
			// got's calls are the records before the object: a few KiB.
			allocated := after.TotalAlloc - before.TotalAlloc
			if limit := uint64(1<<20 + 4*len(b)); allocated > limit {
				t.Fatalf("an object claiming %d bytes in a stream of %d allocated %d bytes, want at most %d", claim, len(b), allocated, limit)
			}
			t.Logf("object claiming %#x bytes, %d bytes sent: %d bytes allocated", claim, len(b), allocated)
		}
	}
}

// benchDumps are the real dumps the benchmarks parse: this test process,
// and the same holding 10^5 more objects, where what a call costs once
// (ParseReader's window) fades against what each record costs.
func benchDumps(b *testing.B) []struct {
	name string
	dump []byte
} {
	small := mustRealDump(b)
	big, err := plantedDump()
	if err != nil {
		b.Fatalf("capture: %v", err)
	}
	return []struct {
		name string
		dump []byte
	}{{"test-process", small}, {"1e5-more-objects", big}}
}

// plantedDump captures this process while it holds a list of 10^5 nodes.
var plantedDump = sync.OnceValues(func() ([]byte, error) {
	type node struct {
		next *node
		pad  [5]uint64
	}
	var head *node
	for range 100_000 {
		head = &node{next: head}
	}
	d, err := capture.New(capture.Options{}).Capture(context.Background())
	runtime.KeepAlive(head)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return bytes.Clone(d.Bytes), nil
})

func BenchmarkParse(b *testing.B) {
	for _, d := range benchDumps(b) {
		b.Run(d.name, func(b *testing.B) {
			b.SetBytes(int64(len(d.dump)))
			for b.Loop() {
				if err := heapdump.Parse(d.dump, heapdump.NopVisitor{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseReader/*/pipe is the capture path's case: the dump comes
// through a pipe (of the default 64 KiB) in 4 KiB writes, as the runtime's
// dumper flushes its 4 KiB buffer; it includes the writer's cost.
func BenchmarkParseReader(b *testing.B) {
	for _, d := range benchDumps(b) {
		b.Run(d.name+"/bytes.Reader", func(b *testing.B) {
			b.SetBytes(int64(len(d.dump)))
			for b.Loop() {
				if err := heapdump.ParseReader(bytes.NewReader(d.dump), heapdump.NopVisitor{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(d.name+"/pipe", func(b *testing.B) {
			b.SetBytes(int64(len(d.dump)))
			for b.Loop() {
				r, w, err := os.Pipe()
				if err != nil {
					b.Fatal(err)
				}
				go func() {
					for rest := d.dump; len(rest) > 0; rest = rest[min(len(rest), 4096):] {
						w.Write(rest[:min(len(rest), 4096)])
					}
					w.Close()
				}()
				err = heapdump.ParseReader(r, heapdump.NopVisitor{})
				r.Close()
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
