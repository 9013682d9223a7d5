package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The peers, pinned. Each runs from a binary given with -grf / -viewcore
// (or HEAPTOP_GRF / HEAPTOP_VIEWCORE), else is installed by the harness
// with `go install` from the Go module proxy. On 2026-11-27 the proxy this
// machine reaches refused both (BENCHMARKS.md has the exact errors), so
// the figures in BENCHMARKS.md come from local builds of the same code
// (BENCHMARKS.md says how they were built).
//
// goref v0.0.11 (2026-03-02) is the first release with go1.26 support
// (cloudwego/goref#67). x/debug has no releases; the pseudo-version is the
// newest commit known to support go1.26 (4da508d, 2026-08-19).
const (
	gorefModule, gorefVersion       = "github.com/cloudwego/goref", "v0.0.11"
	viewcoreModule, viewcoreVersion = "golang.org/x/debug", "v0.0.0-20260819171427-4da508dbc948"
)

var (
	gorefTool = &tool{
		Name: "goref", Module: gorefModule, Version: gorefVersion,
		prepare: func(ctx context.Context, b *bench) (bin binary, err error) {
			bin, err = peerBinary(ctx, b, b.grfGiven, gorefModule+"/cmd/grf", gorefModule, gorefVersion, "version")
			b.grf = bin.Path
			return bin, err
		},
		answer: gorefAnswer,
	}
	viewcoreTool = &tool{
		Name: "viewcore", Module: viewcoreModule, Version: viewcoreVersion,
		prepare: func(ctx context.Context, b *bench) (bin binary, err error) {
			bin, err = peerBinary(ctx, b, b.viewcoreGiven, viewcoreModule+"/cmd/viewcore", viewcoreModule, viewcoreVersion, "help")
			b.viewcore = bin.Path
			return bin, err
		},
		answer: viewcoreAnswer,
	}
)

// gorefAnswer: `grf attach <pid>` stops the target (ptrace, through delve)
// for its whole scan and writes a pprof profile whose "stacks" are
// reference chains, root first, sized by inuse_space. `pprof -top` gives
// each chain element's cumulative bytes, so a root's cum is what goref
// counts under it (goref has no dominators: it credits each object to the
// first chain that reached it, which is the retained size when roots are
// disjoint, as heapgen's are); `pprof -traces` focused on the planted
// type prints its chain.
func gorefAnswer(ctx context.Context, b *bench, t *target, work string) (answer, error) {
	var a answer
	if b.grf == "" {
		return a, fmt.Errorf("%w: not installed", errUnavailable)
	}
	out := filepath.Join(work, "grf.out")
	s, _, err := runStep(ctx, work, nil, b.grf, "attach", strconv.Itoa(t.pid()), "--out", out)
	a.Steps = append(a.Steps, s)
	if err != nil {
		return a, err
	}
	// -nodefraction=0: pprof drops nodes under 0.5% of the total by
	// default, main.planted's few KiB among them.
	s, top, err := runStep(ctx, work, nil, "go", "tool", "pprof", "-top", "-unit=B", "-nodefraction=0", "-sample_index=inuse_space", out)
	a.Steps = append(a.Steps, s)
	if err != nil {
		return a, err
	}
	cums := pprofTopCum(string(top))
	for _, r := range t.ready.Roots {
		v, ok := cums[r.Name]
		a.Roots = append(a.Roots, checkRoot(r.Name, r.Retained, v, ok))
	}
	focus := regexp.QuoteMeta(strings.TrimLeft(t.ready.TargetType, "*"))
	s, traces, err := runStep(ctx, work, nil, "go", "tool", "pprof", "-traces", "-unit=B", "-focus="+focus, out)
	a.Steps = append(a.Steps, s)
	if err != nil {
		return a, err
	}
	// The chain is the trace whose leaf is the planted chain's last hop
	// ("[5]. (*main.PlantedTarget)"); goref merges the four shelves'
	// [5]s into it, so it matches by shape at best.
	blocks := rootFirstTraces(string(traces))
	last := t.ready.Chain[len(t.ready.Chain)-1]
	leaf := last.Label + ". (" + last.Type + ")"
	named := false
	a.ChainMatch, a.ChainNamed = "no", &named
	for _, bl := range blocks {
		lines := strings.Split(bl, "\n")
		if !strings.HasSuffix(strings.TrimSpace(lines[len(lines)-1]), leaf) {
			continue
		}
		a.Chain = bl
		if named = containsInOrder(bl, chainTokens(t.ready.Chain)); named {
			a.ChainMatch = "shape"
		}
	}
	if a.Chain == "" {
		a.Chain = strings.Join(blocks, "\n----\n")
	}
	a.Notes = append(a.Notes, "goref merges chains of one shape and prints no addresses: it cannot single out the planted object")
	return a, nil
}

