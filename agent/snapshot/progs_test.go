package snapshot_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/internal/agenttest"
	"github.com/heaptop/heaptop/agent/internal/testprog"
)

// The tests of this package run the programs under testdata/progs that
// plant what the analysis must find, each with the real agent, and ask it
// for snapshots over gRPC as heaptop does: the findings, chains, names and
// file:line they assert are those a user would see.

// prog is a planted program running with its agent, and a client of it.
type prog struct {
	*testprog.Process
	client heaptopv1.HeaptopClient
}

// startProg builds and starts the program testprog.Build names
// ("leaky" for testdata/progs/leaky, "./examples/demo"), waits for its ready
// line and connects to its agent.
func startProg(t *testing.T, pkg string, args ...string) *prog {
	t.Helper()
	p := testprog.Start(t, testprog.Build(t, pkg), nil, args...)
	return &prog{Process: p, client: heaptopv1.NewHeaptopClient(agenttest.Dial(t, p.Agent))}
}

// captureDeadline bounds a capture: a first capture of a program with
// FullAllocSites loads its DWARF and names every object's site, which took
// over a minute at load 13 on the 2-core machine (tests assert what is
// found, benchmarks how fast).
const captureDeadline = 4 * agenttest.Deadline

// capture asks the agent for a snapshot.
func (p *prog) capture(t *testing.T, req *heaptopv1.CaptureRequest) *heaptopv1.Snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), captureDeadline)
	defer cancel()
	r, err := p.client.Capture(ctx, req)
	if err != nil {
		t.Fatalf("Capture: %v", err)
	}
	if !r.Snapshot.Complete {
		t.Fatalf("Capture returned an incomplete document")
	}
	return r.Snapshot
}

// path asks the agent for a whole chain.
func (p *prog) path(t *testing.T, req *heaptopv1.PathRequest) []*heaptopv1.Hop {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), agenttest.Deadline)
	defer cancel()
	r, err := p.client.Path(ctx, req)
	if err != nil {
		t.Fatalf("Path: %v", err)
	}
	return r.Path
}

// markerLine is the line of testdata/progs/<prog>/<file> carrying
// "// marker:<name>".
func markerLine(t *testing.T, prog, file, name string) int {
	t.Helper()
	return markerLineIn(t, filepath.Join("testdata", "progs", prog, file), name)
}

// markerLineIn is the line of file (relative to agent/) carrying
// "// marker:<name>".
func markerLineIn(t *testing.T, file, name string) int {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(self), "..", file))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.HasSuffix(l, "// marker:"+name) {
			return i + 1
		}
	}
	t.Fatalf("no marker:%s in %s", name, file)
	return 0
}

// hiddenKinds are the finding kinds of hidden references.
var hiddenKinds = map[heaptopv1.FindingKind]bool{
	heaptopv1.FindingKind_FINDING_KIND_DANGLING: true, heaptopv1.FindingKind_FINDING_KIND_DANGLING_SOON: true,
	heaptopv1.FindingKind_FINDING_KIND_STACK: true, heaptopv1.FindingKind_FINDING_KIND_UNPROTECTED: true,
}

// findingsOf returns the findings of a kind whose chain starts at the
// root labelled root.
func findingsOf(s *heaptopv1.Snapshot, kind heaptopv1.FindingKind, root string) []*heaptopv1.Finding {
	var out []*heaptopv1.Finding
	for _, f := range s.Findings {
		if f.Kind == kind && len(f.Path) > 0 && f.Path[0].Label == root {
			out = append(out, f)
		}
	}
	return out
}

// describe prints a finding for failure messages.
func describe(f *heaptopv1.Finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s ×%d %q\n", f.Kind, f.Count, f.Summary)
	for i, h := range f.Path {
		fmt.Fprintf(&b, "  %d %s %q %s %d B %s", i, h.Via, h.Label, h.TypeName, h.Bytes, h.State)
		if h.Site != nil {
			fmt.Fprintf(&b, " %s:%d", filepath.Base(h.Site.File), h.Site.Line)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// siteLine is a hop's file:line as "main.go:42".
func siteLine(h *heaptopv1.Hop) string {
	if h.Site == nil {
		return ""
	}
	return fmt.Sprintf("%s:%d", filepath.Base(h.Site.File), h.Site.Line)
}
