package graph

import (
	"testing"
	"unsafe"
)

// TestKeptMappings: between KeepFreed and ReleaseKept a freed array's
// mapping is reused, cleared, by the next array it fits; an array none
// fits has the kept ones unmapped first; nothing is kept after ReleaseKept.
func TestKeptMappings(t *testing.T) {
	KeepFreed()
	defer ReleaseKept()
	m := newMem(nil)
	defer m.freeAll()
	a := makeOff[uint64](m, 1<<20, 1<<20)
	for i := range a {
		a[i] = 0xfeed
	}
	first := unsafe.Pointer(&a[0])
	freeOff(m, a)
	if kept.bytes != 8<<20 {
		t.Fatalf("%d bytes kept after freeing 8 MiB", kept.bytes)
	}
	b := makeOff[uint64](m, 1<<20-100, 1<<20-100) // fits: reused
	if unsafe.Pointer(&b[0]) != first {
		t.Errorf("a freed 8 MiB mapping was not reused for an array of 8 MiB less 800 B")
	}
	for i, v := range b {
		if v != 0 {
			t.Fatalf("reused array not cleared: [%d] = %#x", i, v)
		}
	}
	freeOff(m, b)
	c := makeOff[uint64](m, 5<<20, 5<<20) // 40 MiB: no kept mapping fits
	if kept.bytes != 0 || len(kept.maps) != 0 {
		t.Errorf("%d bytes still kept after an allocation none fitted", kept.bytes)
	}
	freeOff(m, c)
	ReleaseKept()
	if kept.bytes != 0 || kept.on {
		t.Errorf("after ReleaseKept: %d bytes kept, keeping %v", kept.bytes, kept.on)
	}
	d := makeOff[uint64](m, 1<<10, 1<<10)
	freeOff(m, d)
	if kept.bytes != 0 {
		t.Errorf("%d bytes kept outside KeepFreed/ReleaseKept", kept.bytes)
	}
}