// pprofTopCum reads `pprof -top -unit=B` rows ("flat flat% sum% cum cum%
// name") into name → cum bytes.
func pprofTopCum(top string) map[string]uint64 {
	cums := map[string]uint64{}
	for _, line := range strings.Split(top, "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasSuffix(f[1], "%") || !strings.HasSuffix(f[4], "%") {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSuffix(f[3], "B"), 64); err == nil {
			cums[strings.Join(f[5:], " ")] = uint64(v)
		}
	}
	return cums
}

// rootFirstTraces returns the trace blocks of `pprof -traces` (separated
// by lines of dashes; the first line of a block carries the value, and
// the stack is leaf first) each turned root first, as heapgen's chain
// reads.
func rootFirstTraces(traces string) []string {
	var out []string
	for _, block := range strings.Split(traces, "-----------+-------------------------------------------------------")[1:] {
		lines := strings.Split(strings.Trim(block, "\n"), "\n")
		slices.Reverse(lines)
		out = append(out, strings.Join(lines, "\n"))
	}
	return out
}

// viewcoreAnswer: gcore (Debian's gdb) stops the target while it writes a
// core file; `viewcore <core> --exe <bin> reachable <addr>` then prints one
// path from a root to the object. viewcore has no command for retained
// sizes at this version (its dominator code is internal and unused), so
// the second half of the question has no answer from it.
//
// When viewcore cannot be installed the gcore step still runs: its pause,
// core size and gdb's memory are a lower bound for viewcore's pipeline.
//
// The output (cmd/viewcore/main.go, runReachable): the root's name, then
// per object "<hex addr> <type>" and the field that leads on, "→". At
// go1.26 viewcore loses the types past a Swiss map's table ("unk48 f16"):
// the chain is found by address but not named.
func viewcoreAnswer(ctx context.Context, b *bench, t *target, work string) (answer, error) {
	var a answer
	prefix := filepath.Join(work, "core")
	s, _, err := runStep(ctx, work, nil, "gcore", "-o", prefix, strconv.Itoa(t.pid()))
	a.Steps = append(a.Steps, s)
	core := fmt.Sprintf("%s.%d", prefix, t.pid())
	defer os.Remove(core)
	if err != nil {
		return a, err
	}
	if fi, err := os.Stat(core); err == nil {
		a.Notes = append(a.Notes, fmt.Sprintf("core file %d bytes", fi.Size()))
	}
	if b.viewcore == "" {
		return a, fmt.Errorf("%w: viewcore not installed; only the gcore step ran", errUnavailable)
	}
	addr := strings.TrimPrefix(t.ready.Target, "0x")
	s, out, err := runStep(ctx, work, nil, b.viewcore, core, "--exe", t.bin, "reachable", addr)
	a.Steps = append(a.Steps, s)
	if err != nil {
		return a, err
	}
	a.Chain = string(out)
	a.chainCheck = checkChain(a.Chain, t.ready.Chain)
	a.Notes = append(a.Notes, "viewcore has no retained-size command at this version")
	return a, nil
}
