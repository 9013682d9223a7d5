package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"time"
	"unsafe"

	"github.com/heaptop/heaptop/agent/internal/heapgenwire"
)

// The roots heapgen builds. Each is a global that nothing else reaches
// into, so what it retains is exactly what it holds; the peers benchmark
// asks each tool how much each one retains.
var (
	// forest holds complete binary trees of treeNodes (shape "trees").
	forest []*treeNode
	// index maps ids to records (shape "maps").
	index map[uint64]*record
	// records is a slice of pointers to records (shape "slices").
	records []*record
	// planted is the head of the planted chain (plantChain).
	planted *plantedHolder
)

// Slot sizes of the element structs (48 and 32 bytes: both size classes).
var (
	treeNodeSlot = mustSlot(uint64(unsafe.Sizeof(treeNode{})), true)
	recordSlot   = mustSlot(uint64(unsafe.Sizeof(record{})), true)
)

type treeNode struct {
	left, right *treeNode
	payload     []byte
	id          uint64
}

type record struct {
	id      uint64
	payload []byte
}

// The planted chain, root first:
//
//	main.planted → .shelves → ["shelf-2"] → .targets → [5] → *main.PlantedTarget
type plantedHolder struct {
	name    string
	shelves map[string]*plantedShelf
}

type plantedShelf struct {
	label   string
	targets []*PlantedTarget
}

// PlantedTarget is the planted object's type, a name no other object in
// the process has.
type PlantedTarget struct {
	serial uint64
	tag    [56]byte
}

// plantedChain is the chain plantChain builds, in the terms of
// heapgenwire.Hop. Keep it in step with plantChain.
var plantedChain = []heapgenwire.Hop{
	{Via: "global", Label: "main.planted", Type: "*main.plantedHolder"},
	{Via: "field", Label: ".shelves", Type: "map[string]*main.plantedShelf"},
	{Via: "map value", Label: `["shelf-2"]`, Type: "*main.plantedShelf"},
	{Via: "field", Label: ".targets", Type: "[]*main.PlantedTarget"},
	{Via: "index", Label: "[5]", Type: "*main.PlantedTarget"},
}

// plantedSlots is the planted chain's bytes: the holder, the map, four
// shelves with their arrays of eight pointers, 32 targets. The map has at
// most 8 entries, so it is a small Swiss map: a 48-byte maps.Map header
// and one group of 8 slots (key and element) after an 8-byte control word
// (internal/runtime/maps: map.go, group.go; go1.26).
func plantedSlots() uint64 {
	const mapHeader, ctrlWord, slots = 48, 8, 8
	group := ctrlWord + slots*uint64(unsafe.Sizeof("")+unsafe.Sizeof(&plantedShelf{}))
	return mustSlot(uint64(unsafe.Sizeof(plantedHolder{})), true) +
		mapHeader + mustSlot(group, true) +
		4*mustSlot(uint64(unsafe.Sizeof(plantedShelf{})), true) +
		4*mustSlot(8*uint64(unsafe.Sizeof(&PlantedTarget{})), true) +
		32*mustSlot(uint64(unsafe.Sizeof(PlantedTarget{})), false)
}

// plantChain builds the planted chain (four shelves of eight targets; the
// map keys are string constants, so no key bytes live on the heap) and
// returns the target.
func plantChain() *PlantedTarget {
	planted = &plantedHolder{name: "planted", shelves: make(map[string]*plantedShelf, 4)}
	for i, key := range []string{"shelf-0", "shelf-1", "shelf-2", "shelf-3"} {
		s := &plantedShelf{label: key, targets: make([]*PlantedTarget, 8)}
		for j := range s.targets {
			s.targets[j] = &PlantedTarget{serial: uint64(i*8 + j)}
		}
		planted.shelves[key] = s
	}
	return planted.shelves["shelf-2"].targets[5]
}

// shapePlan is what one shape's share of the requested heap comes to.
type shapePlan struct {
	elements uint64 // tree nodes, map entries or slice elements
	payload  uint64 // bytes of each element's []byte payload; 0: none
}

