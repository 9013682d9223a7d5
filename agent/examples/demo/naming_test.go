package main

import (
	"cmp"
	"context"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
// and with an allocation site (summed over the captures), and logs the
// largest groups of untyped program bytes. Build it with `go test -c` (go test
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
	var cs census
	b.ResetTimer()
	for range b.N {
		res, err := pipeline.Run(context.Background(), c, im)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cs.add(res)
		b.StartTimer()
		res.Close()
	}
	b.StopTimer()
	cs.report(b)
	cancel()
	<-produced
	close(s.queue)
	wg.Wait()
	runtime.KeepAlive(s)
}

// census sums, over the captures of a benchmark, the bytes of each kind
// of object: the agent's own or the program's (including objects allocated
// before the agent started, which have no site), reachable from a root or
// not, typed or not; and the untyped program bytes by allocation site,
// allocating runtime function, size, and whether the GC scans them.
type census struct {
	bytes   map[censusKey]uint64
	untyped map[untypedGroup]uint64
	sited   [2]uint64 // all bytes, sited bytes
	naming  time.Duration
	objects int
}

type censusKey struct{ agent, reachable, typed bool }

type untypedGroup struct {
	site, alloc string
	size        uint32
	scan, rch   bool
}

func (c *census) add(res *pipeline.Result) {
	g, n := res.Graph, res.Names
	if c.bytes == nil {
		c.bytes, c.untyped = map[censusKey]uint64{}, map[untypedGroup]uint64{}
	}
	c.naming += res.Name
	c.objects += g.NumObjects()
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
	for o := range graph.ObjectID(g.NumObjects()) {
		_, size := g.Object(o)
		t, _ := n.Type(o)
		site := n.Site(n.SiteOf(o))
		c.bytes[censusKey{site.Agent, reached[o], t != naming.Untyped}] += uint64(size)
		c.sited[0] += uint64(size)
		if site.File != "" {
			c.sited[1] += uint64(size)
		}
		if t == naming.Untyped && !site.Agent {
			c.untyped[untypedGroup{site.String(), allocator(g, o), size, g.Flags(o)&graph.Pointers != 0, reached[o]}] += uint64(size)
		}
	}
}

// allocator is the runtime function that allocated o (the frame inside its
// site: runtime.growslice, runtime.newobject, ...), "" if not sampled.
func allocator(g *graph.Graph, o graph.ObjectID) string {
	samples := g.SamplesOf(o)
	if len(samples) == 0 {
		return ""
	}
	frames := g.Buckets[samples[0].Bucket].Frames
	for i, f := range frames {
		if !strings.HasPrefix(f.Func, "runtime.") && !strings.HasPrefix(f.Func, "internal/runtime/") && i > 0 {
			return frames[i-1].Func
		}
	}
	return ""
}

func (c *census) report(b *testing.B) {
	share := func(match func(censusKey) bool) float64 {
		var typed, all uint64
		for k, v := range c.bytes {
			if match(k) {
				all += v
				if k.typed {
					typed += v
				}
			}
		}
		return 100 * float64(typed) / float64(all)
	}
	all := func(censusKey) bool { return true }
	b.ReportMetric(share(all), "%bytes-typed")
	b.ReportMetric(share(func(k censusKey) bool { return !k.agent }), "%program-bytes-typed")
	b.ReportMetric(share(func(k censusKey) bool { return !k.agent && k.reachable }), "%reachable-program-bytes-typed")
	b.ReportMetric(100*float64(c.sited[1])/float64(c.sited[0]), "%bytes-sited")
	b.ReportMetric(float64(c.objects)/float64(b.N), "objects")
	b.ReportMetric(c.naming.Seconds()/float64(c.objects)*1e6, "s-name/Mobject")
	for k, v := range c.bytes {
		b.Logf("agent %-5v reachable %-5v typed %-5v %10d B", k.agent, k.reachable, k.typed, v/uint64(b.N))
	}
	groups := slices.Collect(maps.Keys(c.untyped))
	slices.SortFunc(groups, func(x, y untypedGroup) int { return cmp.Compare(c.untyped[y], c.untyped[x]) })
	for _, k := range groups[:min(len(groups), 12)] {
		b.Logf("untyped program bytes %9d B: %6d B objects, scan %-5v reachable %-5v %s via %s", c.untyped[k]/uint64(b.N), k.size, k.scan, k.rch, k.site, k.alloc)
	}
}

// BenchmarkDemoAllocRate measures what FullAllocSites costs the program:
// the demo's jobs (a cache lookup, a statement rendered on a miss, the
// answer built and checksummed: the demo's allocation mix), run by
// GOMAXPROCS goroutines as the demo's workers do, at the runtime's
// default MemProfileRate and at 1 (every allocation profiled):
//
//	go test -run '^$' -bench DemoAllocRate -benchtime 3s -count 3 ./examples/demo
func BenchmarkDemoAllocRate(b *testing.B) {
	for _, c := range []struct {
		name string
		rate int
	}{{"default", runtime.MemProfileRate}, {"full", 1}} {
		b.Run(c.name, func(b *testing.B) {
			defer func(r int) { runtime.MemProfileRate = r }(runtime.MemProfileRate)
			runtime.MemProfileRate = c.rate
			s := &service{cache: newLRU(500)}
			zipf := rand.NewZipf(rand.New(rand.NewPCG(3, 4)), 1.1, 1, 4999)
			for range 20_000 { // a warm cache: the hit rate of a running demo
				s.serve(job{customer: int(zipf.Uint64())})
			}
			var seed atomic.Uint64
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				zipf := rand.NewZipf(rand.New(rand.NewPCG(seed.Add(1), 2)), 1.1, 1, 4999)
				for pb.Next() {
					s.serve(job{customer: int(zipf.Uint64())})
				}
			})
			b.StopTimer()
			runtime.ReadMemStats(&after)
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)/secs, "jobs/s")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/secs, "allocs/s")
		})
	}
}
