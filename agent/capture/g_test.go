//go:build linux && (amd64 || arm64)

package capture

import (
	"context"
	"runtime"
	"testing"
)

func TestGLayout_matches_go1_26(t *testing.T) {
	guard, ok := gLayoutGuard()
	if !ok {
		t.Fatal("the g layout of this runtime is not go1.26's: the dump child cannot clear an inherited preemption request")
	}
	// stackGuard = StackNosplitBase*multiplier + StackSmall (stack.go).
	if guard != 928 && guard != 1728 {
		t.Fatalf("stack guard %d, want 928 (or 1728 with -race)", guard)
	}
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

func TestFindAllgs_from_a_dump(t *testing.T) {
	c := New(Options{})
	d, err := c.Capture(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	addr := findAllgs(d.Bytes)
	d.Close()
	if addr == 0 {
		t.Fatal("no allgs slice header found in the dump")
	}
	// The header's array holds this goroutine's g and as many gs as
	// the runtime has made.
	arr, n := peek(uintptr(addr)), peek(uintptr(addr)+8)
	self, found := getg(), false
	for i := uintptr(0); i < n; i++ {
		found = found || peek(arr+8*i) == self
	}
	if !found || int(n) < runtime.NumGoroutine() {
		t.Fatalf("header at %#x: %d gs, this goroutine's among them: %v", addr, n, found)
	}
}
