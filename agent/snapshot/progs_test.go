package snapshot_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/internal/agenttest"
	"github.com/heaptop/heaptop/agent/internal/testprog"
)

// The tests of this package run the programs under testdata/progs that
// plant what the analysis must find, each with the real agent, and ask it
// for snapshots over gRPC as heaptop does: the findings, chains, names and
// file:line they assert are those a user would see.

// prog is a planted program running with its agent.
type prog struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	client heaptopv1.HeaptopClient
	conn   *agenttest.Stream
	addr   string
}

// startProg builds and starts testdata/progs/<name>, waits for its ready
// line ("<name>: pid=… agent=…") and connects to its agent.
func startProg(t *testing.T, name string, args ...string) *prog {
	t.Helper()
	return startProgAt(t, name, name+":", args...)
}

// startProgAt builds and starts the program testprog.Build names pkg,
// waits for its line starting with ready and carrying agent=…, and
// connects to its agent.
func startProgAt(t *testing.T, pkg, ready string, args ...string) *prog {
	t.Helper()
	name := filepath.Base(pkg)
	bin := testprog.Build(t, pkg)
	p := &prog{name: name, lines: make(chan string, 64)}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), "HEAPTOP_DIR="+filepath.Join(t.TempDir(), "ht"))
	p.cmd.Stderr = os.Stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The planted programs end when stdin closes, the demo on SIGTERM.
		p.stdin.Close()
		done := make(chan struct{})
		go func() { p.cmd.Wait(); close(done) }()
		select {
		case <-done:
			return
		case <-time.After(2 * time.Second):
			p.cmd.Process.Signal(syscall.SIGTERM)
		}
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			<-done
		}
	})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	p.addr = p.marker(t, ready)["agent"]
	p.client = heaptopv1.NewHeaptopClient(agenttest.Dial(t, p.addr))
	return p
}

// marker waits for the next output line starting with prefix and returns
// its key=value fields.
func (p *prog) marker(t *testing.T, prefix string) map[string]string {
	t.Helper()
	deadline := time.After(agenttest.Deadline)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("%s ended before printing %q", p.name, prefix)
			}
			if rest, ok := strings.CutPrefix(l, prefix+" "); ok {
				m := map[string]string{}
				for _, f := range strings.Fields(rest) {
					if k, v, ok := strings.Cut(f, "="); ok {
						m[k] = v
					}
				}
				return m
			}
		case <-deadline:
			t.Fatalf("%s printed no %q line", p.name, prefix)
		}
	}
}

// send writes a command line to the program.
func (p *prog) send(t *testing.T, cmd string) {
	t.Helper()
	if _, err := fmt.Fprintln(p.stdin, cmd); err != nil {
		t.Fatal(err)
	}
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
