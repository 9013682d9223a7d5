package testprog

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heaptop/heaptop/agent/internal/agenttest"
)

// Process is a test program started by Start: its own discovery
// directory, its stdin open for commands, its stdout read line by line.
type Process struct {
	Cmd *exec.Cmd
	// Dir is its HEAPTOP_DIR; Pid and Agent are from its ready line.
	Dir   string
	Pid   int
	Agent string

	stdin io.WriteCloser
	lines chan string // stdout, closed at EOF
}

// readyLine is the line every program prints once its agent listens:
// "<name>: pid=<pid> agent=<address>".
var readyLine = regexp.MustCompile(`pid=(\d+) agent=(\S+)$`)

// Start runs bin with args and HEAPTOP_DIR set to a fresh directory (an
// HEAPTOP_DIR in env wins), waits for its ready line, and ends it when the
// test ends: stdin closed (the planted programs end on that), SIGTERM (the
// demo ends on that), SIGKILL after 10 s.
func Start(t testing.TB, bin string, env []string, args ...string) *Process {
	t.Helper()
	p := &Process{Dir: filepath.Join(t.TempDir(), "ht"), lines: make(chan string, 64)}
	for _, e := range env {
		if dir, ok := strings.CutPrefix(e, "HEAPTOP_DIR="); ok {
			p.Dir = dir
		}
	}
	p.Cmd = exec.Command(bin, args...)
	p.Cmd.Env = append(append(os.Environ(), "HEAPTOP_DIR="+p.Dir), env...)
	p.Cmd.Stderr = os.Stderr
	stdout, err := p.Cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = p.Cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.end)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	var m []string
	for m == nil {
		m = readyLine.FindStringSubmatch(p.Line(t))
	}
	p.Pid, _ = strconv.Atoi(m[1])
	p.Agent = m[2]
	if p.Pid != p.Cmd.Process.Pid {
		t.Fatalf("%s: ready line names pid %d, the process is %d", filepath.Base(bin), p.Pid, p.Cmd.Process.Pid)
	}
	return p
}

// end stops the program if it still runs.
func (p *Process) end() {
	if p.Cmd.ProcessState != nil {
		return
	}
	p.stdin.Close()
	p.Cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.Cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.Cmd.Process.Kill()
		<-done
	}
}

// Line returns the next line of output; the test fails at the end of the
// output or after agenttest.Deadline without one.
func (p *Process) Line(t testing.TB) string {
	t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			t.Fatalf("%s ended its output", p.name())
		}
		return l
	case <-time.After(agenttest.Deadline):
		t.Fatalf("%s printed nothing for %v", p.name(), agenttest.Deadline)
	}
	return ""
}

// Marker skips output up to the next line starting with prefix and
// returns its key=value fields.
func (p *Process) Marker(t testing.TB, prefix string) map[string]string {
	t.Helper()
	for {
		if rest, ok := strings.CutPrefix(p.Line(t), prefix+" "); ok {
			return fields(rest)
		}
	}
}

// Send writes a command line to the program.
func (p *Process) Send(t testing.TB, line string) {
	t.Helper()
	if _, err := fmt.Fprintln(p.stdin, line); err != nil {
		t.Fatal(err)
	}
}

// Wait waits for the program to exit and returns its exit code.
func (p *Process) Wait(t testing.TB) int {
	t.Helper()
	done := make(chan struct{})
	go func() { p.Cmd.Wait(); close(done) }()
	select {
	case <-done:
		return p.Cmd.ProcessState.ExitCode()
	case <-time.After(agenttest.Deadline):
		t.Fatalf("%s still running after %v", p.name(), agenttest.Deadline)
	}
	return -1
}

func (p *Process) name() string { return filepath.Base(p.Cmd.Path) }
