package graph

import (
	"runtime"
	"testing"
	"unsafe"
)

// The structures below are planted in this test process, which then
// captures itself through package capture exactly as the agent does in a
// user's process: the planted globals, goroutines and finalizers are the
// program under test, and their addresses are known here first-hand.

// listNode is 48 bytes (size class 48), next at offset 0.
type listNode struct {
	next *listNode
	id   int
	pad  [4]int
}

const listLen = 1000

var (
	plantedList      *listNode
	plantedListAddrs [listLen]uintptr
)

func TestPlanted_global_list_1000(t *testing.T) {
	plantedList = nil
	for i := listLen - 1; i >= 0; i-- {
		plantedList = &listNode{next: plantedList, id: i}
	}
	for n, i := plantedList, 0; n != nil; n, i = n.next, i+1 {
		plantedListAddrs[i] = uintptr(unsafe.Pointer(n))
	}
	g := captureGraph(t)
	runtime.KeepAlive(plantedList)

	root, off := rootHolding(t, g, uintptr(unsafe.Pointer(&plantedList)))
	if k := g.Root(root).Kind; k != RootBSS {
		t.Errorf("plantedList is in a %s root, want bss", k)
	}
	o, ok := edgeAt(g, g.RootVertex(root), off)
	if !ok {
		t.Fatalf("no edge from %s+%#x (plantedList)", g.Root(root).Kind, off)
	}
	const nodeSize = uint32(unsafe.Sizeof(listNode{}))
	for i := range listLen {
		base, size := g.Object(o)
		if base != uint64(plantedListAddrs[i]) || size != nodeSize {
			t.Fatalf("node %d: object %#x of %d bytes, want %#x of %d", i, base, size, plantedListAddrs[i], nodeSize)
		}
		targets, _ := g.Edges(g.ObjectVertex(o))
		next, hasNext := edgeAt(g, g.ObjectVertex(o), 0)
		if i == listLen-1 {
			if len(targets) != 0 {
				t.Fatalf("last node has %d edges, want 0", len(targets))
			}
			break
		}
		if len(targets) != 1 || !hasNext {
			t.Fatalf("node %d has edges %v, want exactly next at offset 0", i, targets)
		}
		o = next
	}
}

// mapVal is 32 bytes, pointer-free.
type mapVal struct {
	a, b int
	tag  [16]byte
}

var plantedMap map[int]*mapVal

func TestPlanted_map_10000(t *testing.T) {
	const n = 10000
	plantedMap = make(map[int]*mapVal)
	for i := range n {
		plantedMap[i] = &mapVal{a: i}
	}
	g := captureGraph(t)

	want := map[ObjectID]bool{}
	for _, v := range plantedMap {
		o := mustObject(t, g, uintptr(unsafe.Pointer(v)))
		if _, size := g.Object(o); size != uint32(unsafe.Sizeof(mapVal{})) {
			t.Fatalf("map value at %p is %d bytes", v, size)
		}
		if g.Flags(o)&Pointers != 0 {
			t.Fatalf("map value at %p has pointers", v)
		}
		want[o] = true
	}
	// Every value is reached from the map's global through pointer edges.
	root, off := rootHolding(t, g, uintptr(unsafe.Pointer(&plantedMap)))
	start, ok := edgeAt(g, g.RootVertex(root), off)
	if !ok {
		t.Fatal("no edge from the map's global")
	}
	reached := reachFrom(g, start)
	missing := 0
	for o := range want {
		if !reached[o] {
			missing++
		}
	}
	if len(want) != n || missing != 0 {
		t.Fatalf("%d distinct values, %d not reached from plantedMap", len(want), missing)
	}
	runtime.KeepAlive(plantedMap)
}

// reachFrom returns the objects reachable from o (o included).
func reachFrom(g *Graph, o ObjectID) map[ObjectID]bool {
	seen := map[ObjectID]bool{o: true}
	stack := []ObjectID{o}
	for len(stack) > 0 {
		o := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		targets, _ := g.Edges(g.ObjectVertex(o))
		for _, t := range targets {
			if !seen[t] {
				seen[t] = true
				stack = append(stack, t)
			}
		}
	}
	return seen
}

type sliceVal [2]int

var plantedSlice []*sliceVal

func TestPlanted_slice_100000_pointers(t *testing.T) {
	const n = 100000
	plantedSlice = make([]*sliceVal, n)
	for i := range plantedSlice {
		plantedSlice[i] = &sliceVal{i, i}
	}
	g := captureGraph(t)

	arr := mustObject(t, g, uintptr(unsafe.Pointer(&plantedSlice[0])))
	base, size := g.Object(arr)
	if want := roundUp(8*n, pageSize); uint64(size) != want || g.Flags(arr)&(Large|Pointers) != Large|Pointers {
		t.Fatalf("backing array: %d bytes, flags %b; want %d bytes (800000 rounded up to pages), large, pointers", size, g.Flags(arr), want)
	}
	targets, first := g.Edges(g.ObjectVertex(arr))
	if len(targets) != n {
		t.Fatalf("backing array has %d edges, want %d", len(targets), n)
	}
	for i, tgt := range targets {
		if off := g.EdgeOffset(g.ObjectVertex(arr), first+EdgeID(i)); off != uint64(8*i) {
			t.Fatalf("edge %d at offset %d, want %d", i, off, 8*i)
		}
		if b, s := g.Object(tgt); b != uint64(uintptr(unsafe.Pointer(plantedSlice[i]))) || s != 16 {
			t.Fatalf("edge %d targets %#x (%d bytes), want %p (16 bytes)", i, b, s, plantedSlice[i])
		}
	}
	root, off := rootHolding(t, g, uintptr(unsafe.Pointer(&plantedSlice)))
	if o, ok := edgeAt(g, g.RootVertex(root), off); !ok || o != arr {
		t.Fatalf("the slice's global does not point at its backing array at %#x", base)
	}
	runtime.KeepAlive(plantedSlice)
}

