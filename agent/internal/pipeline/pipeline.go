// Package pipeline runs the agent's graph-tier stages in order on the
// running process — capture (a heap dump in a confined copy), graph (the
// object graph), naming (types, sites, labels) — and gives the named graph
// with what each stage cost. The analysis stage (issue 5) comes after it.
package pipeline

import (
	"context"
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

// Run captures this process with c, builds its graph and names it with im
// (the image of this process: symbols.Self()).
func Run(ctx context.Context, c *capture.Capturer, im *symbols.Image) (*Result, error) {
	d, err := c.Capture(ctx)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	in, err := Input(d, im)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	g, err := graph.Build(in)
	if err != nil {
		return nil, err
	}
	r := &Result{Graph: g, Capture: d.Stats, Build: time.Since(start)}
	start = time.Now()
	if r.Names, err = naming.Name(g, im); err != nil {
		g.Close()
		return nil, err
	}
	r.Name = time.Since(start)
	return r, nil
}

// Input is what graph.Build needs from a dump of this process: the dump,
// its noptr segments, and the image's code and type-data ranges.
func Input(d *capture.Dump, im *symbols.Image) (graph.Input, error) {
	in := graph.Input{Dump: d.Bytes, FuncName: graph.InProcessFuncName}
	for _, s := range d.Segments {
		in.Segments = append(in.Segments, graph.Segment{Name: s.Name, Addr: s.Addr, Bytes: s.Bytes})
	}
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
