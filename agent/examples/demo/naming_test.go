package main

import (
	"cmp"
	"context"
	"maps"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/heaptop/heaptop/agent"
	"github.com/heaptop/heaptop/agent/capture"
	"github.com/heaptop/heaptop/agent/graph"
	"github.com/heaptop/heaptop/agent/internal/pipeline"
	"github.com/heaptop/heaptop/agent/naming"
	"github.com/heaptop/heaptop/agent/symbols"
)

// BenchmarkDemoNaming runs the demo's service as `demo -full-sites` does
// (agent with FullAllocSites, 4 workers, 200 jobs/s, a 500-statement
// cache); after 5 s, while jobs still flow, it captures this process,
// builds the graph and names it (once to warm up: the first capture reads
// the executable's symbols and DWARF, garbage a long-running agent makes
// once; then b.N times), and reports the share of objects and bytes typed
// and with an allocation site, and logs the largest untyped groups. Build it with `go test -c` (go test
// strips the binary it runs of DWARF, which typing from globals and stack
// slots needs):
//
//	go test -c -o /tmp/demo.test ./examples/demo && /tmp/demo.test -test.run '^$' -test.bench DemoNaming -test.benchtime 1x
func BenchmarkDemoNaming(b *testing.B) {
	a, err := agent.Start(agent.Options{Dir: b.TempDir(), FullAllocSites: true})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	s := &service{cache: newLRU(500), queue: make(chan job, 1024)}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(s.work)
	}
	// Jobs flow during the captures, as in the demo; the first capture
	// is taken after 5 s (a full cache).
	ctx, cancel := context.WithCancel(context.Background())
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		s.produce(ctx, 200, 5000)
	}()
	time.Sleep(5 * time.Second)
	c := capture.New(capture.Options{})
	im := symbols.Self()
	// A first capture reads the executable's symbol table (capture's
	// segments) and the DWARF: garbage a long-running agent makes once.
	warm, err := pipeline.Run(context.Background(), c, im)
	if err != nil {
		b.Fatal(err)
	}
	warm.Close()
	b.ResetTimer()
	for range b.N {
		res, err := pipeline.Run(context.Background(), c, im)
		if err != nil {
			b.Fatal(err)
		}
		report(b, res)
		res.Close()
	}
	b.StopTimer()
	cancel()
	<-produced
	close(s.queue)
	wg.Wait()
	runtime.KeepAlive(s)
}

func report(b *testing.B, res *pipeline.Result) {
	cv := res.Names.Coverage()
	b.ReportMetric(float64(cv.Objects), "objects")
	b.ReportMetric(float64(cv.Bytes), "heap-bytes")
	b.ReportMetric(100*float64(cv.TypedBytes)/float64(cv.Bytes), "%bytes-typed")
	b.ReportMetric(100*float64(cv.TypedObjects)/float64(cv.Objects), "%objects-typed")
	b.ReportMetric(100*float64(cv.TypedBytes-cv.AgentTyped)/float64(cv.Bytes-cv.AgentBytes), "%program-bytes-typed")
	b.ReportMetric(100*float64(cv.SitedBytes)/float64(cv.Bytes), "%bytes-sited")
	b.ReportMetric(100*float64(cv.SitedObjects)/float64(cv.Objects), "%objects-sited")
	b.ReportMetric(float64(res.Name.Nanoseconds())/float64(cv.Objects)*1e6/1e9, "s-name/Mobject")
	b.Logf("coverage %+v", cv)
	logUntyped(b, res.Graph, res.Names)
}

// logUntyped logs the largest groups of untyped bytes by allocation site,
// size and whether the GC scans them, split by reachability from the roots.
func logUntyped(b *testing.B, g *graph.Graph, n *naming.Names) {
	reached := make([]bool, g.NumObjects())
	var stack []graph.Vertex
	for r := range graph.RootID(g.NumRoots()) {
		stack = append(stack, g.RootVertex(r))
	}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		targets, _ := g.Edges(v)
		for _, t := range targets {
			if !reached[t] {
				reached[t] = true
				stack = append(stack, g.ObjectVertex(t))
			}
		}
	}
	type group struct {
		site      string
		size      uint32
		scan, rch bool
	}
	bytes := map[group]uint64{}
	var total [2]uint64
	for o := range graph.ObjectID(g.NumObjects()) {
		_, size := g.Object(o)
		if reached[o] {
			total[1] += uint64(size)
		} else {
			total[0] += uint64(size)
		}
		if t, _ := n.Type(o); t != naming.Untyped {
			continue
		}
		site := n.Site(n.SiteOf(o))
		name := site.String()
		if site.Agent {
			name = "(agent) " + name
		}
		bytes[group{name, size, g.Flags(o)&graph.Pointers != 0, reached[o]}] += uint64(size)
	}
	groups := slices.Collect(maps.Keys(bytes))
	slices.SortFunc(groups, func(x, y group) int { return cmp.Compare(bytes[y], bytes[x]) })
	b.Logf("heap: %d B reachable, %d B unreachable", total[1], total[0])
	for _, k := range groups[:min(len(groups), 15)] {
		b.Logf("untyped %9d B: %6d B objects, scan %-5v reachable %-5v %s", bytes[k], k.size, k.scan, k.rch, k.site)
	}
}
