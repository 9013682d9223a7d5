package heapdump_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"maps"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/heaptop/heaptop/agent/capture"
	"github.com/heaptop/heaptop/agent/heapdump"
)

// realDump captures this test process once, through the agent's capture
// path, and returns a private copy of the dump.
var realDump = sync.OnceValues(func() ([]byte, error) {
	// A dump has memprof records only for sampled allocations; at the default
	// rate a small test process may have none. Sample one for certain.
	prev := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	sampledSink = make([]byte, 64)
	runtime.MemProfileRate = prev
	d, err := capture.New(capture.Options{}).Capture(context.Background())
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return bytes.Clone(d.Bytes), nil
})

// sampledSink keeps the sampled allocation alive until the dump.
var sampledSink []byte

func mustRealDump(t testing.TB) []byte {
	t.Helper()
	b, err := realDump()
	if err != nil {
		t.Fatalf("capture: %v", err)
	}
	return b
}

// tally counts records and checks each against what go1.26.8 writes.
type tally struct {
	heapdump.NopVisitor
	t       testing.TB
	counts  map[heapdump.Tag]int
	offsets []int64 // record offsets of objects, frames and segments
	params  heapdump.Params
	ms      heapdump.MemStats
	goids   map[uint64]bool
	strict  bool // a real dump: check what the parser cannot
}

func newTally(t testing.TB) *tally {
	return &tally{t: t, counts: map[heapdump.Tag]int{}, goids: map[uint64]bool{}}
}

func (c *tally) Params(p *heapdump.Params) error {
	c.counts[heapdump.TagParams]++
	c.params = *p
	c.params.GoVersion = strings.Clone(p.GoVersion)
	c.params.GOARCH = strings.Clone(p.GOARCH)
	return nil
}
func (c *tally) Type(*heapdump.Type) error { c.counts[heapdump.TagType]++; return nil }
func (c *tally) Itab(*heapdump.Itab) error { c.counts[heapdump.TagItab]++; return nil }
func (c *tally) Object(o *heapdump.Object) error {
	c.counts[heapdump.TagObject]++
	c.offsets = append(c.offsets, o.Offset)
	return nil
}
func (c *tally) Goroutine(g *heapdump.Goroutine) error {
	c.counts[heapdump.TagGoroutine]++
	if c.goids[g.ID] && c.strict {
		c.t.Errorf("goroutine %d dumped twice", g.ID)
	}
	c.goids[g.ID] = true
	return nil
}
func (c *tally) StackFrame(f *heapdump.StackFrame) error {
	c.counts[heapdump.TagStackFrame]++
	c.offsets = append(c.offsets, f.Offset)
	return nil
}
func (c *tally) Defer(*heapdump.Defer) error       { c.counts[heapdump.TagDefer]++; return nil }
func (c *tally) Panic(*heapdump.Panic) error       { c.counts[heapdump.TagPanic]++; return nil }
func (c *tally) OSThread(*heapdump.OSThread) error { c.counts[heapdump.TagOSThread]++; return nil }
func (c *tally) Segment(s *heapdump.Segment) error {
	c.counts[s.Tag]++
	c.offsets = append(c.offsets, s.Offset)
	return nil
}
func (c *tally) Finalizer(f *heapdump.Finalizer) error {
	if f.Queued {
		c.counts[heapdump.TagQueuedFinalizer]++
	} else {
		c.counts[heapdump.TagFinalizer]++
	}
	return nil
}
func (c *tally) MemStats(m *heapdump.MemStats) error {
	c.counts[heapdump.TagMemStats]++
	c.ms = *m
	return nil
}
func (c *tally) MemProf(*heapdump.MemProf) error { c.counts[heapdump.TagMemProf]++; return nil }
func (c *tally) AllocSample(*heapdump.AllocSample) error {
	c.counts[heapdump.TagAllocSample]++
	return nil
}

