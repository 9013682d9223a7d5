package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/heaptop/heaptop/agent/internal/heapgenwire"
)

// tool is one way of answering the benchmark's question about a running
// heapgen: what retains the planted object, and how much does each root
// retain.
type tool struct {
	Name string
	// Module@Version is what `go install` fetches from the Go module proxy
	// (empty for heaptop, which is this repository).
	Module, Version string
	// prepare makes the tool runnable (installs it) and returns how it
	// runs; an error says exactly why it cannot run here.
	prepare func(ctx context.Context, b *bench) error
	// answer asks the question about t. It may return steps it ran with
	// an error (a pipeline that failed half way keeps its first steps).
	answer func(ctx context.Context, b *bench, t *target, work string) (answer, error)
}

// answer is what a tool said, before the harness adds what it measured
// from outside (pause, memory).
type answer struct {
	Steps []step
	// Chain is the tool's own text for the planted object's retention
	// chain; ChainFound whether it holds the expected hops in order (nil
	// when the tool cannot be asked).
	Chain      string
	ChainFound *bool
	// Roots compares the tool's retained bytes per root with heapgen's;
	// empty when the tool has no such figure.
	Roots []rootCheck
	// ReportedPauseNs is the pause the tool says it imposed (heaptop's
	// agent reports its own); 0 when it does not say.
	ReportedPauseNs uint64
	Notes           []string
}

// rootCheck is one root's retained bytes: heapgen's exact figure and the
// tool's.
type rootCheck struct {
	Name     string `json:"name"`
	Expected uint64 `json:"expected"`
	Reported uint64 `json:"reported"`
	Found    bool   `json:"found"`  // the tool named this root at all
	Within   bool   `json:"within"` // |reported − expected| ≤ 1% of expected
}

func checkRoot(name string, expected, reported uint64, found bool) rootCheck {
	diff := max(expected, reported) - min(expected, reported)
	return rootCheck{Name: name, Expected: expected, Reported: reported, Found: found,
		Within: found && diff*100 <= expected}
}

// errUnavailable marks a tool that cannot run here; errPending heaptop's
// graph tier, which is not built yet.
var (
	errUnavailable = errors.New("unavailable")
	errPending     = errors.New("pending")
)

// tools are all the tools the harness knows, in the order they run
// against each heap. heaptop runs first: a peer that leaves the target in
// an odd state (ptrace) cannot spoil its figures.
var tools = []*tool{heaptopTool, gorefTool, viewcoreTool}

// goInstall installs module@version into the harness's GOBIN unless the
// binary there was built from exactly that version, and returns its path.
// Only the Go module proxy is used (GOPROXY as configured, no VCS).
func goInstall(ctx context.Context, b *bench, pkg, module, version string) (string, error) {
	bin := filepath.Join(b.gobin, filepath.Base(pkg))
	if out, err := exec.CommandContext(ctx, "go", "version", "-m", bin).Output(); err == nil &&
		strings.Contains(string(out), "\tmod\t"+module+"\t"+version+"\t") {
		return bin, nil
	}
	if err := os.MkdirAll(b.gobin, 0o755); err != nil {
		return "", err
	}
	_, _, err := runStep(ctx, b.gobin, []string{"GOBIN=" + b.gobin}, "go", "install", pkg+"@"+version)
	if err != nil {
		return "", fmt.Errorf("%w: %v", errUnavailable, err)
	}
	return bin, nil
}

// chainTokens are the words a tool's printed chain must contain, in order,
// to count as the planted chain: the global, then for each hop its field
// name (fields only: tools print map values and indices each their own
// way) and the element type it reaches (named types only: a tool shows
// the runtime's map internals and the slice's backing array between them).
func chainTokens(chain []heapgenwire.Hop) []string {
	var tokens []string
	for _, h := range chain {
		switch h.Via {
		case "global":
			tokens = append(tokens, h.Label)
		case "field":
			tokens = append(tokens, strings.TrimPrefix(h.Label, "."))
		}
		if t := strings.TrimLeft(h.Type, "*"); !strings.ContainsAny(t, "[]") {
			tokens = append(tokens, t)
		}
	}
	return tokens
}

// containsInOrder reports whether text holds every token, each after the
// one before it.
func containsInOrder(text string, tokens []string) bool {
	for _, tok := range tokens {
		i := strings.Index(text, tok)
		if i < 0 {
			return false
		}
		text = text[i+len(tok):]
	}
	return true
}
