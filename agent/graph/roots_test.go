package graph

import (
	"runtime"
	"testing"
	"unsafe"
	"weak"
)

const holdBufferFunc = "github.com/heaptop/heaptop/agent/graph.holdBuffer"

// holdBuffer keeps a 1 MiB buffer in a local while it blocks on release.
// It sends the buffer's address and the line of its blocking receive.
func holdBuffer(ready chan<- [2]uintptr, release <-chan struct{}) {
	buf := make([]byte, 1<<20)
	_, _, line, _ := runtime.Caller(0)
	ready <- [2]uintptr{uintptr(unsafe.Pointer(&buf[0])), uintptr(line + 2)}
	<-release
	runtime.KeepAlive(buf)
}

func TestPlanted_goroutine_holding_1MiB_buffer(t *testing.T) {
	ready := make(chan [2]uintptr)
	release := make(chan struct{})
	go holdBuffer(ready, release)
	got := <-ready
	bufAddr, blockLine := got[0], int(got[1])
	defer close(release)
	g := captureGraph(t)

	buf := mustObject(t, g, bufAddr)
	if _, size := g.Object(buf); size != 1<<20 || g.Flags(buf) != Large {
		t.Fatalf("buffer: %d bytes flags %b, want 1 MiB, large", size, g.Flags(buf))
	}
	found := false
	for _, fr := range g.Frames {
		if g.Funcs[fr.Func] != holdBufferFunc {
			continue
		}
		gr := g.Goroutines[fr.Goroutine]
		targets, _ := g.Edges(g.RootVertex(fr.Root))
		holds := false
		for _, tgt := range targets {
			holds = holds || tgt == buf
		}
		if !holds {
			t.Fatalf("goroutine %d's frame %s does not point at the buffer (edges %v)", gr.ID, holdBufferFunc, targets)
		}
		if g.WaitReasons[gr.Wait] != "chan receive" || gr.Status != 4 {
			t.Errorf("goroutine %d: status %d wait %q, want 4 (waiting) on chan receive", gr.ID, gr.Status, g.WaitReasons[gr.Wait])
		}
		f, _ := runtime.CallersFrames([]uintptr{uintptr(fr.PC)}).Next()
		if f.Function != holdBufferFunc || f.Line != blockLine {
			t.Errorf("frame PC resolves to %s:%d, want %s:%d (the blocking receive)", f.Function, f.Line, holdBufferFunc, blockLine)
		}
		found = true
	}
	if !found {
		t.Fatalf("no frame of %s in the dump", holdBufferFunc)
	}
}

// finObj is 32 bytes; finBig (1032 B) has a malloc header.
type finObj struct {
	p *int
	x [3]int
}

type finBig struct {
	p *int
	x [128]int
}

var plantedFinalized []any

func TestPlanted_finalizers(t *testing.T) {
	want := map[uint64]bool{} // the pointers passed to SetFinalizer
	for range 10 {
		o := &finObj{p: new(int)}
		runtime.SetFinalizer(o, func(*finObj) {})
		plantedFinalized = append(plantedFinalized, o)
		want[uint64(uintptr(unsafe.Pointer(o)))] = true
	}
	for range 3 {
		o := &finBig{p: new(int)}
		runtime.SetFinalizer(o, func(*finBig) {})
		plantedFinalized = append(plantedFinalized, o)
		want[uint64(uintptr(unsafe.Pointer(o)))] = true
	}
	g := captureGraph(t)

	seen := 0
	for _, f := range g.Finalizers {
		if !want[f.Obj] {
			continue
		}
		seen++
		if f.Queued || f.Object == NoObject {
			t.Fatalf("finalizer on %#x: queued %v, object %d", f.Obj, f.Queued, f.Object)
		}
		base, size := g.Object(f.Object)
		if size == 1152 { // finBig: header, so the program's pointer is base+8
			if f.Obj != base+8 {
				t.Errorf("finalizer on a header object: %#x, object base %#x, want base+8", f.Obj, base)
			}
		} else if f.Obj != base || size != 32 {
			t.Errorf("finalizer on %#x: object %#x of %d bytes", f.Obj, base, size)
		}
		// The root holds what the object points to, not the object.
		v := g.RootVertex(f.Root)
		targets, _ := g.Edges(v)
		for _, tgt := range targets {
			if tgt == f.Object {
				t.Errorf("finalizer root keeps its own object %#x alive", base)
			}
		}
		field := uint64(0)
		if g.Flags(f.Object)&Header != 0 {
			field = 8
		}
		if _, ok := edgeAt(g, v, 8+field); !ok {
			t.Errorf("finalizer root of %#x has no edge to the object's field p", f.Obj)
		}
	}
	if seen != len(want) {
		t.Fatalf("%d finalizer records for the %d planted objects", seen, len(want))
	}
	for _, o := range plantedFinalized {
		runtime.SetFinalizer(o, nil)
	}
	plantedFinalized = nil
}