func TestParse_real_dump(t *testing.T) {
	dump := mustRealDump(t)
	c := newTally(t)
	c.strict = true
	if err := heapdump.Parse(dump, c); err != nil {
		t.Fatal(err)
	}
	if c.params.GoVersion != runtime.Version() || c.params.GOARCH != runtime.GOARCH || c.params.PtrSize != 8 || c.params.BigEndian {
		t.Errorf("params %+v, want this process's Go version and architecture", c.params)
	}
	if c.params.ArenaStart == 0 || c.params.ArenaEnd <= c.params.ArenaStart || (c.params.ArenaEnd-c.params.ArenaStart)%(64<<20) != 0 {
		t.Errorf("arena range %#x..%#x is not a non-empty run of 64 MiB arenas", c.params.ArenaStart, c.params.ArenaEnd)
	}
	for _, tag := range []heapdump.Tag{heapdump.TagParams, heapdump.TagData, heapdump.TagBSS, heapdump.TagMemStats} {
		if c.counts[tag] != 1 {
			t.Errorf("%d %s records, want 1", c.counts[tag], tag)
		}
	}
	for _, tag := range []heapdump.Tag{heapdump.TagObject, heapdump.TagGoroutine, heapdump.TagStackFrame, heapdump.TagItab, heapdump.TagType, heapdump.TagOSThread, heapdump.TagMemProf} {
		if c.counts[tag] == 0 {
			t.Errorf("no %s record in a real dump", tag)
		}
	}
	if c.ms.HeapObjects == 0 || c.ms.NumGC == 0 && c.ms.PauseTotalNs != 0 {
		t.Errorf("implausible memstats: %d heap objects, %d GCs, %d ns paused", c.ms.HeapObjects, c.ms.NumGC, c.ms.PauseTotalNs)
	}
	t.Logf("%d bytes: %v", len(dump), c.counts)

	// Reader re-reads the same records by offset.
	rd := heapdump.NewReader(dump)
	again := newTally(t)
	for _, off := range c.offsets {
		if _, err := rd.RecordAt(off, again); err != nil {
			t.Fatalf("RecordAt(%#x): %v", off, err)
		}
	}
	for _, tag := range []heapdump.Tag{heapdump.TagObject, heapdump.TagStackFrame, heapdump.TagData, heapdump.TagBSS} {
		if again.counts[tag] != c.counts[tag] {
			t.Errorf("reread %d %s records, want %d", again.counts[tag], tag, c.counts[tag])
		}
	}
	if _, err := rd.RecordAt(c.offsets[0]+1, again); err == nil {
		t.Error("RecordAt one byte into a record succeeded")
	}
}

// parseNoPanic parses b, failing the test on a panic or on an error that is
// not an *Error within b. It parses b again with ParseReader, from a
// stream cutting b at random places, which must return the same error and
// visit the same records (counted by tag, with their offsets).
func parseNoPanic(t testing.TB, b []byte) error {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("Parse or ParseReader panicked on %d bytes: %v", len(b), r)
		}
	}()
	whole := newTally(t)
	err := heapdump.Parse(b, whole)
	streamed := newTally(t)
	sameError(t, "a stream", heapdump.ParseReader(newChunkReader(b, int64(len(b))), streamed), err)
	if !maps.Equal(streamed.counts, whole.counts) || !slices.Equal(streamed.offsets, whole.offsets) {
		t.Fatalf("ParseReader visited %v (%d offsets), Parse %v (%d offsets)", streamed.counts, len(streamed.offsets), whole.counts, len(whole.offsets))
	}
	if err == nil {
		return nil
	}
	var he *heapdump.Error
	if !errors.As(err, &he) {
		t.Fatalf("Parse returned %T %v, want *heapdump.Error", err, err)
	}
	if he.Offset < 0 || he.Offset > int64(len(b)) {
		t.Fatalf("error offset %#x outside the %d bytes: %v", he.Offset, len(b), err)
	}
	return err
}

