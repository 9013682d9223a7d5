package heapdump

import (
	"fmt"
	"io"
	"regexp"
	"unsafe"
)

// Header is the 16 bytes every dump starts with (unchanged since go1.7).
const Header = "go1.7 heap dump\n"

// supportedVersion matches the params record's goVersion of the runtimes
// whose format this package reads: the record layout, the Green Tea span
// reserves and the malloc-header rules described in the package comment
// were checked against go1.26.8 and hold for the go1.26 line.
var supportedVersion = regexp.MustCompile(`^go1\.26(\.[0-9]+)?$`)

// SupportedVersions describes supportedVersion in error messages.
const SupportedVersions = "go1.26.x"

// section orders the records (see the grammar in the package comment).
// A record may only come in its own section or a later one.
type section uint8

const (
	secHeader section = iota
	secParams
	secItabs
	secObjects
	secGoroutines
	secThreads
	secData
	secBSS
	secFinalizers
	secQueued
	secMemStats
	secMemProf
	secSamples
	secEOF
)

var tagSection = [...]section{
	TagEOF:             secEOF,
	TagObject:          secObjects,
	TagType:            secItabs,
	TagGoroutine:       secGoroutines,
	TagStackFrame:      secGoroutines,
	TagParams:          secParams,
	TagFinalizer:       secFinalizers,
	TagItab:            secItabs,
	TagOSThread:        secThreads,
	TagMemStats:        secMemStats,
	TagQueuedFinalizer: secQueued,
	TagData:            secData,
	TagBSS:             secBSS,
	TagDefer:           secGoroutines,
	TagPanic:           secGoroutines,
	TagMemProf:         secMemProf,
	TagAllocSample:     secSamples,
}

// Inside one goroutine's group: its frames (by depth), then defers, then panics.
const (
	gNone = iota
	gFrames
	gDefers
	gPanics
)

// Parse reads a whole dump and calls v once per record, in file order. It
// returns nil after the EOF record (which must end the input), the first
// error a Visitor method returns, or an *Error. It never panics and never
// allocates more than the records it has already read justify. Records
// alias dump (see Visitor).
func Parse(dump []byte, v Visitor) error {
	p := parser{buf: dump, ended: true}
	return p.run(v)
}

// ParseReader is Parse for a dump read from r while it is being written:
// the same records, Visitor calls, offsets (counted from the first byte r
// gives) and errors as Parse on the same bytes. It reads r until io.EOF,
// also after the EOF record to check that nothing follows it, so the
// writer must close its end. An error of r other than io.EOF is returned
// wrapped (errors.Is finds it), after v has seen every record complete
// before it. Records alias a window that the next read overwrites: see
// Visitor for what a visitor may keep.
//
// The window starts at windowSize and grows, by doubling, only when one
// record fills it with bytes r really gave: a corrupt length claiming
// terabytes costs windows adding up to less than four times the bytes
// that arrived. A record cut by the window's end is read again from its
// start once the window holds twice as much of it (or is full), so a long
// record cut many times is re-read a few times its length in all, not
// once per read. The window is mapped outside the Go heap and unmapped
// when ParseReader returns (window_unix.go says why): a visitor that keeps
// a slice of a record past its call faults.
func ParseReader(r io.Reader, v Visitor) error {
	w := newWindow(windowSize)
	p := parser{src: r, win: w, buf: w[:0]}
	defer func() { freeWindow(p.win) }()
	return p.run(v)
}

// windowSize is ParseReader's first window. Records larger than it are
// rare (big objects, the data and bss of big programs) and grow it. It is
// not larger because the window is allocated, zeroed and first touched on
// every call: on the project's 2-core VM a 1 MiB window halved
// ParseReader's speed on a 1 MB dump (250-370 MB/s against 540-710 MB/s
// with 256 KiB, BenchmarkParseReader/bytes.Reader).
const windowSize = 256 << 10

// emptyReadLimit is how many Reads in a row may return neither bytes nor
// an error before the stream counts as stuck (bufio gives up after 100 too).
const emptyReadLimit = 100

type parser struct {
	buf []byte // the dump, or for a stream the part of win read and kept
	off int    // next byte of buf to read
	err *Error

	src   io.Reader // nil for Parse and Reader: buf is the whole dump
	win   []byte    // a stream's window; buf is its prefix
	base  int64     // offset in the dump of buf[0]
	ended bool      // no byte follows buf: the dump is whole or src said io.EOF
	rerr  error     // src's error, returned once the bytes before it are used

	tag    Tag // record being read
	header bool
	single bool // reading one record at an offset (tests' Reader): no order checks
	sec    section
	gstate int    // gNone..gPanics
	depth  uint64 // next frame depth expected

	ptrs   []uint64
	frames []Frame

	params Params
	typ    Type
	itab   Itab
	obj    Object
	g      Goroutine
	frame  StackFrame
	dfr    Defer
	pnc    Panic
	thread OSThread
	seg    Segment
	fin    Finalizer
	ms     MemStats
	prof   MemProf
	sample AllocSample
}

