package graph

import "runtime"

// Mem is mapped memory for the arrays of the stages after this one
// (analysis), kept out of the Go heap for the reasons a Graph's arrays are
// (offheap.go): they stay out of the next dump, their addresses are never
// read as hidden references, and they do not raise the host's GC target.
// Only pointer-free element types can be stored (Scalar). A Mem is safe
// for concurrent use. A failed mapping panics with an error value, as
// make panics when memory runs out; callers that must survive it recover.
type Mem struct {
	m       *mem
	cleanup runtime.Cleanup
}

// Scalar lists the element types a Mem may hold: the GC does not see
// mapped memory, so a pointer stored there would not keep its target
// alive.
type Scalar interface {
	~uint8 | ~uint16 | ~uint32 | ~uint64 | ~int32 | ~int64
}

// NewMem returns an empty Mem. Close it, or it is released when it becomes
// unreachable.
func NewMem() *Mem {
	m := &Mem{m: newMem(nil)}
	m.cleanup = runtime.AddCleanup(m, func(mm *mem) { mm.freeAll() }, m.m)
	return m
}

// Close releases every slice made in m; they become invalid. Idempotent.
func (m *Mem) Close() {
	if m == nil {
		return
	}
	m.cleanup.Stop()
	m.m.freeAll()
}

// Bytes is what m holds mapped now.
func (m *Mem) Bytes() int64 { return m.m.size() }

// Make returns a zeroed slice of length n (capacity at least c) in m.
func Make[T Scalar](m *Mem, n, c int) []T {
	defer rethrowOOM()
	return makeOff[T](m.m, n, c)
}

// Free releases a slice made by Make or Append before m is closed.
func Free[T Scalar](m *Mem, s []T) { freeOff(m.m, s) }

// Append appends v to s (made in m), moving it to a mapping twice as big
// when it is full.
func Append[T Scalar](m *Mem, s []T, v T) []T {
	if len(s) < cap(s) {
		return append(s, v)
	}
	defer rethrowOOM()
	return appendOff(m.m, s, v)
}

// rethrowOOM turns the build's private out-of-memory panic into an error
// panic a caller outside the package can report.
func rethrowOOM() {
	if r := recover(); r != nil {
		if oom, ok := r.(outOfMemory); ok {
			panic(oom.err)
		}
		panic(r)
	}
}