func TestParse_truncated(t *testing.T) {
	dump := mustRealDump(t)
	// Every record boundary among the first few thousand, and random cuts.
	var cuts []int
	c := newTally(t)
	heapdump.Parse(dump, c)
	for i, off := range c.offsets {
		if i > 3000 {
			break
		}
		cuts = append(cuts, int(off), int(off)+1)
	}
	r := rand.New(rand.NewSource(1))
	for range 500 {
		cuts = append(cuts, r.Intn(len(dump)))
	}
	cuts = append(cuts, 0, 5, len(heapdump.Header), len(dump)-1)
	for _, n := range cuts {
		err := parseNoPanic(t, dump[:n])
		if !errors.Is(err, heapdump.ErrTruncated) {
			t.Fatalf("cut at %d of %d: %v, want ErrTruncated", n, len(dump), err)
		}
	}
	// Trailing bytes after the EOF record are corrupt, not ignored.
	if err := parseNoPanic(t, append(bytes.Clone(dump), 0)); !errors.Is(err, heapdump.ErrCorrupt) {
		t.Fatalf("a byte after eof: %v, want ErrCorrupt", err)
	}
}

func TestParse_corrupt(t *testing.T) {
	dump := mustRealDump(t)
	if err := parseNoPanic(t, []byte("go1.8 heap dump\nxxxx")); !errors.Is(err, heapdump.ErrCorrupt) || !strings.Contains(err.Error(), "not a heap dump") {
		t.Fatalf("foreign header: %v", err)
	}
	r := rand.New(rand.NewSource(2))
	failed := 0
	for range 2000 {
		b := bytes.Clone(dump)
		for range 1 + r.Intn(4) {
			b[len(heapdump.Header)+r.Intn(len(b)-len(heapdump.Header))] ^= byte(1 << r.Intn(8))
		}
		if parseNoPanic(t, b) != nil {
			failed++
		}
	}
	t.Logf("%d of 2000 bit-flipped dumps rejected (flips in object contents are valid dumps)", failed)
	if failed == 0 {
		t.Error("no bit flip was detected")
	}
}

// frames records each stack frame's offset and pointer fields.
type frames struct {
	heapdump.NopVisitor
	offsets  []int64
	pointers [][]uint64
}

func (f *frames) StackFrame(r *heapdump.StackFrame) error {
	f.offsets = append(f.offsets, r.Offset)
	f.pointers = append(f.pointers, slices.Clone(r.Pointers))
	return nil
}

// TestParse_frame_fields_outside_the_frame: the runtime's dumpframe gives a
// goroutine stopped in a function's prologue that function's first locals
// map, placed from a frame not yet allocated, so a field can name the word
// below SP (offset -8 as the dumper writes it, a uint64). A capture in CI
// failed on such a dump. Here a real dump's frame gets two such fields,
// below and past its memory, as the first of its list: the dump parses,
// whole and streamed, and the frame keeps only its own fields.
func TestParse_frame_fields_outside_the_frame(t *testing.T) {
	dump := mustRealDump(t)
	var before frames
	if err := heapdump.Parse(dump, &before); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(before.pointers, func(p []uint64) bool { return len(p) > 0 })
	if i < 0 {
		t.Fatal("no frame with pointer fields in the dump")
	}
	// The record's layout (doc.go): tag sp depth childSP contents entryPC pc contPC funcName fields.
	at := int(before.offsets[i])
	uvarint := func() uint64 {
		v, n := binary.Uvarint(dump[at:])
		at += n
		return v
	}
	for range 4 { // tag, sp, depth, childSP
		uvarint()
	}
	size := uvarint()
	at += int(size)
	for range 3 { // entry, pc, contPC
		uvarint()
	}
	at += int(uvarint()) // the function's name
	var outside []byte
	for _, o := range []uint64{^uint64(7), size} { // -8, and the word just past the frame
		outside = binary.AppendUvarint(outside, 1)
		outside = binary.AppendUvarint(outside, o)
	}
	changed := slices.Concat(dump[:at], outside, dump[at:])
	if err := parseNoPanic(t, changed); err != nil {
		t.Fatalf("a frame with fields outside it: %v", err)
	}
	var after frames
	if err := heapdump.Parse(changed, &after); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(after.pointers[i], before.pointers[i]) {
		t.Fatalf("the frame's fields: %v, want %v", after.pointers[i], before.pointers[i])
	}
	// A field that is not a whole word is corruption still.
	if err := heapdump.Parse(slices.Concat(dump[:at], []byte{1, 3}, dump[at:]), &frames{}); !errors.Is(err, heapdump.ErrCorrupt) {
		t.Fatalf("a misaligned frame field: %v, want ErrCorrupt", err)
	}
}

