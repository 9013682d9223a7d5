// Command heapgen builds a Go heap of a requested shape and size, plants a
// retention chain to one known object, starts the heaptop agent, prints
// one line that says exactly what it built, and waits. It is the target of
// the peers benchmark (agent/internal/peerbench, `npm run bench:peers`),
// which asks heaptop, goref and viewcore the same question about it: what
// retains the planted object, and how much does each root retain.
//
//	heapgen -objects 1e6 -bytes 100MB -shapes trees,maps,slices
//
// Flags:
//
//	-objects N   objects to build, 1e3…1e8 (default 1e5); split evenly over
//	             the shapes; an element with a payload is two objects
//	-bytes B     bytes to build (default objects × 100: 1e5 → 10 MB,
//	             1e7 → 1 GB); "10MB", "1GiB" and plain numbers are read.
//	             Each element gets a []byte payload sized (to a whole size
//	             class or page) so the total comes near B; when B leaves
//	             less than 16 bytes per payload there is none, and the heap
//	             is smaller than asked. The line gives what was built.
//	-shapes S    comma-separated, any of:
//	               trees   main.forest: -trees complete binary trees of
//	                       *main.treeNode (48 B)
//	               maps    main.index: map[uint64]*main.record (32 B each),
//	                       sized up front
//	               slices  main.records: []*main.record
//	             (default all three). The planted chain is always built:
//	               main.planted → .shelves → ["shelf-2"] → .targets → [5]
//	               → *main.PlantedTarget
//	-trees N     trees in main.forest (default 16)
//	-probe D     wake-up probe period (default 1ms)
//	-agent       start the heaptop agent (default true; HEAPTOP_DIR and the
//	             agent's other defaults apply)
//
// Once built it prints, on stdout,
//
//	heapgen ready: {"pid":…,"target":"0xc…","chain":[…],"roots":[…],…}
//
// (heapgenwire.Ready), then on each SIGUSR1
//
//	heapgen gap: {"max_ns":…,"window_ns":…,…}
//
// the longest time its probe goroutine could not run since the previous
// one (heapgenwire.Gap): how long a tool paused it. SIGINT or SIGTERM
// closes the agent and exits 0.
//
// The heap is built with the GC off (nothing it builds becomes garbage),
// one root at a time, each measured with runtime.GC and MemStats. For the
// trees, the slice and the planted chain the figure is also computed from
// size classes and the two must agree (heapgen exits 1 if they do not);
// the big map's figure is the runtime's count (see buildHeap).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/heaptop/heaptop/agent"
	"github.com/heaptop/heaptop/agent/internal/heapgenwire"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "heapgen: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	objectsFlag := flag.String("objects", "1e5", "objects to build, 1e3…1e8")
	bytesFlag := flag.String("bytes", "", "bytes to build, e.g. 10MB, 1GiB (default objects × 100)")
	shapesFlag := flag.String("shapes", "trees,maps,slices", "shapes to build: trees, maps, slices")
	trees := flag.Int("trees", 16, "trees in main.forest")
	period := flag.Duration("probe", time.Millisecond, "wake-up probe period")
	withAgent := flag.Bool("agent", true, "start the heaptop agent")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", flag.Arg(0))
	}

	objects, err := heapgenwire.ParseCount(*objectsFlag)
	if err != nil || objects < 1e3 || objects > 1e8 {
		return fmt.Errorf("-objects: want a count from 1e3 to 1e8, got %q", *objectsFlag)
	}
	bytes := objects * 100
	if *bytesFlag != "" {
		if bytes, err = heapgenwire.ParseBytes(*bytesFlag); err != nil {
			return fmt.Errorf("-bytes: %v", err)
		}
	}
	if bytes > 64<<30 {
		return fmt.Errorf("-bytes: %d is over 64 GiB", bytes)
	}
	shapes := strings.Split(*shapesFlag, ",")
	if *trees < 1 || *period <= 0 {
		return fmt.Errorf("-trees and -probe must be positive")
	}

	roots, target, took, err := buildHeap(objects, bytes, shapes, *trees)
	if err != nil {
		return err
	}
	heapLive, heapObjects := liveHeap()
	ready := heapgenwire.Ready{
		Pid: os.Getpid(), GoVersion: runtime.Version(),
		RequestedObjects: objects, RequestedBytes: bytes, Shapes: shapes,
		BuildNs: uint64(took), HeapLive: heapLive, HeapObjects: heapObjects,
		Roots:  roots,
		Target: addressOf(target), TargetType: "*main.PlantedTarget", Chain: plantedChain,
	}
	ready.Exe, _ = os.Executable()
	for _, r := range roots {
		ready.Objects += r.Objects
		ready.Bytes += r.Retained
	}

	if *withAgent {
		a, err := agent.Start(agent.Options{})
		if err != nil {
			ready.AgentError = err.Error()
		} else {
			defer a.Close()
			ready.Agent = a.Address()
		}
	}
	probe := startProbe(*period)

	// Signals before the ready line: whoever reads it may signal at once.
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGUSR1, syscall.SIGINT, syscall.SIGTERM)
	if err := emit(heapgenwire.ReadyPrefix, ready); err != nil {
		return err
	}
	for sig := range signals {
		if sig != syscall.SIGUSR1 {
			return nil
		}
		if err := emit(heapgenwire.GapPrefix, probe.report()); err != nil {
			return err
		}
	}
	return nil
}

// emit writes one report line to stdout (unbuffered: one write).
func emit(prefix string, v any) error {
	line, err := heapgenwire.Format(prefix, v)
	if err != nil {
		return err
	}
	_, err = os.Stdout.WriteString(line)
	return err
}
