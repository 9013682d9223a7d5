package graph

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/heaptop/heaptop/agent/heapdump"
)

// A graph's arrays live outside the Go heap (mapped memory on Linux). Three
// reasons, all about the process being inspected: the agent's graphs would
// otherwise be in the next dump, their arrays of heap addresses would read
// as hidden references, and they would raise the host's GC target (GOGC
// counts them as live heap) by up to their own size again. The cost is a
// lifetime rule: every slice a Graph returns or exposes is valid until the
// Graph is closed, or, without Close, until it is unreachable.
//
// Only pointer-free element types may be stored there (the GC does not
// see mapped memory); offheapTypes lists them and a test checks it.

// mem owns the mappings of one graph (or of one Build's temporaries).
type mem struct {
	mu    sync.Mutex // guards maps, bytes and *shared
	maps  map[unsafe.Pointer][]byte
	bytes int64
	// shared counts the bytes mapped by every mem of one Build, and
	// their peak (BuildStats.PeakMapped).
	shared *mappedTotal
}

type mappedTotal struct{ cur, peak int64 }

func newMem(t *mappedTotal) *mem { return &mem{maps: map[unsafe.Pointer][]byte{}, shared: t} }

// outOfMemory is the panic value of a failed mapping; Build recovers it.
type outOfMemory struct{ err error }

func (m *mem) alloc(n int) []byte {
	if n == 0 {
		return nil
	}
	b, err := mapBytes(n)
	if err != nil {
		panic(outOfMemory{fmt.Errorf("graph: mapping %d bytes: %w", n, err)})
	}
	m.mu.Lock()
	m.maps[unsafe.Pointer(&b[0])] = b
	m.bytes += int64(len(b))
	if t := m.shared; t != nil {
		t.cur += int64(len(b))
		t.peak = max(t.peak, t.cur)
	}
	m.mu.Unlock()
	return b
}

func (m *mem) free(p unsafe.Pointer) {
	m.mu.Lock()
	b, ok := m.maps[p]
	delete(m.maps, p)
	m.bytes -= int64(len(b))
	if t := m.shared; t != nil {
		t.cur -= int64(len(b))
	}
	m.mu.Unlock()
	if ok {
		unmapBytes(b)
	}
}

// freeAll releases every mapping; idempotent.
func (m *mem) freeAll() {
	m.mu.Lock()
	maps := m.maps
	m.maps = map[unsafe.Pointer][]byte{}
	if t := m.shared; t != nil {
		t.cur -= m.bytes
	}
	m.bytes = 0
	m.mu.Unlock()
	for _, b := range maps {
		unmapBytes(b)
	}
}

func (m *mem) size() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bytes
}

// makeOff returns a zeroed slice of length n and capacity c (c >= n) in m.
func makeOff[T any](m *mem, n, c int) []T {
	c = max(c, n)
	if c == 0 {
		return nil
	}
	var zero T
	b := m.alloc(c * int(unsafe.Sizeof(zero)))
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), c)[:n]
}

// freeOff releases a slice made by makeOff (or appendOff).
func freeOff[T any](m *mem, s []T) {
	if cap(s) > 0 {
		m.free(unsafe.Pointer(unsafe.SliceData(s[:1])))
	}
}

// appendOff appends v to s, moving s to a mapping twice as big when full.
func appendOff[T any](m *mem, s []T, v T) []T {
	if len(s) == cap(s) {
		t := makeOff[T](m, len(s), max(2*cap(s), 4096/int(unsafe.Sizeof(v))+1))
		copy(t, s)
		freeOff(m, s)
		s = t
	}
	return append(s, v)
}

// copyOff copies a Go slice into m.
func copyOff[T any](m *mem, s []T) []T {
	t := makeOff[T](m, len(s), len(s))
	copy(t, s)
	return t
}

// offheapTypes are the element types stored in mapped memory.
var offheapTypes = []any{uint64(0), uint32(0), uint16(0), ObjectFlags(0), ObjectID(0), EdgeID(0), int64(0),
	Root{}, Frame{}, Sample{}, HiddenWord{}, IfaceWord{}, Finalizer{}, Goroutine{}, run{}, wordSpan{}, heapdump.AllocSample{}}
