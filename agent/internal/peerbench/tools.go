package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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
	// when no binary is given (empty for heaptop, which is this
	// repository).
	Module, Version string
	// prepare makes the tool runnable (a given binary checked, or the
	// pinned version installed) and says where its binary came from; an
	// error says exactly why it cannot run here.
	prepare func(ctx context.Context, b *bench) (binary, error)
	// answer asks the question about t. It may return steps it ran with
	// an error (a pipeline that failed half way keeps its first steps).
	answer func(ctx context.Context, b *bench, t *target, work string) (answer, error)
}

// answer is what a tool said, before the harness adds what it measured
// from outside (pause, memory).
type answer struct {
	Steps []step
	// Chain is the tool's own text for the planted object's retention
	// chain, and how it compares with heapgen's (zero when the tool
	// cannot be asked).
	Chain string
	chainCheck
	// Roots compares the tool's retained bytes per root with heapgen's;
	// empty when the tool has no such figure.
	Roots []rootCheck
	// ReportedPauseNs is the pause the tool says it imposed (heaptop's
	// agent reports its own); 0 when it does not say.
	ReportedPauseNs uint64
	// Agent is heaptop's own account of the capture.
	Agent *agentFigures
	Notes []string
}

// agentFigures are the agent's CaptureStats for the capture that answered.
type agentFigures struct {
	PauseNs       uint64 `json:"pause_ns"`
	DumpBytes     uint64 `json:"dump_bytes"`
	DumpNs        uint64 `json:"dump_ns"`
	ParseNs       uint64 `json:"parse_ns"`
	NameNs        uint64 `json:"name_ns"`
	AnalyseNs     uint64 `json:"analyse_ns"`
	DominatorsNs  uint64 `json:"dominators_ns"`
	Objects       uint64 `json:"objects"`
	Edges         uint64 `json:"edges"`
	HeapBytes     uint64 `json:"heap_bytes"`
	HeldBytes     uint64 `json:"held_bytes"`
	DocumentBytes uint64 `json:"document_bytes"`
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

// errUnavailable marks a tool that cannot run here.
var errUnavailable = errors.New("unavailable")

// tools are all the tools the harness knows, in the order they run
// against each heap. heaptop runs first: a peer that leaves the target in
// an odd state (ptrace) cannot spoil its figures.
var tools = []*tool{heaptopTool, gorefTool, viewcoreTool}

// binary is where a peer's executable came from.
type binary struct {
	Path string `json:"path"`
	// Given: the path came from a flag or the environment; else the
	// harness installed the pinned version with `go install`.
	Given bool `json:"given"`
	// BuildInfo is `go version -m` on it: the Go version, the main
	// module's version ("(devel)" for a local build) and its dependencies.
	BuildInfo string `json:"build_info,omitempty"`
	SHA256    string `json:"sha256,omitempty"`
}

// peerBinary returns the peer to run: the given path if there is one,
// checked by running it with probe (its help or version), else module at
// version installed with `go install` into the harness's GOBIN.
func peerBinary(ctx context.Context, b *bench, given, pkg, module, version string, probe ...string) (binary, error) {
	var bin binary
	if given != "" {
		bin.Path, bin.Given = given, true
		if _, _, err := runStep(ctx, b.work, nil, append([]string{given}, probe...)...); err != nil {
			return bin, fmt.Errorf("%w: the given %s does not run: %v", errUnavailable, given, err)
		}
	} else {
		p, err := goInstall(ctx, b, pkg, module, version)
		if err != nil {
			return bin, err
		}
		bin.Path = p
	}
	if out, err := exec.CommandContext(ctx, "go", "version", "-m", bin.Path).Output(); err == nil {
		bin.BuildInfo = strings.TrimSpace(string(out))
	}
	if f, err := os.Open(bin.Path); err == nil {
		h := sha256.New()
		if _, err := io.Copy(h, f); err == nil {
			bin.SHA256 = hex.EncodeToString(h.Sum(nil))
		}
		f.Close()
	}
	return bin, nil
}

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

// chainCheck compares a tool's chain with heapgen's.
type chainCheck struct {
	// ChainMatch: "objects" when the chain passes through each of the
	// planted chain's objects in order, by address, to the target;
	// "shape" when it holds the chain's names in order but the tool
	// cannot say which objects (goref merges every chain of one shape);
	// "no" when neither; "" when not asked.
	ChainMatch string `json:"chain_match,omitempty"`
	// ChainNamed: the chain names the global, every field and every named
	// type of the planted chain, in order (chainTokens).
	ChainNamed *bool `json:"chain_named,omitempty"`
}

func (c chainCheck) found() bool { return c.ChainMatch == "objects" || c.ChainMatch == "shape" }

// checkChain compares text, a chain that prints addresses in hex (with
// or without 0x), with heapgen's chain.
func checkChain(text string, chain []heapgenwire.Hop) chainCheck {
	named := containsInOrder(text, chainTokens(chain))
	c := chainCheck{ChainMatch: "no", ChainNamed: &named}
	if containsInOrder(strings.ToLower(text), chainAddresses(chain)) {
		c.ChainMatch = "objects"
	}
	return c
}

// chainAddresses are the chain's object addresses, hex without 0x.
func chainAddresses(chain []heapgenwire.Hop) []string {
	var out []string
	for _, h := range chain {
		out = append(out, strings.ToLower(strings.TrimPrefix(h.Address, "0x")))
	}
	return out
}

// chainTokens are the words a tool's printed chain must contain, in order,
// to name the planted chain: the global, then for each later hop its
// field name (fields only: tools print map values and indices each their
// own way) and the element type it reaches (named types only: a tool
// shows the runtime's map internals and the slice's backing array between
// them). The global's own type is left out: its name says what it is,
// and goref does not print it.
func chainTokens(chain []heapgenwire.Hop) []string {
	var tokens []string
	for _, h := range chain {
		switch h.Via {
		case "global":
			tokens = append(tokens, h.Label)
			continue
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