func TestParse_wrong_version(t *testing.T) {
	dump := bytes.Clone(mustRealDump(t))
	v := []byte(runtime.Version())
	i := bytes.Index(dump[:256], v)
	if i < 0 {
		t.Fatalf("no %q in the params record", v)
	}
	other := []byte("go1.25" + strings.Repeat("9", len(v)-len("go1.25")))
	copy(dump[i:], other)
	err := parseNoPanic(t, dump)
	var he *heapdump.Error
	if !errors.Is(err, heapdump.ErrVersion) || !errors.As(err, &he) || he.Tag != heapdump.TagParams ||
		!strings.Contains(err.Error(), string(other)) || !strings.Contains(err.Error(), heapdump.SupportedVersions) {
		t.Fatalf("a %s dump: %v, want ErrVersion at the params record naming both versions", other, err)
	}
	t.Log(err)
}

func TestError_message(t *testing.T) {
	e := &heapdump.Error{Offset: 0x1f3a2, Tag: heapdump.TagStackFrame, Expected: "frame length 900 exceeds the 812 bytes left", Kind: heapdump.ErrTruncated}
	if got, want := e.Error(), "heapdump: offset 0x1f3a2: tag 5 (stack frame): frame length 900 exceeds the 812 bytes left"; got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if !errors.Is(e, heapdump.ErrTruncated) {
		t.Fatal("Error does not unwrap to its kind")
	}
}