// plan splits objects and bytes evenly over n shapes whose elements are
// structs of structBytes (already a slot size). An element with a payload
// is two objects; the payload is sized so that the shape's bytes come out
// near its share, and dropped when that would leave it tiny.
func plan(objects, bytes uint64, n int, structBytes uint64) shapePlan {
	objs, b := objects/uint64(n), bytes/uint64(n)
	if k := objs / 2; k > 0 {
		if per := b / k; per > structBytes {
			if p := payloadSize(per - structBytes); p > 0 {
				return shapePlan{elements: k, payload: p}
			}
		}
	}
	return shapePlan{elements: max(objs, 1)}
}

// liveHeap collects garbage and returns the live heap's bytes and objects
// (MemStats.HeapAlloc and HeapObjects are exact once runtime.GC has swept
// everything and flushed every P's cached spans).
func liveHeap() (bytes, objects uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, m.HeapObjects
}

// strayAllowance bounds how far the runtime's count of a root may stray
// from the computed figure (see buildHeap) before heapgen calls its
// arithmetic wrong: eight pages, above the largest stray seen (5,576 B),
// and far below a wrong size class on any root of 10³ objects or more.
const strayAllowance = 8 << 10

// measured runs build, which must leave everything it allocates reachable
// from one new global, and fills in r's exact retained bytes and objects.
func measured(r heapgenwire.Root, build func()) heapgenwire.Root {
	b0, o0 := liveHeap()
	build()
	b1, o1 := liveHeap()
	r.Measured, r.Objects = b1-b0, o1-o0
	r.Retained = r.Measured
	return r
}

// buildHeap builds the shapes asked for and the planted chain, with the GC
// off (the heap holds no garbage, so nothing is collected while building),
// and returns each root's exact figures and the target.
//
// Each root's Retained is its computed figure where heapgen knows the
// layout, else the runtime's count. The runtime's count is not exact on
// its own: now and then the runtime allocates or frees an object of its
// own while a root is built (a goroutine for a GC worker, a wait-queue
// entry), and it lands in that root's difference — +112 B, +5,576 B and
// −64 B were seen in some forty runs. So the two may differ by up to
// strayAllowance; a larger difference means the arithmetic is wrong for
// this Go version, and heapgen stops. The big map has only the runtime's
// count and may carry such a stray: well under 1% of any map root heapgen
// builds.
func buildHeap(objects, bytes uint64, shapes []string, trees int) ([]heapgenwire.Root, *PlantedTarget, time.Duration, error) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	start := time.Now()
	// Objects left in sync.Pools (by package initialisers, flag parsing)
	// are dropped over two GCs; let them go before the first measurement,
	// or the first root is credited with their freeing.
	runtime.GC()
	runtime.GC()
	var target *PlantedTarget
	var roots []heapgenwire.Root
	for _, shape := range append(slices.Clip(shapes), "planted") {
		var r heapgenwire.Root
		var err error
		switch shape {
		case "trees":
			r, err = buildTrees(plan(objects, bytes, len(shapes), treeNodeSlot), trees)
		case "maps":
			r = buildMap(plan(objects, bytes, len(shapes), recordSlot))
		case "slices":
			r, err = buildSlice(plan(objects, bytes, len(shapes), recordSlot))
		case "planted":
			r = heapgenwire.Root{Name: "main.planted", Type: "*main.plantedHolder", Shape: "planted", Elements: 32, Computed: plantedSlots()}
			r = measured(r, func() { target = plantChain() })
		default:
			err = fmt.Errorf("unknown shape %q (trees, maps, slices)", shape)
		}
		if err != nil {
			return nil, nil, 0, err
		}
		if r.Computed != 0 {
			if diff := max(r.Computed, r.Measured) - min(r.Computed, r.Measured); diff > strayAllowance {
				return nil, nil, 0, fmt.Errorf("%s: the runtime counts %d retained bytes, size classes give %d: heapgen's slot arithmetic is wrong for this Go version", r.Name, r.Measured, r.Computed)
			}
			r.Retained = r.Computed
		}
		roots = append(roots, r)
	}
	return roots, target, time.Since(start), nil
}

