package graph

import (
	"context"
	"runtime"
	"testing"

	"github.com/heaptop/heaptop/agent/capture"
)

func TestQuick(t *testing.T) {
	runtime.GC()
	c := capture.New(capture.Options{Segments: func() ([]capture.Segment, error) { return nil, nil }})
	d, err := c.Capture(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	g, err := Build(Input{Dump: d.Bytes, FuncName: InProcessFuncName})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.checkInvariants(); err != nil {
		t.Fatal(err)
	}
	core, side := g.MemoryBytes()
	t.Logf("objects %d heapobjects %d stats %+v roots %d edges %d hidden %d ifaces %d core %d side %d", g.NumObjects(), g.MemStats.HeapObjects, g.Stats, g.NumRoots(), g.NumEdges(), len(g.Hidden), len(g.Ifaces), core, side)
}
