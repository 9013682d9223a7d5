package analysis

import (
	"fmt"
	"time"

	"github.com/heaptop/heaptop/agent/graph"
)

// Input is what Analyse reads.
type Input struct {
	Graph *graph.Graph
	// Names types, sites and names what the graph holds; nil analyses
	// without names (hidden references are then counted, never judged).
	Names Names
	// Packages says whose code a package is; the zero value classifies
	// by the import path's shape (use ProgramPackages in the agent).
	Packages Packages
	// Previous is what the last analysis of this process remembered (nil
	// for the first): reused slots and growth are measured against it.
	Previous *Memory
	// Released lists the objects the program declared released.
	Released []Released
}

// Stats says what the analysis cost, per phase.
type Stats struct {
	// Analyse's phases: building the vertices, states and paths, hidden
	// references, leaks.
	Vertices, Reach, Hidden, Leaks time.Duration
	// Complete's: census and growth, dominators with retained sizes
	// (the lists' too), suspects.
	Census, Dominators, Suspects time.Duration
	// Mapped is the mapped memory the analysis holds once it is complete
	// (the arrays Expand and Path need); PeakMapped the most it held.
	Mapped, PeakMapped int64
}

// Analyse runs phases 1 to 3 (states and paths, hidden references, leaks)
// and returns the analysis, ready for findings, with the Memory the next
// analysis reads: the caller closes the previous Memory once it no longer
// needs it, and must Close the analysis. Complete adds the rest.
//
// The graph comes from a dump of the process, which the analysis treats as
// untrusted: a malformed graph may make Analyse panic (never loop or write
// outside its arrays); callers recover.
func Analyse(in Input) (*Analysis, *Memory, error) {
	if in.Graph == nil {
		return nil, nil, fmt.Errorf("analysis: no graph")
	}
	if uint64(in.Graph.NumObjects())+uint64(in.Graph.NumRoots())+uint64(firstHolder) >= uint64(none) {
		return nil, nil, fmt.Errorf("analysis: %d objects and %d roots are more than 32-bit vertex numbers hold", in.Graph.NumObjects(), in.Graph.NumRoots())
	}
	a := &Analysis{g: in.Graph, names: in.Names, pkgs: in.Packages, mem: graph.NewMem()}
	if a.names == nil {
		a.names = noNames{}
	}
	next := newMemory()
	phase := func(d *time.Duration, f func()) {
		start := time.Now()
		f()
		*d = time.Since(start)
		a.Stats.PeakMapped = max(a.Stats.PeakMapped, a.mem.Bytes())
	}
	phase(&a.Stats.Vertices, a.buildVertices)
	phase(&a.Stats.Reach, a.reachAll)
	phase(&a.Stats.Hidden, func() {
		a.judgeHidden(in.Previous, next)
		next.finish()
	})
	phase(&a.Stats.Leaks, func() { a.findLeaks(in.Released) })
	a.previous, a.next = in.Previous, next
	a.Stats.Mapped = a.mem.Bytes()
	return a, next, nil
}

// Complete runs phases 4 to 6 (census and growth, dominators and retained
// sizes, suspects) on an analysis Analyse returned, and records this
// capture's live totals in the Memory Analyse returned. Call it once, from
// the goroutine that called Analyse.
func (a *Analysis) Complete() {
	phase := func(d *time.Duration, f func()) {
		start := time.Now()
		f()
		*d = time.Since(start)
		a.Stats.PeakMapped = max(a.Stats.PeakMapped, a.mem.Bytes())
	}
	phase(&a.Stats.Census, func() {
		a.takeCensus()
		a.measureGrowth(a.previous, a.next)
	})
	phase(&a.Stats.Dominators, a.dominate)
	phase(&a.Stats.Suspects, a.findSuspects)
	a.previous, a.next = nil, nil
	a.Stats.Mapped = a.mem.Bytes()
}

// Close releases the analysis's arrays; everything it returned that
// refers to them becomes invalid. Idempotent.
func (a *Analysis) Close() {
	if a != nil {
		a.mem.Close()
	}
}
