package analysis

import (
	"runtime"
	"testing"
	"unsafe"
	"weak"
)

// stateObj is 48 bytes; each test below plants some in one state.
type stateObj struct {
	next *stateObj
	pad  [5]int
}

//go:noinline
func newStateObj(next *stateObj) *stateObj { return &stateObj{next: next} }

var (
	liveChain  *stateObj // three objects in a row
	weakTarget weak.Pointer[stateObj]
	viaLong    *stateObj // a four-hop path to a shared target
	viaShort   *stateObj // a two-hop path to it
)

func TestStates(t *testing.T) {
	liveChain = newStateObj(newStateObj(newStateObj(nil)))
	runtime.GC()
	// Made after the GC the capture would otherwise run first: garbage
	// not yet collected, a finalized object nothing references, an object
	// only a weak pointer names.
	pending := uintptr(unsafe.Pointer(newStateObj(newStateObj(nil))))
	fin := newStateObj(newStateObj(nil))
	finNext := uintptr(unsafe.Pointer(fin.next))
	runtime.SetFinalizer(fin, func(*stateObj) {})
	finAddr := uintptr(unsafe.Pointer(fin))
	fin = nil
	w := newStateObj(nil)
	weakTarget = weak.Make(w)
	weakAddr := uintptr(unsafe.Pointer(w))
	w = nil

	a := analyse(t, false)
	for _, c := range []struct {
		what string
		addr uintptr
		want State
	}{
		{"head of the live chain", uintptr(unsafe.Pointer(liveChain)), Live},
		{"tail of the live chain", uintptr(unsafe.Pointer(liveChain.next.next)), Live},
		{"unreachable garbage", pending, Pending},
		{"object with a finalizer, unreachable", finAddr, PendingFinalizer},
		{"its referent", finNext, PendingFinalizer},
		{"only weakly held", weakAddr, Weak},
	} {
		o, ok := a.g.FindObject(uint64(c.addr))
		if !ok {
			t.Errorf("%s: no object at %#x", c.what, c.addr)
			continue
		}
		if got := a.State(o); got != c.want {
			t.Errorf("%s: %s, want %s", c.what, got, c.want)
		}
	}
	if a.Totals[Live].Objects == 0 || a.Totals[Pending].Objects == 0 {
		t.Errorf("totals: %+v", a.Totals)
	}

	// The dominator tree spans the live and pending-finalizer objects. The
	// finalizer record holds the object it was set on and, as the GC scans
	// that object for it, the object's referent: both are its children.
	fv, nv := objectAt(t, a, finAddr), objectAt(t, a, finNext)
	size := uint64(unsafe.Sizeof(stateObj{}))
	parents := treeParents(a)
	for what, v := range map[string]Vertex{"the finalized object": fv, "its referent": nv} {
		if got := a.Retained(v); got != size {
			t.Errorf("%s retains %d bytes, want %d", what, got, size)
		}
		if h, ok := a.Holder(parents[v]); !ok || h.Kind != FinalizerHolder || h.Addr != uint64(finAddr) {
			t.Errorf("%s's parent in the dominator tree is %s, want its finalizer record", what, a.describeVertex(parents[v]))
		}
	}
	for what, addr := range map[string]uintptr{"unreachable garbage": pending, "only weakly held": weakAddr} {
		if got := a.Retained(objectAt(t, a, addr)); got != 0 {
			t.Errorf("%s retains %d bytes, want 0 (outside the dominator tree)", what, got)
		}
	}
	matchesReference(t, a)
	runtime.KeepAlive(liveChain)
}

//go:noinline
func plantPaths() {
	shared := newStateObj(nil)
	viaLong = newStateObj(newStateObj(newStateObj(shared)))
	viaShort = newStateObj(shared)
}

func TestPaths_shortest(t *testing.T) {
	plantPaths() // no frame of this goroutine holds the shared target
	a := analyse(t, true)

	v := objectAt(t, a, uintptr(unsafe.Pointer(viaShort.next)))
	path := a.Path(v)
	// group, holder (the bss segment), viaShort's object, sharedTarget.
	if len(path) != 4 {
		t.Fatalf("path of %d vertices, want 4 (group, holder, viaShort, target): %v", len(path), path)
	}
	if path[0] != Globals.Vertex() {
		t.Errorf("path starts at %s, want the globals group", a.describeVertex(path[0]))
	}
	if h, ok := a.Holder(path[1]); !ok || h.Kind != GlobalHolder || h.Name != "bss" {
		t.Errorf("second hop is %s, want the bss segment", a.describeVertex(path[1]))
	}
	if want := objectAt(t, a, uintptr(unsafe.Pointer(viaShort))); path[2] != want {
		t.Errorf("third hop is %s, want viaShort's object", a.describeVertex(path[2]))
	}
	if path[3] != v {
		t.Errorf("path ends at %s", a.describeVertex(path[3]))
	}
	runtime.KeepAlive(viaLong)
}

// parkedLocal is the address of a local of a goroutine blocked on a
// channel, kept only as an integer.
var parkedLocal uintptr

func TestStacks_bounds_from_g(t *testing.T) {
	ready, done := make(chan struct{}), make(chan struct{})
	go func() {
		var local [4]int
		parkedLocal = uintptr(unsafe.Pointer(&local))
		close(ready)
		<-done
		runtime.KeepAlive(&local)
	}()
	<-ready
	defer close(done)
	a := analyse(t, true)
	gid, ok := a.stackOf(uint64(parkedLocal))
	if !ok {
		t.Fatalf("the parked goroutine's local at %#x is in no stack (%d stacks)", parkedLocal, len(a.stacks))
	}
	gr := a.g.Goroutines[gid]
	if gr.NumFrames == 0 || uint64(parkedLocal) < gr.StackLo || uint64(parkedLocal) >= gr.StackHi {
		t.Errorf("goroutine %d's frames span [%#x, %#x), the local is at %#x", gr.ID, gr.StackLo, gr.StackHi, parkedLocal)
	}
	// The bounds come from the g: they are a power of two (2 KiB at least)
	// and contain the frames.
	for _, s := range a.stacks {
		if s.g == gid && (s.hi-s.lo < 2048 || (s.hi-s.lo)&(s.hi-s.lo-1) != 0) {
			t.Errorf("stack [%#x, %#x) of %d bytes is not the runtime's", s.lo, s.hi, s.hi-s.lo)
		}
	}
}