func TestPlanted_object_count_equals_HeapObjects(t *testing.T) {
	// The dump's MemStats record is readmemstats_m in the dump's own
	// stop-the-world, before the dump is written; after runtime.GC() all
	// spans are swept, so the dump's ensureSwept frees nothing and every
	// allocated slot is counted once in HeapObjects. The only slack is a
	// page whose reserve could not be decided (Stats.AmbiguousSlots).
	for i := range 3 {
		g := captureGraph(t)
		n, want := int64(g.NumObjects()), int64(g.MemStats.HeapObjects)
		if d := want - n; d < 0 || d > int64(g.Stats.AmbiguousSlots) {
			t.Fatalf("capture %d: %d objects, HeapObjects %d (bogus slots dropped %d, ambiguous %d)", i, n, want, g.Stats.BogusSlots, g.Stats.AmbiguousSlots)
		}
		if g.Stats.BogusSlots == 0 {
			t.Errorf("capture %d: no bogus tail slot dropped; the Green Tea reserve rule did not apply", i)
		}
		t.Logf("capture %d: %d objects = HeapObjects %d; %d bogus slots dropped of %d records; %d ambiguous pages",
			i, n, want, g.Stats.BogusSlots, g.Stats.ObjectRecords, g.Stats.AmbiguousPages)
	}
}

var plantedTiny []*int16

func TestPlanted_tiny_allocations_share_a_block(t *testing.T) {
	// Pointer-free allocations under 16 bytes are packed into 16-byte
	// blocks: the dump, and so the graph, has the block, not the values.
	plantedTiny = plantedTiny[:0]
	for range 64 {
		plantedTiny = append(plantedTiny, new(int16))
	}
	g := captureGraph(t)
	shared := 0
	for i, p := range plantedTiny {
		addr := uint64(uintptr(unsafe.Pointer(p)))
		o, ok := g.FindObject(addr)
		if !ok {
			t.Fatalf("tiny value %d at %#x not found", i, addr)
		}
		base, size := g.Object(o)
		if size != 16 || g.Flags(o) != 0 || base != addr&^15 {
			t.Fatalf("tiny value at %#x: object %#x of %d bytes flags %b; want its 16-byte block", addr, base, size, g.Flags(o))
		}
		if i > 0 {
			if prev, _ := g.FindObject(uint64(uintptr(unsafe.Pointer(plantedTiny[i-1])))); prev == o {
				shared++
			}
		}
	}
	if shared == 0 {
		t.Fatal("no two consecutive int16 allocations share a block")
	}
	runtime.KeepAlive(plantedTiny)
}

type cleanupTarget struct{ x [4]int }

var (
	plantedCleanupTarget *cleanupTarget
	plantedCleanup       runtime.Cleanup
)

func TestPlanted_cleanup_closure_is_rooted(t *testing.T) {
	before := cleanupClosures(captureGraph(t))
	plantedCleanupTarget = &cleanupTarget{}
	plantedCleanup = runtime.AddCleanup(plantedCleanupTarget, func(int) {}, 42)
	defer plantedCleanup.Stop()
	after := cleanupClosures(captureGraph(t))
	// Build roots a 16-byte object only if its code pointer names
	// runtime.AddCleanup[...].func1, the closure AddCleanup allocates.
	if after != before+1 {
		t.Fatalf("the cleanups root holds %d closures after one AddCleanup, %d before", after, before)
	}
	// The runtime.Cleanup value holds the target's address as an integer
	// in noptrbss: TestNoptrSegments (a program with a symbol table, which
	// go test binaries lack) checks that it is a hidden word.
	runtime.KeepAlive(plantedCleanupTarget)
}

