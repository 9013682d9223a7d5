package agent

import (
	"reflect"
	"runtime"
	"slices"
	"sync"
	"time"
	"unsafe"
	"weak"

	"github.com/heaptop/heaptop/agent/analysis"
)

// MarkReleased declares that the object p points at should now be dead:
// the program has let go of it (closed the connection, evicted the cache
// entry) and expects the GC to free it. If a later snapshot still reaches
// it, heaptop shows a leak: the object, why it should be dead, and the
// chain of references that keeps it.
//
//	cache.evict(key)
//	agent.MarkReleased(entry, "evicted from the session cache")
//
// p is a pointer, map, channel, slice or unsafe.Pointer to a heap object;
// anything else is ignored, as are nil, globals and memory the Go heap
// does not own. MarkReleased may be called before Start or without an
// agent at all, from any goroutine.
//
// The registration does not keep the object alive: it holds the address
// as an integer, a weak pointer (which tells a later capture whether the
// object still lives, so a slot reused by another allocation is never
// blamed) and a runtime cleanup that drops the registration when the
// object is freed. Cost: two runtime specials, a 16-byte weak handle and
// about 150 bytes of bookkeeping per object not yet freed; at most
// maxReleased are watched at once, later ones are counted and reported as
// not watched. Tiny objects (pointer-free, under 16 bytes) share memory
// blocks, and their registration may outlive them until the block is
// freed; they are never reported as leaks once their weak pointer is
// cleared.
func MarkReleased(p any, why string) {
	ptr := heapPointer(p)
	if ptr == nil {
		return
	}
	released.add(ptr, reflect.TypeOf(p).String(), why)
	runtime.KeepAlive(p)
}

// maxReleased bounds the registrations watched at once: about 10 MB of
// bookkeeping and specials. A program that keeps more released objects
// alive than this has a leak heaptop already shows.
const maxReleased = 1 << 16

// releasedEntry is one registration. addr is an integer on purpose: the
// registry must not keep the object alive (heaptop's own hidden references
// are excluded from its findings).
type releasedEntry struct {
	addr   uintptr
	handle weak.Pointer[byte]
	typ    string
	why    string
	at     time.Time
}

// released is the process's registry.
var released registry

type registry struct {
	mu      sync.Mutex // guards the fields below
	entries map[uint64]*releasedEntry
	nextID  uint64
	dropped int // registrations refused because maxReleased were watched
}

// heapPointer returns the pointer p holds, or nil when p holds none.
func heapPointer(p any) unsafe.Pointer {
	if p == nil {
		return nil
	}
	v := reflect.ValueOf(p)
	switch v.Kind() {
	case reflect.Pointer, reflect.UnsafePointer, reflect.Map, reflect.Chan, reflect.Slice:
		return v.UnsafePointer()
	}
	return nil
}

func (r *registry) add(ptr unsafe.Pointer, typ, why string) {
	r.mu.Lock()
	if len(r.entries) >= maxReleased {
		r.dropped++
		r.mu.Unlock()
		return
	}
	if r.entries == nil {
		r.entries = map[uint64]*releasedEntry{}
	}
	r.nextID++
	id := r.nextID
	r.mu.Unlock()

	// runtime.AddCleanup checks that ptr lies in a heap object and panics
	// (recoverably) when it does not; weak.Make would throw (fatally), so
	// it comes only after. A pointer to a global gets no cleanup.
	c, ok := addCleanup(ptr, id)
	if !ok || c == (runtime.Cleanup{}) {
		return
	}
	e := &releasedEntry{addr: uintptr(ptr), handle: weak.Make((*byte)(ptr)), typ: typ, why: why, at: time.Now()}
	r.mu.Lock()
	r.entries[id] = e
	r.mu.Unlock()
}

// addCleanup attaches the cleanup that forgets registration id when the
// object at ptr is freed; ok is false when ptr is not in the Go heap.
func addCleanup(ptr unsafe.Pointer, id uint64) (c runtime.Cleanup, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return runtime.AddCleanup((*byte)(ptr), released.forget, id), true
}

// forget drops a registration; it runs on the runtime's cleanup goroutine.
func (r *registry) forget(id uint64) {
	r.mu.Lock()
	delete(r.entries, id)
	r.mu.Unlock()
}

// list returns the registrations for an analysis, oldest first, and how
// many were not watched.
func (r *registry) list() ([]analysis.Released, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]analysis.Released, 0, len(r.entries))
	for _, e := range r.entries {
		out = append(out, analysis.Released{
			Addr: uint64(e.addr), Handle: uint64(handleAddress(e.handle)), Type: e.typ, Why: e.why, At: e.at,
		})
	}
	sortReleased(out)
	return out, r.dropped
}

// handleAddress is the address of a weak pointer's handle: weak.Pointer is
// {_ [0]*T; u unsafe.Pointer} in go1.26.8 (weak/pointer.go), u pointing
// at the handle whose word holds the target's address until the GC frees
// it. TestWeakPointerLayout pins the layout.
func handleAddress(w weak.Pointer[byte]) uintptr {
	return *(*uintptr)(unsafe.Pointer(&w))
}

func sortReleased(rs []analysis.Released) {
	slices.SortFunc(rs, func(x, y analysis.Released) int { return x.At.Compare(y.At) })
}