// fail notes the first error, at byte at of buf.
func (p *parser) fail(at int, kind error, format string, args ...any) {
	p.failAt(p.base+int64(at), kind, format, args...)
}

// failAt notes the first error, at offset off of the dump.
func (p *parser) failAt(off int64, kind error, format string, args ...any) {
	if p.err == nil {
		p.err = &Error{Offset: off, Header: p.header, Tag: p.tag, Expected: fmt.Sprintf(format, args...), Kind: kind}
	}
}

// uvarint reads an encoding/binary varint; after a failure it returns 0.
func (p *parser) uvarint() uint64 {
	if p.err != nil {
		return 0
	}
	if p.off < len(p.buf) && p.buf[p.off] < 0x80 {
		v := uint64(p.buf[p.off])
		p.off++
		return v
	}
	var v uint64
	var s uint
	for i := 0; ; i++ {
		at := p.off + i
		if at >= len(p.buf) {
			p.fail(p.off, ErrTruncated, "varint cut off by the end of the dump")
			return 0
		}
		b := p.buf[at]
		if i == 9 && b > 1 {
			p.fail(p.off, ErrCorrupt, "varint overflows 64 bits")
			return 0
		}
		if b < 0x80 {
			p.off = at + 1
			return v | uint64(b)<<s
		}
		v |= uint64(b&0x7f) << s
		s += 7
	}
}

func (p *parser) bool() bool {
	at := p.off
	switch p.uvarint() {
	case 0:
		return false
	case 1:
		return true
	}
	p.fail(at, ErrCorrupt, "bool that is neither 0 nor 1")
	return false
}

// mem reads a length-prefixed byte range without copying it.
func (p *parser) mem(what string) []byte {
	at := p.off
	n := p.uvarint()
	if p.err != nil {
		return nil
	}
	if left := uint64(len(p.buf) - p.off); n > left {
		p.fail(at, ErrTruncated, "%s length %d exceeds the %d bytes left", what, n, left)
		return nil
	}
	b := p.buf[p.off : p.off+int(n) : p.off+int(n)]
	p.off += int(n)
	return b
}