// seedDump writes a small dump made of a real one's records: its header,
// params, a few itabs, objects, goroutines with their frames, threads,
// data and bss cut to their first 512 bytes, finalizers, memstats, a few
// memory-profile records, eof. Every record is real; only the counts and
// the segments are cut, so the fuzzer starts from valid input of a size it
// can mutate quickly.
func seedDump(t testing.TB, dump []byte) []byte {
	var out bytes.Buffer
	out.WriteString(heapdump.Header)
	cut := &recordCutter{src: dump, out: &out, keep: map[heapdump.Tag]int{
		heapdump.TagType: 4, heapdump.TagItab: 4, heapdump.TagObject: 40, heapdump.TagOSThread: 2,
		heapdump.TagMemProf: 3, heapdump.TagAllocSample: 3, heapdump.TagFinalizer: 2, heapdump.TagQueuedFinalizer: 2,
	}, goroutines: 3}
	if err := cut.run(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// recordCutter copies records of src by their byte ranges.
type recordCutter struct {
	heapdump.NopVisitor
	src        []byte
	out        *bytes.Buffer
	keep       map[heapdump.Tag]int
	goroutines int
	inG        bool
}

func (c *recordCutter) run() error {
	rd := heapdump.NewReader(c.src)
	off := int64(len(heapdump.Header))
	for {
		g := &tagGrab{}
		next, err := rd.RecordAt(off, g)
		if err != nil {
			return err
		}
		if c.want(g) {
			if g.seg != nil {
				c.writeSegment(g.seg)
			} else {
				c.out.Write(c.src[off:next])
			}
		}
		if g.tag == heapdump.TagEOF {
			return nil
		}
		off = next
	}
}

func (c *recordCutter) want(g *tagGrab) bool {
	switch g.tag {
	case heapdump.TagEOF, heapdump.TagParams, heapdump.TagData, heapdump.TagBSS, heapdump.TagMemStats:
		return true
	case heapdump.TagGoroutine:
		c.inG = c.goroutines > 0
		c.goroutines--
		return c.inG
	case heapdump.TagStackFrame, heapdump.TagDefer, heapdump.TagPanic:
		return c.inG
	}
	if c.keep[g.tag] > 0 {
		c.keep[g.tag]--
		return true
	}
	return false
}

func (c *recordCutter) writeSegment(s *heapdump.Segment) {
	n := min(len(s.Contents), 512)
	put := func(v uint64) { c.out.Write(binary.AppendUvarint(nil, v)) }
	put(uint64(s.Tag))
	put(s.Addr)
	put(uint64(n))
	c.out.Write(s.Contents[:n])
	for _, p := range s.Pointers {
		if p+8 <= uint64(n) {
			put(1)
			put(p)
		}
	}
	put(0)
}

// tagGrab notes the tag of the record RecordAt read (and keeps a segment).
type tagGrab struct {
	heapdump.NopVisitor
	tag heapdump.Tag
	seg *heapdump.Segment
}

func (g *tagGrab) Params(*heapdump.Params) error         { g.tag = heapdump.TagParams; return nil }
func (g *tagGrab) Type(*heapdump.Type) error             { g.tag = heapdump.TagType; return nil }
func (g *tagGrab) Itab(*heapdump.Itab) error             { g.tag = heapdump.TagItab; return nil }
func (g *tagGrab) Object(*heapdump.Object) error         { g.tag = heapdump.TagObject; return nil }
func (g *tagGrab) Goroutine(*heapdump.Goroutine) error   { g.tag = heapdump.TagGoroutine; return nil }
func (g *tagGrab) StackFrame(*heapdump.StackFrame) error { g.tag = heapdump.TagStackFrame; return nil }
func (g *tagGrab) Defer(*heapdump.Defer) error           { g.tag = heapdump.TagDefer; return nil }
func (g *tagGrab) Panic(*heapdump.Panic) error           { g.tag = heapdump.TagPanic; return nil }
func (g *tagGrab) OSThread(*heapdump.OSThread) error     { g.tag = heapdump.TagOSThread; return nil }
func (g *tagGrab) Segment(s *heapdump.Segment) error     { g.tag, g.seg = s.Tag, s; return nil }
func (g *tagGrab) Finalizer(f *heapdump.Finalizer) error {
	g.tag = heapdump.TagFinalizer
	if f.Queued {
		g.tag = heapdump.TagQueuedFinalizer
	}
	return nil
}
func (g *tagGrab) MemStats(*heapdump.MemStats) error { g.tag = heapdump.TagMemStats; return nil }
func (g *tagGrab) MemProf(*heapdump.MemProf) error   { g.tag = heapdump.TagMemProf; return nil }
func (g *tagGrab) AllocSample(*heapdump.AllocSample) error {
	g.tag = heapdump.TagAllocSample
	return nil
}

// TestWriteFuzzSeeds regenerates the committed seeds from a fresh real
// dump: HEAPTOP_WRITE_SEEDS=1 go test ./heapdump -run TestWriteFuzzSeeds
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("HEAPTOP_WRITE_SEEDS") == "" {
		t.Skip("set HEAPTOP_WRITE_SEEDS=1 to rewrite testdata/fuzz/FuzzParse/seed-*")
	}
	seed := seedDump(t, mustRealDump(t))
	if err := heapdump.Parse(seed, newTally(t)); err != nil {
		t.Fatalf("the cut dump does not parse: %v", err)
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzParse")
	os.MkdirAll(dir, 0o755)
	write := func(name string, b []byte) {
		var s strings.Builder
		s.WriteString("go test fuzz v1\n[]byte(")
		s.WriteString(strconv.Quote(string(b)))
		s.WriteString(")\n")
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("seed-real-cut", seed)
	write("seed-real-cut-truncated", seed[:len(seed)*2/3])
	t.Logf("seed of %d bytes", len(seed))
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(heapdump.Header))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseNoPanic(t, b)
		sameCalls(t, b)
		// Reading any offset as a record must not panic either.
		rd := heapdump.NewReader(b)
		for off := int64(0); off < int64(len(b)) && off < 64; off++ {
			rd.RecordAt(off, newTally(t))
		}
	})
}
