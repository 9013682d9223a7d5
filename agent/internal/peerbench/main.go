// Command peerbench measures heaptop against goref and viewcore on the same
// heaps (issue 9): for each size it starts agent/examples/heapgen, and asks
// every tool, one after the other against that same process, what retains
// the planted object and how much each root retains. For each tool it
// records the wall time to the answer, how long the target was stopped (by
// heapgen's own wake-up probe, the same for every tool), the target's peak
// extra resident memory (VmHWM after the tool minus VmRSS before, the peak
// reset through /proc/<pid>/clear_refs), the tool's own peak memory (wait4
// rusage, children included), and whether the answer was right: the
// planted chain's hops in order, each root's retained bytes within 1% of
// heapgen's exact figure. A tool that cannot run is reported with its
// exact error, never dropped.
//
//	npm run bench:peers -- -objects 1e5,1e6,1e7
//	go -C agent run ./internal/peerbench -objects 1e5 -tools heaptop   # the smoke run
//
// The peers are installed here with `go install module@version` from the Go
// module proxy (peers.go pins them). Results go to a JSON file and to
// tables on stdout; BENCHMARKS.md explains them. This is not part of
// `npm test`, except a 10⁵-object run without peers (peerbench_test.go).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/heaptop/heaptop/agent/internal/heapgenwire"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "peerbench: %v\n", err)
		os.Exit(1)
	}
}

// bench is one run of the harness: its settings and where things are.
type bench struct {
	work    string // scratch: heapgen's binary, cores, profiles; removed at the end
	gobin   string // where peers are installed
	heapgen string

	settle    time.Duration // probe window with nothing done, per size
	timeout   time.Duration // per tool and size
	waitLoad  float64
	loadLimit time.Duration

	// Set by the tools' prepare.
	grf, viewcore string
}

// results is the JSON the harness writes.
type results struct {
	Started  string       `json:"started"`
	Args     []string     `json:"args"`
	Machine  machine      `json:"machine"`
	Tools    []toolStatus `json:"tools"`
	Sizes    []sizeResult `json:"sizes"`
	Finished string       `json:"finished"`
}

type toolStatus struct {
	Name    string `json:"name"`
	Module  string `json:"module,omitempty"`
	Version string `json:"version,omitempty"`
	Error   string `json:"error,omitempty"` // why it cannot run here
}

type sizeResult struct {
	Objects  uint64             `json:"objects"` // requested
	Bytes    uint64             `json:"bytes"`   // requested (0: heapgen's default)
	Heap     *heapgenwire.Ready `json:"heap,omitempty"`
	Baseline heapgenwire.Gap    `json:"baseline"` // the probe with no tool at work
	// Load is /proc/loadavg before the heap was built and after the last tool.
	LoadBefore   string        `json:"load_before"`
	LoadAfter    string        `json:"load_after"`
	Measurements []measurement `json:"measurements"`
	Error        string        `json:"error,omitempty"`
}