var plantedBytes []byte

func TestPlanted_byte_slice_50MB(t *testing.T) {
	plantedBytes = make([]byte, 50<<20)
	g := captureGraph(t)
	o := mustObject(t, g, uintptr(unsafe.Pointer(&plantedBytes[0])))
	_, size := g.Object(o)
	if size != 50<<20 || g.Flags(o) != Large {
		t.Fatalf("50 MB slice: %d bytes, flags %b; want %d, large only", size, g.Flags(o), 50<<20)
	}
	if targets, _ := g.Edges(g.ObjectVertex(o)); len(targets) != 0 {
		t.Fatalf("a byte slice with %d edges", len(targets))
	}
	root, off := rootHolding(t, g, uintptr(unsafe.Pointer(&plantedBytes)))
	if got, ok := edgeAt(g, g.RootVertex(root), off); !ok || got != o {
		t.Fatal("the slice's global does not point at its array")
	}
	plantedBytes = nil
}

// smallNode (48 B) has no malloc header, bigNode (616 B in class 640) has
// one, hugeNode (40008 B, 5 pages) is a large object without one.
type smallNode struct {
	p *listNode
	x [5]int
}

type bigNode struct {
	p   *smallNode
	buf [600]byte
}

type hugeNode struct {
	p   *smallNode
	buf [40000]byte
}

var (
	plantedSmall *smallNode
	plantedBig   *bigNode
	plantedHuge  *hugeNode
)

// typeWord is the *_type of v's dynamic type, as an interface holds it.
func typeWord(v any) uint64 { return uint64((*[2]uintptr)(unsafe.Pointer(&v))[0]) }

func TestPlanted_object_sizes_and_headers(t *testing.T) {
	plantedSmall = &smallNode{p: &listNode{}}
	plantedBig = &bigNode{p: &smallNode{}}
	plantedHuge = &hugeNode{p: &smallNode{}}
	g := captureGraph(t)

	small := mustObject(t, g, uintptr(unsafe.Pointer(plantedSmall)))
	if _, size := g.Object(small); size != 48 || g.Flags(small) != Pointers {
		t.Errorf("smallNode: %d bytes flags %b, want 48, pointers only", size, g.Flags(small))
	}
	if o, ok := edgeAt(g, g.ObjectVertex(small), 0); !ok || o != mustObject(t, g, uintptr(unsafe.Pointer(plantedSmall.p))) {
		t.Error("smallNode's edge at offset 0 is not its p")
	}

	// The program's pointer to a header object is base+8.
	userPtr := uint64(uintptr(unsafe.Pointer(plantedBig)))
	big, ok := g.FindObject(userPtr)
	if !ok {
		t.Fatal("bigNode not found")
	}
	base, size := g.Object(big)
	if base+8 != userPtr || size != 640 || g.Flags(big) != Pointers|Header {
		t.Errorf("bigNode: base %#x (user pointer %#x), %d bytes, flags %b; want base+8, 640 (616 with header), pointers|header", base, userPtr, size, g.Flags(big))
	}
	if w, ok := g.HeaderWord(big); !ok || w != typeWord(bigNode{}) {
		t.Errorf("bigNode header word %#x, want its *_type %#x", w, typeWord(bigNode{}))
	}
	if o, ok := edgeAt(g, g.ObjectVertex(big), 8); !ok || o != mustObject(t, g, uintptr(unsafe.Pointer(plantedBig.p))) {
		t.Error("bigNode's field p is not an edge at offset 8")
	}
	if _, ok := edgeAt(g, g.ObjectVertex(big), 0); ok {
		t.Error("the malloc header is an edge")
	}

	huge := mustObject(t, g, uintptr(unsafe.Pointer(plantedHuge)))
	if _, size := g.Object(huge); uint64(size) != roundUp(uint64(unsafe.Sizeof(hugeNode{})), pageSize) || g.Flags(huge) != Pointers|Large {
		t.Errorf("hugeNode: %d bytes flags %b; want %d (rounded to pages), pointers|large", size, g.Flags(huge), roundUp(uint64(unsafe.Sizeof(hugeNode{})), pageSize))
	}
	if _, ok := g.HeaderWord(huge); ok {
		t.Error("a large object has a header word")
	}
	if o, ok := edgeAt(g, g.ObjectVertex(huge), 0); !ok || o != mustObject(t, g, uintptr(unsafe.Pointer(plantedHuge.p))) {
		t.Error("hugeNode's field p is not an edge at offset 0")
	}
	runtime.KeepAlive(plantedSmall)
	runtime.KeepAlive(plantedBig)
	runtime.KeepAlive(plantedHuge)
}
