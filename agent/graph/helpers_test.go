package graph

import (
	"context"
	"runtime"
	"testing"

	"github.com/heaptop/heaptop/agent/capture"
	"github.com/heaptop/heaptop/agent/symbols"
)

// capturer is shared by the tests, as the agent shares one per process.
var capturer = capture.New(capture.Options{})

// captureGraph collects garbage, captures this test process through the
// agent's capture path and builds its graph, checking the invariants.
func captureGraph(t testing.TB) *Graph {
	t.Helper()
	runtime.GC()
	d, err := capturer.Capture(context.Background())
	if err != nil {
		t.Fatalf("capture: %v", err)
	}
	defer d.Close()
	segs := make([]Segment, len(d.Segments))
	for i, s := range d.Segments {
		segs[i] = Segment{Name: s.Name, Addr: s.Addr, Bytes: s.Bytes}
	}
	text, types := imageRanges(t)
	g, err := Build(Input{Dump: d.Bytes, Segments: segs, FuncName: InProcessFuncName, Text: text, TypeData: types})
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	if err := g.checkInvariants(); err != nil {
		t.Fatalf("invariants: %v", err)
	}
	return g
}

// rootHolding returns the data or bss root whose memory holds addr, and
// addr's offset in it.
func rootHolding(t testing.TB, g *Graph, addr uintptr) (RootID, uint64) {
	t.Helper()
	for r := range g.NumRoots() {
		root := g.Root(RootID(r))
		if (root.Kind == RootData || root.Kind == RootBSS || root.Kind == RootNoptrData || root.Kind == RootNoptrBSS) &&
			uint64(addr) >= root.Addr && uint64(addr) < root.Addr+uint64(root.Size) {
			return RootID(r), uint64(addr) - root.Addr
		}
	}
	t.Fatalf("no data or bss root holds %#x", addr)
	return 0, 0
}

// edgeAt returns the target of v's edge at byte offset off.
func edgeAt(g *Graph, v Vertex, off uint64) (ObjectID, bool) {
	targets, first := g.Edges(v)
	for i, t := range targets {
		if g.EdgeOffset(v, first+EdgeID(i)) == off {
			return t, true
		}
	}
	return NoObject, false
}

// mustObject returns the object at exactly base.
func mustObject(t testing.TB, g *Graph, base uintptr) ObjectID {
	t.Helper()
	o, ok := g.FindObject(uint64(base))
	if !ok {
		t.Fatalf("no object contains %#x", base)
	}
	if b, _ := g.Object(o); b != uint64(base) {
		t.Fatalf("object containing %#x starts at %#x", base, b)
	}
	return o
}

func roundUp(n, to uint64) uint64 { return (n + to - 1) / to * to }

// imageRanges returns this executable's code and type-data ranges, as the
// agent passes them to Build.
func imageRanges(t testing.TB) (text, types AddrRange) {
	t.Helper()
	segs, err := symbols.Self().Segments()
	if err != nil {
		t.Fatalf("segments: %v", err)
	}
	for _, s := range segs {
		switch s.Name {
		case "text":
			text = AddrRange{uint64(s.Start), uint64(s.End)}
		case "types":
			types = AddrRange{uint64(s.Start), uint64(s.End)}
		}
	}
	return text, types
}