// measurement is one tool's answer about one heap, with its costs.
type measurement struct {
	Tool    string `json:"tool"`
	Version string `json:"version,omitempty"`
	// Status: ok (right chain, retained within 1% or not offered), wrong,
	// failed (it ran and failed), unavailable (cannot run here), pending
	// (heaptop's graph tier not wired yet).
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	Steps  []step `json:"steps,omitempty"`
	WallNs uint64 `json:"wall_ns"`
	// Pause is heapgen's probe over the tool's run: MaxNs is the longest
	// time the target's goroutines could not run.
	Pause           heapgenwire.Gap `json:"pause"`
	ReportedPauseNs uint64          `json:"reported_pause_ns,omitempty"`
	TargetBefore    memory          `json:"target_before"`
	TargetAfter     memory          `json:"target_after"`
	TargetExtra     uint64          `json:"target_extra"` // VmHWM after − VmRSS before
	ToolMaxRSS      uint64          `json:"tool_max_rss"`
	Chain           string          `json:"chain,omitempty"`
	ChainFound      *bool           `json:"chain_found,omitempty"`
	Roots           []rootCheck     `json:"roots,omitempty"`
	Notes           []string        `json:"notes,omitempty"`
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("peerbench", flag.ContinueOnError)
	objectsFlag := fs.String("objects", "1e5,1e6,1e7", "heap sizes in objects, comma-separated")
	bytesFlag := fs.String("bytes", "", "heap bytes for each size, comma-separated (default objects × 100)")
	toolsFlag := fs.String("tools", "heaptop,goref,viewcore", "tools to measure; -tools heaptop skips the peers")
	out := fs.String("out", "", "results JSON (default <repo>/.build/bench-peers/results-<time>.json)")
	gobin := fs.String("gobin", "", "where peers are installed (default <repo>/.build/peers/bin)")
	settle := fs.Duration("settle", 2*time.Second, "baseline probe window per size")
	timeout := fs.Duration("timeout", 20*time.Minute, "limit per tool and size")
	waitLoad := fs.Float64("wait-load", 0, "before each size, wait (up to -load-limit) for the 1-minute load average to fall under this; 0: don't")
	loadLimit := fs.Duration("load-limit", 10*time.Minute, "longest wait for -wait-load")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sizes, err := parseSizes(*objectsFlag, *bytesFlag)
	if err != nil {
		return err
	}
	selected, err := selectTools(*toolsFlag)
	if err != nil {
		return err
	}
	agentDir, err := findAgentModule()
	if err != nil {
		return err
	}
	repo := filepath.Dir(agentDir)
	b := &bench{gobin: *gobin, settle: *settle, timeout: *timeout, waitLoad: *waitLoad, loadLimit: *loadLimit}
	if b.gobin == "" {
		b.gobin = filepath.Join(repo, ".build/peers/bin")
	}
	if *out == "" {
		*out = filepath.Join(repo, ".build/bench-peers", "results-"+time.Now().UTC().Format("20060102T150405Z")+".json")
	}
	if b.work, err = os.MkdirTemp("", "peerbench-"); err != nil {
		return err
	}
	defer os.RemoveAll(b.work)

	res := results{Started: time.Now().UTC().Format(time.RFC3339), Args: args, Machine: describeMachine()}
	b.heapgen = filepath.Join(b.work, "heapgen")
	if _, _, err := runStep(ctx, agentDir, nil, "go", "build", "-o", b.heapgen, "./examples/heapgen"); err != nil {
		return err
	}
	for _, tl := range selected {
		st := toolStatus{Name: tl.Name, Module: tl.Module, Version: tl.Version}
		if err := tl.prepare(ctx, b); err != nil {
			st.Error = err.Error()
			fmt.Fprintf(stdout, "%s cannot run here: %v\n", tl.Name, err)
		}
		res.Tools = append(res.Tools, st)
	}
	for _, size := range sizes {
		sr := b.measureSize(ctx, selected, size)
		res.Sizes = append(res.Sizes, sr)
		printSize(stdout, sr)
		if ctx.Err() != nil {
			break
		}
	}
	res.Finished = time.Now().UTC().Format(time.RFC3339)
	if err := writeJSON(*out, res); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "results: %s\n", *out)
	return ctx.Err()
}

// measureSize starts heapgen at one size, runs each tool against it in
// turn, and stops it.
func (b *bench) measureSize(ctx context.Context, selected []*tool, size sizeResult) sizeResult {
	b.awaitLoad(ctx)
	size.LoadBefore = loadavg()
	t, err := startTarget(ctx, b.heapgen, filepath.Join(b.work, "agent"), size.Objects, size.Bytes, b.timeout)
	if err != nil {
		size.Error = err.Error()
		return size
	}
	defer t.stop()
	size.Heap = &t.ready
	if _, err := t.gap(ctx); err == nil { // opens the baseline window
		time.Sleep(b.settle)
		size.Baseline, err = t.gap(ctx)
	}
	if err != nil {
		size.Error = err.Error()
		return size
	}
	for _, tl := range selected {
		size.Measurements = append(size.Measurements, b.measure(ctx, tl, t))
		if ctx.Err() != nil {
			break
		}
	}
	size.LoadAfter = loadavg()
	return size
}

