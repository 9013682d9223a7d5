package graph

import (
	"runtime"
	"testing"
	"unsafe"
)

// What the naming stage needs beyond pointer edges: where an interior
// pointer points, the code word of a closure, and the type word of an
// empty interface whose type the dump does not name.

type interiorElem struct {
	p *int
	x int
}

type interiorHolder struct {
	a, b int
	c    *int
}

var (
	plantedTail   []interiorElem // a slice past its array's start
	plantedField  **int          // a pointer to a field of a struct
	plantedWhole  *interiorHolder
	plantedSubstr string // a substring
	plantedBigPtr *bigNode
)

func TestPlanted_interior_pointer_offsets(t *testing.T) {
	arr := make([]interiorElem, 8)
	plantedTail = arr[3:]
	plantedWhole = &interiorHolder{c: new(int)}
	plantedField = &plantedWhole.c
	s := string(make([]byte, 100))
	plantedSubstr = s[17:40]
	plantedBigPtr = &bigNode{}
	g := captureGraph(t)
	defer g.Close()

	for _, c := range []struct {
		name   string
		global unsafe.Pointer
		want   uint64
	}{
		{"slice past start", unsafe.Pointer(&plantedTail), 3 * 16},
		{"pointer to field", unsafe.Pointer(&plantedField), 16},
		{"substring", unsafe.Pointer(&plantedSubstr), 17},
		{"whole object", unsafe.Pointer(&plantedWhole), 0},
		{"header object", unsafe.Pointer(&plantedBigPtr), 8},
	} {
		r, off := rootHolding(t, g, uintptr(c.global))
		v := g.RootVertex(r)
		targets, first := g.Edges(v)
		found := false
		for i := range targets {
			if e := first + EdgeID(i); g.EdgeOffset(v, e) == off {
				found = true
				if got := g.EdgeTargetOffset(e); got != c.want {
					t.Errorf("%s: the pointer is %d bytes into its target, want %d", c.name, got, c.want)
				}
			}
		}
		if !found {
			t.Errorf("%s: no edge from the global", c.name)
		}
	}
	runtime.KeepAlive(arr)
}

var (
	plantedClosure func() int
	plantedAny     any // a type no itab names, so not in the dump's type records
)

type unnamedByDump struct {
	p *int
	n [5]int
}

func TestPlanted_closure_code_word_and_any_type_word(t *testing.T) {
	x := new(int)
	plantedClosure = func() int { return *x }
	plantedAny = &unnamedByDump{}
	g := captureGraph(t)
	defer g.Close()

	code := **(**uintptr)(unsafe.Pointer(&plantedClosure)) // funcval.fn
	closure := mustObject(t, g, *(*uintptr)(unsafe.Pointer(&plantedClosure)))
	if w, ok := g.CodeWord(closure); !ok || w != uint64(code) {
		t.Errorf("closure code word %#x (%v), want %#x", w, ok, code)
	}
	r, off := rootHolding(t, g, uintptr(unsafe.Pointer(&plantedAny)))
	found := false
	for _, w := range g.Ifaces {
		if w.Holder == g.RootVertex(r) && uint64(w.Offset) == off {
			found = w.Word == typeWord(plantedAny) && !w.Itab
		}
	}
	if _, named := g.TypeNames[typeWord(plantedAny)]; named || !found {
		t.Errorf("the any global's type word: found %v (named by the dump: %v), want found, not named", found, named)
	}
}

var plantedWide []*int

func TestEdgeOffsets_and_TargetOffsets_agree_with_one_by_one(t *testing.T) {
	plantedTail = make([]interiorElem, 8)[5:]
	plantedSubstr = string(make([]byte, 64))[9:]
	plantedWide = make([]*int, 100_000) // over 65536 words: offsets with high bits
	target := new(int)
	for i := range plantedWide {
		plantedWide[i] = target
	}
	defer func() { plantedWide = nil }()
	g := captureGraph(t)
	defer g.Close()
	var offs, at []uint64
	interior := 0
	for v := range Vertex(g.NumVertices()) {
		offs = g.TargetOffsets(v, offs[:0])
		at = g.EdgeOffsets(v, at[:0])
		for i, off := range at {
			if want := g.EdgeOffset(v, EdgeID(g.edgeStart[v])+EdgeID(i)); off != want {
				t.Fatalf("vertex %d edge %d: EdgeOffsets %d, EdgeOffset %d", v, i, off, want)
			}
		}
		targets, first := g.Edges(v)
		if len(offs) != len(targets) {
			t.Fatalf("vertex %d: %d offsets for %d edges", v, len(offs), len(targets))
		}
		for i, off := range offs {
			if want := g.EdgeTargetOffset(first + EdgeID(i)); off != want {
				t.Fatalf("vertex %d edge %d: TargetOffsets %d, EdgeTargetOffset %d", v, i, off, want)
			}
			if off != 0 && off != 8 {
				interior++
			}
		}
	}
	if interior == 0 || len(g.wordHigh) == 0 {
		t.Fatalf("%d interior pointers, %d holders over 65536 words: the test planted both", interior, len(g.wordHigh))
	}
	runtime.KeepAlive(plantedTail)
}
