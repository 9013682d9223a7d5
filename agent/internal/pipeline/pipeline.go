// Package pipeline runs the agent's graph-tier stages in order on the
// running process — capture (a heap dump in a confined copy), graph (the
// object graph), naming (types, sites, labels) — and gives the named graph
// with what each stage cost. The analysis stage (issue 5) comes after it.
package pipeline

import (
	"context"
	"io"
	"runtime/metrics"
	"time"

	"github.com/heaptop/heaptop/agent/capture"
	"github.com/heaptop/heaptop/agent/graph"
	"github.com/heaptop/heaptop/agent/naming"
	"github.com/heaptop/heaptop/agent/symbols"
)

// Result is one named capture. Graph and Names are valid until Close.
type Result struct {
	Graph   *graph.Graph
	Names   *naming.Names
	Capture capture.Stats
	// Build and Name are the time graph.Build and naming.Name took.
	Build, Name time.Duration
}

// Close releases the graph (and with it the names' arrays).
func (r *Result) Close() { r.Graph.Close() }

// Run captures this process with c, builds its graph while the dump is
// written, and names it with im (the image of this process: symbols.Self()).
func Run(ctx context.Context, c *capture.Capturer, im *symbols.Image) (*Result, error) {
	in, err := Input(im)
	if err != nil {
		return nil, err
	}
	g, d, build, err := Build(ctx, c, in, nil)
	if err != nil {
		return nil, err
	}
	r := &Result{Graph: g, Capture: d.Stats, Build: build}
	start := time.Now()
	if r.Names, err = naming.Name(g, im); err != nil {
		g.Close()
		return nil, err
	}
	r.Name = time.Since(start)
	return r, nil
}

// Build captures this process with c and builds its graph from in: pass 1
// reads the dump while the dump child writes it, pass 2 runs once the
// child is done and its noptr segments are known. build is pass 2's time
// (pass 1's is inside the capture's). dumping, if not nil, is called when
// a dump child runs (again if a capture is retried): the heap it dumps is
// fixed by then, so work started there stays out of the snapshot. The
// returned Dump holds no bytes, only the capture's figures; it need not be
// closed.
func Build(ctx context.Context, c *capture.Capturer, in graph.Input, dumping func()) (g *graph.Graph, d *capture.Dump, build time.Duration, err error) {
	var b *graph.Builder
	d, err = c.Stream(ctx, func(dump io.Reader) error {
		if dumping != nil {
			dumping()
		}
		if b != nil { // a retried capture starts over
			b.Close()
		}
		b = graph.NewBuilder(in)
		return b.Read(dump)
	})
	if err != nil {
		if b != nil {
			b.Close()
		}
		return nil, nil, 0, err
	}
	defer d.Close()
	start := time.Now()
	segs := make([]graph.Segment, 0, len(d.Segments))
	for _, s := range d.Segments {
		segs = append(segs, graph.Segment{Name: s.Name, Addr: s.Addr, Bytes: s.Bytes})
	}
	g, err = b.Finish(segs)
	return g, d, time.Since(start), err
}

// Input is what graph.Build needs to know of this process besides a dump:
// the image's code and type-data ranges, and about how many objects the
// heap holds now.
func Input(im *symbols.Image) (graph.Input, error) {
	in := graph.Input{FuncName: graph.InProcessFuncName, Objects: heapObjects()}
	segs, err := im.Segments()
	if err != nil {
		return in, err
	}
	for _, s := range segs {
		r := graph.AddrRange{Start: uint64(s.Start), End: uint64(s.End)}
		switch s.Name {
		case "text":
			in.Text = r
		case "types":
			in.TypeData = r
		}
	}
	return in, nil
}

// heapObjects is the runtime's count of heap objects right now.
func heapObjects() int {
	s := []metrics.Sample{{Name: "/gc/heap/objects:objects"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int(min(s[0].Value.Uint64(), 1<<31))
}