// str reads a length-prefixed string aliasing the dump.
func (p *parser) str(what string) string {
	b := p.mem(what)
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// fields reads a field list describing memory of size bytes. Each entry
// must be a pointer field naming a whole word; objects, data and bss have one
// bitmap written in order, so their fields ascend and lie inside the memory.
// A frame's list is not ordered (outgoing arguments, then locals), and may
// name words outside the frame: the runtime's dumpframe, finding a goroutine
// stopped in a function's prologue, "hopes for the best" with the function's
// first locals map, whose offsets from a frame not yet allocated fall below
// its SP. Those words are not in the record; they are dropped.
func (p *parser) fields(size int, frame bool) []uint64 {
	p.ptrs = p.ptrs[:0]
	next := uint64(0) // lowest offset allowed next when ascending
	for p.err == nil {
		at := p.off
		switch kind := p.uvarint(); kind {
		case 0:
			return p.ptrs
		case 1:
		default:
			p.fail(at, ErrCorrupt, "field kind %d (the dumper writes 1, pointer, or 0, end of list)", kind)
			return nil
		}
		at = p.off
		o := p.uvarint()
		inside := o+8 <= uint64(size) && o+8 > o
		switch {
		case p.err != nil:
		case o%8 != 0 || (!inside && !frame):
			p.fail(at, ErrCorrupt, "pointer field at offset %d is not a whole word inside the %d bytes of memory", o, size)
		case !inside:
		case !frame && o < next:
			p.fail(at, ErrCorrupt, "pointer field at offset %d after one at %d (want ascending)", o, next-8)
		default:
			next = o + 8
			p.ptrs = append(p.ptrs, o)
		}
	}
	return nil
}

func (p *parser) run(v Visitor) error {
	p.header = true
	for len(p.buf) < len(Header) && string(p.buf) == Header[:len(p.buf)] && !p.ended {
		if err := p.refill(0); err != nil {
			return err
		}
	}
	if len(p.buf) < len(Header) || string(p.buf[:len(Header)]) != Header {
		n := min(len(p.buf), len(Header))
		if string(p.buf[:n]) == Header[:n] {
			p.fail(n, ErrTruncated, "dump ends inside the %q header", Header)
		} else {
			p.fail(0, ErrCorrupt, "not a heap dump (want the header %q)", Header)
		}
		return p.err
	}
	p.off = len(Header)
	p.header = false
	p.sec = secHeader
	for {
		tag, err := p.next(v)
		if err != nil {
			return err
		}
		if tag == TagEOF {
			return p.end()
		}
	}
}

// next reads one record and hands it to v. A stream's record cut by the
// end of the window is read again from its start, with the order state it
// had, once more bytes have come: only the end of the dump makes the cut
// an error.
func (p *parser) next(v Visitor) (Tag, error) {
	start := p.off
	sec, gstate, depth := p.sec, p.gstate, p.depth
	for {
		p.tag = TagEOF // until the tag is read, blame the record boundary
		tag := Tag(p.uvarint())
		if p.err != nil {
			p.err.Expected = "dump ends before its eof record"
		} else {
			p.tag = tag
			if p.order(start) == nil {
				if err := p.record(start, v); err != nil {
					return tag, err
				}
			}
		}
		if p.err == nil {
			return tag, nil
		}
		if p.err.Kind != ErrTruncated || p.ended {
			return tag, p.err
		}
		p.err = nil
		p.sec, p.gstate, p.depth = sec, gstate, depth
		if err := p.refill(start); err != nil {
			return tag, err
		}
		start, p.off = 0, 0
	}
}

// end checks that the EOF record ends the dump. A stream is read to its
// end, keeping nothing, to count what follows as Parse counts the rest of
// its buffer.
func (p *parser) end() error {
	eof := p.base + int64(p.off)
	for !p.ended {
		if err := p.refill(len(p.buf)); err != nil {
			return err
		}
	}
	if left := p.base + int64(len(p.buf)) - eof; left > 0 {
		p.failAt(eof, ErrCorrupt, "%d bytes after the eof record", left)
		return p.err
	}
	return nil
}

// refill moves buf[start:], the part read of a record cut by the window's
// end, to the front of the window and reads until it holds twice as much
// (at least one byte more, at most a full window), or the stream ends or
// fails. The window doubles only when that part alone fills it. An error
// of src is returned only when no byte came before it.
func (p *parser) refill(start int) error {
	held := len(p.buf) - start
	copy(p.win, p.buf[start:])
	p.base += int64(start)
	p.buf = p.win[:held]
	if held == len(p.win) {
		w := newWindow(2 * len(p.win))
		copy(w, p.buf)
		freeWindow(p.win)
		p.win, p.buf = w, w[:held]
	}
	want := max(held+1, min(2*held, len(p.win)))
	for empty := 0; len(p.buf) < want && !p.ended; {
		if p.rerr != nil {
			if len(p.buf) > held {
				return nil
			}
			return p.rerr
		}
		free := p.win[len(p.buf):]
		n, err := p.src.Read(free)
		if n < 0 || n > len(free) {
			n, err = 0, fmt.Errorf("Read returned %d for a buffer of %d bytes", n, len(free))
		}
		p.buf = p.win[:len(p.buf)+n]
		switch {
		case err == io.EOF:
			p.ended = true
		case err != nil:
			p.rerr = fmt.Errorf("heapdump: reading the dump at offset %#x: %w", p.base+int64(len(p.buf)), err)
		case n > 0:
			empty = 0
		default:
			if empty++; empty == emptyReadLimit {
				p.rerr = fmt.Errorf("heapdump: reading the dump at offset %#x: %w", p.base+int64(len(p.buf)), io.ErrNoProgress)
			}
		}
	}
	return nil
}

// order checks that the record just tagged may come here.
func (p *parser) order(start int) error {
	tag := p.tag
	if tag == TagOtherRoot {
		p.fail(start, ErrCorrupt, "tag 2 (other root) is never written by the go1.26 dumper")
		return p.err
	}
	if tag >= Tag(len(tagSection)) {
		p.fail(start, ErrCorrupt, "no such record tag (the dumper writes 0..17)")
		return p.err
	}
	sec := tagSection[tag]
	if p.sec == secHeader && sec != secParams {
		p.fail(start, ErrCorrupt, "the first record must be params")
		return p.err
	}
	if sec < p.sec {
		p.fail(start, ErrCorrupt, "out of place after the %s section", sectionName(p.sec))
		return p.err
	}
	singleton := sec == secParams || sec == secData || sec == secBSS || sec == secMemStats
	if sec == p.sec && singleton {
		p.fail(start, ErrCorrupt, "a second %s record", tag)
		return p.err
	}
	for _, need := range [...]section{secParams, secData, secBSS, secMemStats} {
		if p.sec < need && need < sec {
			p.fail(start, ErrCorrupt, "missing the %s record before it", sectionName(need))
			return p.err
		}
	}
	p.sec = sec
	if sec == secGoroutines {
		switch {
		case tag == TagGoroutine:
			p.gstate, p.depth = gFrames, 0
		case p.gstate == gNone:
			p.fail(start, ErrCorrupt, "no goroutine record before it")
		case tag == TagStackFrame && p.gstate != gFrames:
			p.fail(start, ErrCorrupt, "a stack frame after the goroutine's defers or panics")
		case tag == TagDefer && p.gstate == gPanics:
			p.fail(start, ErrCorrupt, "a defer after the goroutine's panics")
		case tag == TagDefer:
			p.gstate = gDefers
		case tag == TagPanic:
			p.gstate = gPanics
		}
	}
	if p.err != nil {
		return p.err
	}
	return nil
}

func sectionName(s section) string {
	switch s {
	case secParams:
		return "params"
	case secItabs:
		return "itab"
	case secObjects:
		return "object"
	case secGoroutines:
		return "goroutine"
	case secThreads:
		return "os thread"
	case secData:
		return "data"
	case secBSS:
		return "bss"
	case secFinalizers:
		return "finalizer"
	case secQueued:
		return "queued finalizer"
	case secMemStats:
		return "memstats"
	case secMemProf:
		return "memprof"
	case secSamples:
		return "alloc sample"
	case secEOF:
		return "eof"
	}
	return "header"
}

// record reads the fields of the record whose tag was just read and hands
// it to v. Reads fail softly (p.err) and v is only called on success.
func (p *parser) record(start int, v Visitor) error {
	switch p.tag {
	case TagEOF:
		return nil
	case TagParams:
		r := &p.params
		r.BigEndian = p.bool()
		at := p.off
		r.PtrSize = p.uvarint()
		r.ArenaStart = p.uvarint()
		r.ArenaEnd = p.uvarint()
		r.GOARCH = p.str("GOARCH")
		atVersion := p.off
		r.GoVersion = p.str("Go version")
		r.NCPU = p.uvarint()
		switch {
		case p.err != nil:
		case !supportedVersion.MatchString(r.GoVersion):
			p.fail(atVersion, ErrVersion, "dump written by %q; this parser reads the format of %s", r.GoVersion, SupportedVersions)
		case r.BigEndian || r.PtrSize != 8:
			p.fail(at, ErrVersion, "dump of a %d-byte-word %s machine; this parser reads 64-bit little-endian dumps", r.PtrSize, endian(r.BigEndian))
		case r.ArenaStart > r.ArenaEnd:
			p.fail(at, ErrCorrupt, "arena start %#x above its end %#x", r.ArenaStart, r.ArenaEnd)
		}
		return p.visit(func() error { return v.Params(r) })
	case TagType:
		r := &p.typ
		r.Addr = p.uvarint()
		r.Size = p.uvarint()
		r.Name = p.str("type name")
		r.Indirect = p.bool()
		return p.visit(func() error { return v.Type(r) })
	case TagItab:
		r := &p.itab
		r.Addr = p.uvarint()
		r.Type = p.uvarint()
		return p.visit(func() error { return v.Itab(r) })
	case TagObject:
		r := &p.obj
		r.Offset = p.base + int64(start)
		r.Addr = p.uvarint()
		r.Contents = p.mem("object")
		r.Pointers = p.fields(len(r.Contents), false)
		if p.err == nil && len(r.Contents) == 0 {
			p.fail(start, ErrCorrupt, "an object of 0 bytes")
		}
		if p.err != nil {
			return nil
		}
		return v.Object(r)
	case TagGoroutine:
		r := &p.g
		r.Addr = p.uvarint()
		r.SP = p.uvarint()
		r.ID = p.uvarint()
		r.GoPC = p.uvarint()
		r.Status = p.uvarint()
		r.System = p.bool()
		at := p.off
		if r.Background = p.bool(); r.Background && p.err == nil {
			p.fail(at, ErrCorrupt, "background flag set (go1.26 always writes false)")
		}
		r.WaitSince = p.uvarint()
		r.WaitReason = p.str("wait reason")
		r.Ctxt = p.uvarint()
		r.M = p.uvarint()
		r.Defer = p.uvarint()
		r.Panic = p.uvarint()
		return p.visit(func() error { return v.Goroutine(r) })
	case TagStackFrame:
		r := &p.frame
		r.Offset = p.base + int64(start)
		r.SP = p.uvarint()
		at := p.off
		r.Depth = p.uvarint()
		if p.err == nil && !p.single && r.Depth != p.depth {
			p.fail(at, ErrCorrupt, "frame depth %d where %d comes next", r.Depth, p.depth)
		}
		p.depth++
		r.ChildSP = p.uvarint()
		r.Contents = p.mem("frame")
		r.Entry = p.uvarint()
		r.PC = p.uvarint()
		r.ContPC = p.uvarint()
		r.Func = p.str("function name")
		r.Pointers = p.fields(len(r.Contents), true)
		if p.err != nil {
			return nil
		}
		return v.StackFrame(r)
	case TagDefer:
		r := &p.dfr
		r.Addr = p.uvarint()
		r.G = p.uvarint()
		r.SP = p.uvarint()
		r.PC = p.uvarint()
		r.FnAddr = p.uvarint()
		r.FnPC = p.uvarint()
		r.Link = p.uvarint()
		return p.visit(func() error { return v.Defer(r) })
	case TagPanic:
		r := &p.pnc
		r.Addr = p.uvarint()
		r.G = p.uvarint()
		r.ArgType = p.uvarint()
		r.ArgData = p.uvarint()
		p.uvarint() // always 0: was the panic's defer
		r.Link = p.uvarint()
		return p.visit(func() error { return v.Panic(r) })
	case TagOSThread:
		r := &p.thread
		r.Addr = p.uvarint()
		r.ID = p.uvarint()
		r.ProcID = p.uvarint()
		return p.visit(func() error { return v.OSThread(r) })
	case TagData, TagBSS:
		r := &p.seg
		r.Offset = p.base + int64(start)
		r.Tag = p.tag
		r.Addr = p.uvarint()
		r.Contents = p.mem("segment")
		r.Pointers = p.fields(len(r.Contents), false)
		if p.err != nil {
			return nil
		}
		return v.Segment(r)
	case TagFinalizer, TagQueuedFinalizer:
		r := &p.fin
		r.Queued = p.tag == TagQueuedFinalizer
		r.Obj = p.uvarint()
		r.FnAddr = p.uvarint()
		r.FnPC = p.uvarint()
		r.FinType = p.uvarint()
		r.ObjType = p.uvarint()
		return p.visit(func() error { return v.Finalizer(r) })
	case TagMemStats:
		r := &p.ms
		for _, f := range [...]*uint64{
			&r.Alloc, &r.TotalAlloc, &r.Sys, &r.Lookups, &r.Mallocs, &r.Frees,
			&r.HeapAlloc, &r.HeapSys, &r.HeapIdle, &r.HeapInuse, &r.HeapReleased, &r.HeapObjects,
			&r.StackInuse, &r.StackSys, &r.MSpanInuse, &r.MSpanSys,
			&r.MCacheInuse, &r.MCacheSys, &r.BuckHashSys, &r.GCSys,
			&r.OtherSys, &r.NextGC, &r.LastGC, &r.PauseTotalNs,
		} {
			*f = p.uvarint()
		}
		for i := range r.PauseNs {
			r.PauseNs[i] = p.uvarint()
		}
		r.NumGC = p.uvarint()
		return p.visit(func() error { return v.MemStats(r) })
	case TagMemProf:
		r := &p.prof
		r.Bucket = p.uvarint()
		r.Size = p.uvarint()
		at := p.off
		n := p.uvarint()
		// Each frame takes at least 3 bytes (two empty strings and a line).
		if left := uint64(len(p.buf) - p.off); p.err == nil && n > left/3 {
			p.fail(at, ErrTruncated, "%d stack frames cannot fit in the %d bytes left", n, left)
		}
		p.frames = p.frames[:0]
		for i := uint64(0); i < n && p.err == nil; i++ {
			fn := p.str("function name")
			file := p.str("file name")
			line := p.uvarint()
			p.frames = append(p.frames, Frame{Func: fn, File: file, Line: line})
		}
		r.Frames = p.frames
		r.Allocs = p.uvarint()
		r.Frees = p.uvarint()
		return p.visit(func() error { return v.MemProf(r) })
	case TagAllocSample:
		r := &p.sample
		r.Addr = p.uvarint()
		r.Bucket = p.uvarint()
		return p.visit(func() error { return v.AllocSample(r) })
	}
	p.fail(start, ErrCorrupt, "no such record tag")
	return nil
}

// visit calls f unless reading the record failed.
func (p *parser) visit(f func() error) error {
	if p.err != nil {
		return nil
	}
	return f()
}

func endian(big bool) string {
	if big {
		return "big-endian"
	}
	return "little-endian"
}
