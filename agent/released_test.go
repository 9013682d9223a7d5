package agent

import (
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"unsafe"
	"weak"

	"github.com/heaptop/heaptop/agent/internal/agenttest"
)

type releasedConn struct {
	id  int
	buf [64]byte
}

//go:noinline
func newReleasedConn(id int) *releasedConn { return &releasedConn{id: id} }

var releasedGlobal releasedConn

// TestWeakPointerLayout pins what handleAddress assumes of weak.Pointer:
// one word, the handle's address, whose word is the target's address
// while it lives and 0 once the GC freed it.
func TestWeakPointerLayout(t *testing.T) {
	if unsafe.Sizeof(weak.Pointer[byte]{}) != unsafe.Sizeof(uintptr(0)) {
		t.Fatalf("weak.Pointer is %d bytes", unsafe.Sizeof(weak.Pointer[byte]{}))
	}
	c := newReleasedConn(1)
	w := weak.Make((*byte)(unsafe.Pointer(c)))
	u := *(*unsafe.Pointer)(unsafe.Pointer(&w))
	if handleAddress(w) != uintptr(u) {
		t.Fatalf("handleAddress %#x, the weak pointer holds %p", handleAddress(w), u)
	}
	h := (*atomic.Uintptr)(u)
	if got := h.Load(); got != uintptr(unsafe.Pointer(c)) {
		t.Fatalf("handle word %#x, want the target %p", got, c)
	}
	runtime.KeepAlive(c)
	c = nil
	runtime.GC()
	runtime.GC()
	if got := h.Load(); got != 0 {
		t.Fatalf("handle word %#x after the target was freed, want 0", got)
	}
	runtime.KeepAlive(w)
}

func TestMarkReleased(t *testing.T) {
	before, _ := released.list()
	c := newReleasedConn(2)
	MarkReleased(c, "closed by the test")
	rs, _ := released.list()
	if len(rs) != len(before)+1 {
		t.Fatalf("%d registrations, want %d", len(rs), len(before)+1)
	}
	r := rs[len(rs)-1]
	if r.Addr != uint64(uintptr(unsafe.Pointer(c))) || r.Type != "*agent.releasedConn" || r.Why != "closed by the test" || r.Handle == 0 {
		t.Fatalf("registration %+v", r)
	}
	runtime.KeepAlive(c)

	// Ignored: no pointer, nil, a global, memory the Go heap does not own
	// (the runtime panics on it in AddCleanup, which MarkReleased
	// recovers; weak.Make would have thrown).
	mapped, err := syscall.Mmap(-1, 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(mapped)
	for _, p := range []any{42, "text", nil, (*releasedConn)(nil), &releasedGlobal, unsafe.Pointer(&mapped[0])} {
		MarkReleased(p, "ignored")
	}
	if rs2, _ := released.list(); len(rs2) != len(rs) {
		t.Fatalf("%d registrations after the ignored ones, want %d", len(rs2), len(rs))
	}

	// The registration does not keep the object alive, and goes with it.
	c = nil
	agenttest.WaitFor(t, "the released object's registration to go", func() bool {
		runtime.GC()
		rs2, _ := released.list()
		return len(rs2) == len(before)
	})
}