// cleanupClosures counts the 16-byte pointerful objects of the cleanups root.
func cleanupClosures(g *Graph) int {
	n := 0
	for r := range g.NumRoots() {
		if g.Root(RootID(r)).Kind != RootCleanups {
			continue
		}
		targets, _ := g.Edges(g.RootVertex(RootID(r)))
		for _, o := range targets {
			if _, size := g.Object(o); size == 16 && g.Flags(o) == Pointers {
				n++
			}
		}
	}
	return n
}

type weakTarget struct{ x [3]int }

var (
	plantedWeakTarget *weakTarget
	plantedWeak       weak.Pointer[weakTarget]
)

func TestPlanted_weak_handle(t *testing.T) {
	plantedWeakTarget = &weakTarget{}
	plantedWeak = weak.Make(plantedWeakTarget)
	handle := *(*uintptr)(unsafe.Pointer(&plantedWeak))
	g := captureGraph(t)

	h := mustObject(t, g, handle)
	if _, size := g.Object(h); size != 16 || g.Flags(h)&Pointers != 0 {
		t.Fatalf("weak handle: %d bytes flags %b, want a 16-byte pointer-free object", size, g.Flags(h))
	}
	target := uint64(uintptr(unsafe.Pointer(plantedWeakTarget)))
	kind := HiddenKind(255)
	for _, w := range g.Hidden {
		if w.Holder == g.ObjectVertex(h) && w.Offset == 0 && w.Value == target {
			kind = w.Kind
		}
	}
	if kind != HiddenWeakHandle {
		t.Fatalf("the handle's word (target %#x) is hidden kind %d, want HiddenWeakHandle", target, kind)
	}
	rooted := false
	for r := range g.NumRoots() {
		if g.Root(RootID(r)).Kind == RootWeakHandles {
			targets, _ := g.Edges(g.RootVertex(RootID(r)))
			for _, o := range targets {
				rooted = rooted || o == h
			}
		}
	}
	if !rooted {
		t.Error("the weak handle is not held by the weak-handles root")
	}
	r, off := rootHolding(t, g, uintptr(unsafe.Pointer(&plantedWeak)))
	if o, ok := edgeAt(g, g.RootVertex(r), off); !ok || o != h {
		t.Error("the weak.Pointer global has no edge to its handle")
	}
	runtime.KeepAlive(plantedWeakTarget)
}

type plantedErr struct{ msg [3]int }

func (*plantedErr) Error() string { return "planted" }

var plantedIface error

func TestPlanted_interface_itab_word(t *testing.T) {
	plantedIface = &plantedErr{}
	g := captureGraph(t)
	defer g.Close()
	r, off := rootHolding(t, g, uintptr(unsafe.Pointer(&plantedIface)))
	var itab uint64
	for _, w := range g.Ifaces {
		if w.Holder == g.RootVertex(r) && uint64(w.Offset) == off && w.Itab {
			itab = w.Word
		}
	}
	if itab == 0 {
		t.Fatal("no interface word for the error global")
	}
	typ := g.Itabs[itab]
	// The dumper names a type "pkgpath.name" when it has an uncommon
	// section with a package path: an unnamed pointer type with methods
	// has one, and an empty name, so *plantedErr comes out as its package
	// path and a dot (heapdump's package comment lists this gap). Names
	// must come from the type itself (issue 4), not from the dump.
	const dumped = "github.com/heaptop/heaptop/agent/graph."
	if name := g.TypeNames[typ]; name != dumped || typ != typeWord(plantedIface) {
		t.Fatalf("itab %#x: type %#x named %q, want %#x named %q", itab, typ, name, typeWord(plantedIface), dumped)
	}
	// The data word at +8 is an ordinary edge to the value.
	if o, ok := edgeAt(g, g.RootVertex(r), off+8); !ok || o != mustObject(t, g, uintptr(unsafe.Pointer(plantedIface.(*plantedErr)))) {
		t.Fatal("the interface's data word is not an edge to its value")
	}
}
