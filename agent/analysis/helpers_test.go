package analysis

import (
	"context"
	"runtime"
	"testing"

	"github.com/heaptop/heaptop/agent/capture"
	"github.com/heaptop/heaptop/agent/graph"
	"github.com/heaptop/heaptop/agent/symbols"
)

// The tests in this package plant structures in the test process itself,
// which captures itself through package capture as the agent does in a
// user's process. `go test` links its binary without symbols or DWARF, so
// nothing is named here (Names is nil): globals are whole segments, and
// hidden references are counted but never judged. The judging, the names
// and the document are tested against real programs in package snapshot.

var capturer = capture.New(capture.Options{})

// captureGraph captures this process (after a GC when gc is set) and
// builds its graph.
func captureGraph(t testing.TB, gc bool) *graph.Graph {
	t.Helper()
	if gc {
		runtime.GC()
	}
	d, err := capturer.Capture(context.Background())
	if err != nil {
		t.Fatalf("capture: %v", err)
	}
	defer d.Close()
	segs := make([]graph.Segment, len(d.Segments))
	for i, s := range d.Segments {
		segs[i] = graph.Segment{Name: s.Name, Addr: s.Addr, Bytes: s.Bytes}
	}
	in := graph.Input{Dump: d.Bytes, Segments: segs, FuncName: graph.InProcessFuncName}
	if ss, err := symbols.Self().Segments(); err == nil {
		for _, s := range ss {
			switch s.Name {
			case "text":
				in.Text = graph.AddrRange{Start: uint64(s.Start), End: uint64(s.End)}
			case "types":
				in.TypeData = graph.AddrRange{Start: uint64(s.Start), End: uint64(s.End)}
			}
		}
	}
	g, err := graph.Build(in)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	t.Cleanup(g.Close)
	return g
}

// analyse captures this process and analyses it completely.
func analyse(t testing.TB, gc bool) *Analysis {
	t.Helper()
	g := captureGraph(t, gc)
	a, mem, err := Analyse(Input{Graph: g, Packages: ProgramPackages()})
	if err != nil {
		t.Fatal(err)
	}
	mem.Close()
	a.Complete()
	t.Cleanup(a.Close)
	return a
}

// objectAt returns the vertex of the object at exactly base (its slot base
// or, after a malloc header, its user pointer).
func objectAt(t testing.TB, a *Analysis, p uintptr) Vertex {
	t.Helper()
	o, ok := a.g.FindObject(uint64(p))
	if !ok {
		t.Fatalf("no object at %#x", p)
	}
	return a.ObjectVertex(o)
}
