package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// The peers, pinned. Each is installed by the harness with `go install`
// from the Go module proxy; no other source is used. On 2026-11-27 the
// proxy this machine reaches refused both (see BENCHMARKS.md for the exact
// errors): the harness tries again on every run and reports the refusal.
//
// goref v0.0.11 (2026-03-02) is the first release with go1.26 support
// (cloudwego/goref#67). x/debug has no releases; the pseudo-version is the
// newest commit known to support go1.26 (4da508d, 2026-08-19).
var (
	gorefTool = &tool{
		Name: "goref", Module: "github.com/cloudwego/goref", Version: "v0.0.11",
		prepare: func(ctx context.Context, b *bench) (err error) {
			b.grf, err = goInstall(ctx, b, "github.com/cloudwego/goref/cmd/grf", "github.com/cloudwego/goref", "v0.0.11")
			return err
		},
		answer: gorefAnswer,
	}
	viewcoreTool = &tool{
		Name: "viewcore", Module: "golang.org/x/debug", Version: "v0.0.0-20260819171427-4da508dbc948",
		prepare: func(ctx context.Context, b *bench) (err error) {
			b.viewcore, err = goInstall(ctx, b, "golang.org/x/debug/cmd/viewcore", "golang.org/x/debug", "v0.0.0-20260819171427-4da508dbc948")
			return err
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
//
// BUG: never run — the proxy refused goref (see the var block). The two
// pprof output formats are pprof's own; goref's names for hops were read
// in its source at v0.0.11 (pkg/proc/reference.go), not seen.
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
	s, top, err := runStep(ctx, work, nil, "go", "tool", "pprof", "-top", "-unit=B", "-sample_index=inuse_space", out)
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
	// -traces prints each sample's stack leaf first: turn each block
	// around so that the chain reads root first, as heapgen's does.
	a.Chain = rootFirstTraces(string(traces))
	found := containsInOrder(a.Chain, chainTokens(t.ready.Chain))
	a.ChainFound = &found
	a.Notes = append(a.Notes, "goref aggregates chains by shape: it cannot name the planted object by address, only chains ending in its type")
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

// rootFirstTraces turns every trace block of `pprof -traces` (separated
// by lines of dashes; the first line of a block carries the value) root
// first.
func rootFirstTraces(traces string) string {
	var out []string
	for _, block := range strings.Split(traces, "-----------+-------------------------------------------------------") {
		lines := strings.Split(strings.Trim(block, "\n"), "\n")
		for i, j := 0, len(lines)-1; i < j; i, j = i+1, j-1 {
			lines[i], lines[j] = lines[j], lines[i]
		}
		out = append(out, strings.Join(lines, "\n"))
	}
	return strings.Join(out, "\n----\n")
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
// BUG: the viewcore step has never run — the proxy refused x/debug. The
// output format was read in cmd/viewcore/main.go (runReachable) at the
// pinned commit: the root's name, then "field → " lines, then
// "<hex addr> <type>" per object.
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
	found := containsInOrder(a.Chain, chainTokens(t.ready.Chain)) && strings.Contains(a.Chain, addr)
	a.ChainFound = &found
	a.Notes = append(a.Notes, "viewcore has no retained-size command at this version")
	return a, nil
}