// measure runs one tool against t and wraps its answer in what the harness
// sees from outside: wall time, the probe's longest gap, memory.
func (b *bench) measure(ctx context.Context, tl *tool, t *target) measurement {
	m := measurement{Tool: tl.Name, Version: tl.Version}
	work, err := os.MkdirTemp(b.work, tl.Name+"-")
	if err != nil {
		m.Status, m.Error = "failed", err.Error()
		return m
	}
	defer os.RemoveAll(work)
	if _, err := t.gap(ctx); err != nil { // opens the tool's window
		m.Status, m.Error = "failed", err.Error()
		return m
	}
	pid := t.pid()
	if err := resetPeak(pid); err != nil {
		m.Notes = append(m.Notes, "VmHWM not reset: "+err.Error())
	}
	m.TargetBefore, _ = readMemory(pid)
	tctx, cancel := context.WithTimeout(ctx, b.timeout)
	start := time.Now()
	a, answerErr := tl.answer(tctx, b, t, work)
	m.WallNs = uint64(time.Since(start))
	cancel()
	if m.Pause, err = t.gap(ctx); err != nil {
		m.Notes = append(m.Notes, "no probe report after the tool: "+err.Error())
	}
	m.TargetAfter, _ = readMemory(pid)
	m.TargetExtra = max(m.TargetAfter.HWM, m.TargetBefore.RSS) - m.TargetBefore.RSS
	m.Steps, m.Chain, m.ChainFound, m.Roots, m.ReportedPauseNs = a.Steps, a.Chain, a.ChainFound, a.Roots, a.ReportedPauseNs
	m.Notes = append(m.Notes, a.Notes...)
	for _, s := range a.Steps {
		m.ToolMaxRSS = max(m.ToolMaxRSS, s.MaxRSS)
	}
	switch {
	case errors.Is(answerErr, errPending):
		m.Status, m.Error = "pending", answerErr.Error()
	case errors.Is(answerErr, errUnavailable):
		m.Status, m.Error = "unavailable", answerErr.Error()
	case answerErr != nil:
		m.Status, m.Error = "failed", answerErr.Error()
	case m.ChainFound != nil && *m.ChainFound && allWithin(m.Roots):
		m.Status = "ok"
	default:
		m.Status = "wrong"
	}
	return m
}

func allWithin(roots []rootCheck) bool {
	for _, r := range roots {
		if !r.Within {
			return false
		}
	}
	return true
}

func parseSizes(objects, bytes string) ([]sizeResult, error) {
	var sizes []sizeResult
	counts := strings.Split(objects, ",")
	var byteList []string
	if bytes != "" {
		if byteList = strings.Split(bytes, ","); len(byteList) != len(counts) {
			return nil, fmt.Errorf("-bytes has %d sizes, -objects %d", len(byteList), len(counts))
		}
	}
	for i, c := range counts {
		n, err := heapgenwire.ParseCount(c)
		if err != nil {
			return nil, fmt.Errorf("-objects: %v", err)
		}
		s := sizeResult{Objects: n}
		if byteList != nil {
			if s.Bytes, err = heapgenwire.ParseBytes(byteList[i]); err != nil {
				return nil, fmt.Errorf("-bytes: %v", err)
			}
		}
		sizes = append(sizes, s)
	}
	return sizes, nil
}

func selectTools(names string) ([]*tool, error) {
	var sel []*tool
	for _, name := range strings.Split(names, ",") {
		i := len(sel)
		for _, tl := range tools {
			if tl.Name == name {
				sel = append(sel, tl)
			}
		}
		if len(sel) == i {
			return nil, fmt.Errorf("-tools: unknown tool %q (heaptop, goref, viewcore)", name)
		}
	}
	return sel, nil
}

// findAgentModule returns the directory of the agent's go.mod, searched
// from the working directory up.
func findAgentModule() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		for _, d := range []string{dir, filepath.Join(dir, "agent")} {
			if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.HasPrefix(string(b), "module github.com/heaptop/heaptop/agent\n") {
				return d, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the heaptop repository: agent/go.mod not found")
		}
		dir = parent
	}
}

func writeJSON(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
