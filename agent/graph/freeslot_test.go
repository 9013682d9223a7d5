package graph

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"unsafe"
)

// freedSmall (48 B, no header) and freedBig (1024 B, malloc header) are
// allocated in threes: the middle one of three slots in a row on one page
// is dropped and freed by two GCs, its neighbours are kept, so its span
// stays in use and the slot is provably free. Threes the allocator did not
// lay out in a row (it fills the free slots of spans in use first) are
// kept whole, and more are made until freedTriples were.
type freedSmall struct {
	p *freedSmall
	x [5]int
}

type freedBig struct {
	p   *freedSmall
	buf [1000]byte
}

const freedTriples = 200

var (
	keptSmall []*freedSmall
	keptBig   []*freedBig
)

// inARow reports whether the three addresses are consecutive slots of
// size bytes on one page.
func inARow(a, b, c uintptr, size uintptr) bool {
	return b == a+size && c == b+size && a/pageSize == c/pageSize
}

// The constructors make the objects escape to the heap, which a pointer
// kept only as a uintptr would not.
//
//go:noinline
func newFreedSmall() *freedSmall { return &freedSmall{} }

//go:noinline
func newFreedBig() *freedBig { return &freedBig{} }

func TestFreeSlot_freed_between_kept(t *testing.T) {
	keptSmall, keptBig = nil, nil
	var droppedSmall, droppedBig []uintptr
	for range 20 * freedTriples {
		if len(droppedSmall) >= freedTriples && len(droppedBig) >= freedTriples {
			break
		}
		a, b, c := newFreedSmall(), newFreedSmall(), newFreedSmall()
		keptSmall = append(keptSmall, a, c)
		pa, pb, pc := uintptr(unsafe.Pointer(a)), uintptr(unsafe.Pointer(b)), uintptr(unsafe.Pointer(c))
		if inARow(pa, pb, pc, 48) {
			droppedSmall = append(droppedSmall, pb)
		} else {
			keptSmall = append(keptSmall, b)
		}
		d, e, f := newFreedBig(), newFreedBig(), newFreedBig()
		keptBig = append(keptBig, d, f)
		pd, pe, pf := uintptr(unsafe.Pointer(d)), uintptr(unsafe.Pointer(e)), uintptr(unsafe.Pointer(f))
		if inARow(pd, pe, pf, 1024) {
			droppedBig = append(droppedBig, pe)
		} else {
			keptBig = append(keptBig, e)
		}
	}
	if len(droppedSmall) < freedTriples || len(droppedBig) < freedTriples {
		t.Fatalf("only %d and %d of %d threes were laid out in a row", len(droppedSmall), len(droppedBig), 20*freedTriples)
	}
	runtime.GC()
	g := captureGraph(t) // collects once more

	// The capture itself allocates, and may take a freed slot again.
	reused := 0
	for i, p := range droppedSmall {
		if _, in := g.FindObject(uint64(p)); in {
			reused++
			continue
		}
		base, size, ok := g.FreeSlot(uint64(p))
		if !ok || base != uint64(p) || size != 48 {
			t.Fatalf("dropped small %d at %#x: FreeSlot = %#x, %d, %v; want itself, 48, true", i, p, base, size, ok)
		}
	}
	for i, p := range droppedBig {
		if _, in := g.FindObject(uint64(p)); in {
			reused++
			continue
		}
		// The program's pointer is the slot's base+8.
		base, size, ok := g.FreeSlot(uint64(p))
		if !ok || base != uint64(p)-8 || size != 1024 {
			t.Fatalf("dropped big %d at %#x: FreeSlot = %#x, %d, %v; want base %#x, 1024, true", i, p, base, size, ok, p-8)
		}
		if _, _, ok := g.FreeSlot(uint64(p) + 16); ok {
			t.Fatalf("%#x, inside a freed slot, is a slot", p+16)
		}
	}
	if checked := len(droppedSmall) + len(droppedBig) - reused; checked < freedTriples/2 {
		t.Fatalf("%d of %d freed slots reused before the dump: only %d checked", reused, checked+reused, checked)
	}
	for _, p := range keptSmall {
		if _, _, ok := g.FreeSlot(uint64(uintptr(unsafe.Pointer(p)))); ok {
			t.Fatalf("a kept object at %p is a free slot", p)
		}
	}
	// Values that are not slot boundaries of an in-use span.
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		if v := r.Uint64(); v%8 == 0 {
			if _, _, ok := g.FreeSlot(v); ok {
				t.Fatalf("random %#x is a free slot", v)
			}
		}
	}
	runtime.KeepAlive(keptSmall)
	runtime.KeepAlive(keptBig)
}