// elementsSlots is the computed slot bytes of n elements of structBytes
// with payloads of payload bytes, plus a backing array of n pointers when
// array is set.
func elementsSlots(p shapePlan, structBytes uint64, array bool) (uint64, error) {
	total := p.elements * structBytes
	if p.payload > 0 {
		s, err := slotSize(p.payload, false)
		if err != nil {
			return 0, err
		}
		total += p.elements * s
	}
	if array {
		s, err := slotSize(p.elements*8, true)
		if err != nil {
			return 0, err
		}
		total += s
	}
	return total, nil
}

// treeGrower builds complete binary trees, numbering their nodes.
type treeGrower struct {
	plan shapePlan
	ids  uint64
}

// grow returns a complete binary tree of size nodes; its depth is
// log2(size), so the recursion is shallow.
func (g *treeGrower) grow(size uint64) *treeNode {
	if size == 0 {
		return nil
	}
	g.ids++
	t := &treeNode{id: g.ids, payload: newPayload(g.plan)}
	left := (size - 1) / 2
	t.left, t.right = g.grow(left), g.grow(size-1-left)
	return t
}

// newPayload returns a payload with a byte written in every page it
// spans. A fresh span is not zeroed by the allocator, so an untouched
// payload would be heap without resident memory — not what a real
// program's data is, and it would flatter a tool that reads memory.
func newPayload(p shapePlan) []byte {
	if p.payload == 0 {
		return nil
	}
	b := make([]byte, p.payload)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	b[len(b)-1] = 1
	return b
}

// buildTrees builds n complete binary trees sharing p's elements.
func buildTrees(p shapePlan, n int) (heapgenwire.Root, error) {
	n = max(1, min(n, int(p.elements)))
	computed, err := elementsSlots(p, treeNodeSlot, false)
	if err != nil {
		return heapgenwire.Root{}, err
	}
	forestSlot, err := slotSize(uint64(n)*8, true)
	if err != nil {
		return heapgenwire.Root{}, err
	}
	g := treeGrower{plan: p}
	r := heapgenwire.Root{Name: "main.forest", Type: "[]*main.treeNode", Shape: "trees",
		Elements: p.elements, Payload: p.payload, Computed: computed + forestSlot}
	return measured(r, func() {
		forest = make([]*treeNode, n)
		for i := range forest {
			size := p.elements / uint64(n)
			if uint64(i) < p.elements%uint64(n) {
				size++
			}
			forest[i] = g.grow(size)
		}
	}), nil
}

// buildMap fills index with p's elements; the map is sized up front, so it
// never grows (growing would leave old groups as garbage).
func buildMap(p shapePlan) heapgenwire.Root {
	r := heapgenwire.Root{Name: "main.index", Type: "map[uint64]*main.record", Shape: "maps",
		Elements: p.elements, Payload: p.payload}
	return measured(r, func() {
		index = make(map[uint64]*record, p.elements)
		for i := range p.elements {
			index[i] = &record{id: i, payload: newPayload(p)}
		}
	})
}

// buildSlice fills records with p's elements.
func buildSlice(p shapePlan) (heapgenwire.Root, error) {
	computed, err := elementsSlots(p, recordSlot, true)
	if err != nil {
		return heapgenwire.Root{}, err
	}
	r := heapgenwire.Root{Name: "main.records", Type: "[]*main.record", Shape: "slices",
		Elements: p.elements, Payload: p.payload, Computed: computed}
	return measured(r, func() {
		records = make([]*record, p.elements)
		for i := range records {
			records[i] = &record{id: uint64(i), payload: newPayload(p)}
		}
	}), nil
}

// addressOf is the planted target's address as the tools print it.
func addressOf(t *PlantedTarget) string {
	return fmt.Sprintf("%#x", uintptr(unsafe.Pointer(t)))
}
