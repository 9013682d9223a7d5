// Command heapbench builds a heap of a chosen size and object count in its
// own process, captures it through package capture, parses the dump and
// builds the graph, and prints one Markdown table row of costs for
// BENCHMARKS.md. It is a program, not a test, so that `go test ./...`
// never runs it:
//
//	go run ./internal/heapbench -bytes 100MiB -objects 1000000
//
// With -snapshot it takes whole snapshots through the agent's pipeline
// instead (snapshot.go). With -stream it also captures through
// capture.Stream with a consumer that discards the dump, and prints to
// stderr the child's dump time and the host pause of that path, where the
// dump is never held in memory. With -floor it first times the runtime's
// dumper alone (benchFloor).
//
// The heap: -objects nodes of 24..160 bytes (sizes cycling through eight
// size classes), every node pointing to the next (edges ≈ objects), the
// nodes spread over 64 lists held by a global, plus pointer-free 1 MiB
// blocks until the live heap reaches -bytes.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"github.com/heaptop/heaptop/agent/capture"
	"github.com/heaptop/heaptop/agent/graph"
	"github.com/heaptop/heaptop/agent/heapdump"
)

var (
	lists  [64]any
	blocks [][]byte
)

func main() {
	bytesFlag := flag.String("bytes", "100MiB", "live heap to build (KiB, MiB, GiB suffixes)")
	objects := flag.Int("objects", 1000000, "small pointerful objects")
	reps := flag.Int("reps", 3, "captures (the best of them is reported for times)")
	header := flag.Bool("header", false, "print the table header first")
	snap := flag.Bool("snapshot", false, "take whole snapshots (capture to document, snapshot.go) instead of capture and parse only")
	stream := flag.Bool("stream", false, "also capture through capture.Stream, discarding the dump (times on stderr)")
	memProfile := flag.String("memprofile", "", "with -snapshot: write the allocation profile (runtime default sampling) after the captures to this file")
	floor := flag.Bool("floor", false, "first time runtime/debug.WriteHeapDump of this process to /dev/null (times on stderr)")
	flag.Parse()
	want := parseBytes(*bytesFlag)

	build(*objects)
	for liveHeap() < want {
		// Written, as a program writes its buffers: a heap page never
		// written costs the dump child a page fault to read (about 16-45 us
		// each on this VM), which no real heap pays for 100 MiB at once.
		b := make([]byte, 1<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		blocks = append(blocks, b)
	}
	runtime.GC()
	if *floor {
		benchFloor(*reps)
	}
	if *snap {
		benchSnapshots(*reps, *header, *memProfile)
		return
	}
	heap := liveHeap()
	heapObjects := readMetric("/gc/heap/objects:objects")

	c := capture.New(capture.Options{MeasureChild: true})
	var best struct {
		pause, fork, child, parse, build time.Duration
		size, childPriv                  int64
		g                                *graph.Graph
		core, side, peak                 int64
		allocs                           uint64
	}
	for r := range *reps {
		runtime.GC()
		d, err := c.Capture(context.Background())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		t0 := time.Now()
		if err := heapdump.Parse(d.Bytes, heapdump.NopVisitor{}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		parse := time.Since(t0)
		a0 := readMetric("/gc/heap/allocs:bytes")
		t1 := time.Now()
		g, err := graph.Build(graph.Input{Dump: d.Bytes, FuncName: graph.InProcessFuncName})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		buildTime := time.Since(t1)
		allocs := readMetric("/gc/heap/allocs:bytes") - a0
		st := d.Stats
		d.Close()
		if r == 0 || st.HostPause < best.pause {
			best.pause, best.fork = st.HostPause, st.Fork
		}
		if r == 0 || st.ChildDump < best.child {
			best.child = st.ChildDump
		}
		if r == 0 || parse < best.parse {
			best.parse = parse
		}
		if r == 0 || buildTime < best.build {
			best.build = buildTime
		}
		best.size, best.childPriv = st.Size, max(best.childPriv, st.ChildPrivatePeak)
		if best.g != nil {
			best.g.Close()
		}
		best.g = g
		best.core, best.side = g.MemoryBytes()
		best.peak, best.allocs = g.Stats.PeakMapped, allocs
	}
	g := best.g
	n, e := float64(g.NumObjects()), float64(g.NumEdges())
	gib := float64(best.size) / (1 << 30)
	mobj := n / 1e6
	if *header {
		fmt.Println("| heap (live) | objects | edges | dump | host pause | clone | dump in child (the runtime dumper's STW) | child ms/GiB | child ms/M obj | parse MB/s | parse M obj/s | build (parse+graph) M obj/s | graph core B/obj (B/edge 4) | side B/obj | build peak mapped B/obj | build Go-heap allocs B/obj | child private peak |")
		fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	}
	coreObj := (float64(best.core) - 4*e) / n
	fmt.Printf("| %s | %.3g | %.3g | %s | %s | %s | %s | %.0f | %.0f | %.0f | %.2f | %.2f | %.1f | %.1f | %.1f | %.1f | %s |\n",
		human(int64(heap)), n, e, human(best.size), ms(best.pause), ms(best.fork), ms(best.child),
		float64(best.child.Milliseconds())/gib, float64(best.child.Milliseconds())/mobj,
		float64(best.size)/1e6/best.parse.Seconds(), n/1e6/best.parse.Seconds(), n/1e6/best.build.Seconds(),
		coreObj, float64(best.side)/n, float64(best.peak)/n, float64(best.allocs)/n, human(best.childPriv))
	fmt.Fprintf(os.Stderr, "heap objects %d (graph %d), edges %d, hidden %d, bogus slots %d\n", heapObjects, g.NumObjects(), g.NumEdges(), len(g.Hidden), g.Stats.BogusSlots)
	if *stream {
		benchStream(c, *reps)
	}
	runtime.KeepAlive(lists)
	runtime.KeepAlive(blocks)
}

// benchStream captures through Stream with a consumer that discards the
// dump and prints the best child dump time and host pause of reps.
func benchStream(c *capture.Capturer, reps int) {
	var child, pause, total time.Duration
	var size int64
	for r := range reps {
		runtime.GC()
		d, err := c.Stream(context.Background(), func(dump io.Reader) error {
			_, err := io.Copy(io.Discard, dump)
			return err
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		st := d.Stats
		d.Close()
		if r == 0 || st.ChildDump < child {
			child = st.ChildDump
		}
		if r == 0 || st.HostPause < pause {
			pause = st.HostPause
		}
		if r == 0 || st.Total < total {
			total = st.Total
		}
		size = st.Size
	}
	fmt.Fprintf(os.Stderr, "stream (discarding consumer), best of %d: dump %s, dump in child %s, host pause %s, total %s\n", reps, human(size), ms(child), ms(pause), ms(total))
}

// benchFloor times the runtime's dumper writing this process's heap to
// /dev/null and prints the best of reps to stderr: what WriteHeapDump costs
// when its writes cost nothing, below which no capture's dump can go (the
// dump child runs the same code on the same heap). This process's world is
// stopped meanwhile: that is the dumper's, not a capture's, pause.
func benchFloor(reps int) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer null.Close()
	var best time.Duration
	for r := range reps {
		runtime.GC()
		start := time.Now()
		debug.WriteHeapDump(null.Fd())
		if d := time.Since(start); r == 0 || d < best {
			best = d
		}
	}
	objects := readMetric("/gc/heap/objects:objects")
	fmt.Fprintf(os.Stderr, "WriteHeapDump to %s, best of %d: %s for %d objects (%.0f ns/object)\n",
		os.DevNull, reps, ms(best), objects, float64(best.Nanoseconds())/float64(objects))
}

// build makes n nodes in 64 lists, sizes cycling through 8 classes.
func build(n int) {
	sizes := []int{0, 1, 2, 4, 6, 8, 12, 16} // extra words after next
	var tails [64]*chainNode
	for i := range n {
		l := i % 64
		nd := newChainNode(sizes[i%len(sizes)])
		if tails[l] == nil {
			lists[l] = nd
		} else {
			tails[l].next = nd
		}
		tails[l] = nd
	}
}

// chainNode is the next pointer at the start of objects of 24..160 bytes
// (a wrapper struct of the wanted size around it).
type chainNode struct {
	next *chainNode
	_    [0]uint64
}

func newChainNode(extraWords int) *chainNode {
	switch extraWords {
	case 0:
		return &(new(struct {
			n chainNode
			x [2]uint64
		}).n)
	case 1:
		return &(new(struct {
			n chainNode
			x [3]uint64
		}).n)
	case 2:
		return &(new(struct {
			n chainNode
			x [4]uint64
		}).n)
	case 4:
		return &(new(struct {
			n chainNode
			x [6]uint64
		}).n)
	case 6:
		return &(new(struct {
			n chainNode
			x [8]uint64
		}).n)
	case 8:
		return &(new(struct {
			n chainNode
			x [10]uint64
		}).n)
	case 12:
		return &(new(struct {
			n chainNode
			x [14]uint64
		}).n)
	default:
		return &(new(struct {
			n chainNode
			x [18]uint64
		}).n)
	}
}

func liveHeap() uint64 { return readMetric("/memory/classes/heap/objects:bytes") }

func readMetric(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func parseBytes(s string) uint64 {
	mult := uint64(1)
	for suf, m := range map[string]uint64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if v, ok := strings.CutSuffix(s, suf); ok {
			s, mult = v, m
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad -bytes:", err)
		os.Exit(2)
	}
	return uint64(v * float64(mult))
}

func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
