package agent_test

// Tests against real processes: the demo and the programs under
// testdata/progs, built once by TestMain and run with HEAPTOP_DIR set to a
// fresh directory.

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/heaptop/heaptop/agent"
	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/internal/agenttest"
	"github.com/heaptop/heaptop/agent/internal/discovery"
	"github.com/heaptop/heaptop/agent/internal/testprog"
)

// bin holds the programs TestMain built, by package path.
var bin = map[string]string{
	"./examples/demo":          "",
	"./testdata/progs/forcegc": "",
	"./testdata/progs/watch":   "",
	"./testdata/progs/safety":  "",
	"./testdata/progs/load":    "",
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "heaptop-agent-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for pkg := range bin {
		out := filepath.Join(dir, filepath.Base(pkg))
		if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", pkg, err, b)
			os.RemoveAll(dir)
			os.Exit(1)
		}
		bin[pkg] = out
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run starts a program from bin (testprog.Start: its own HEAPTOP_DIR, its
// ready line read, stopped when the test ends).
func run(t *testing.T, pkg string, env []string, args ...string) *testprog.Process {
	t.Helper()
	return testprog.Start(t, bin[pkg], env, args...)
}

// TestProcessFiveGCs is the exactness claim on a real process: the program
// (GOGC=off, so nothing else collects) forces exactly 5 GCs after a tick the
// test has seen; the ticks that follow carry exactly those 5 pauses, cycle
// numbers consecutive, durations and end times equal to MemStats' own, and
// nothing else.
func TestProcessFiveGCs(t *testing.T) {
	p := run(t, "./testdata/progs/forcegc", []string{"GOGC=off"}, "-tick=200ms")
	s := agenttest.Watch(t, agenttest.Dial(t, p.Agent))
	s.Tick(t) // a tick taken before the GCs: its successors carry only them

	p.Send(t, "gc 5")
	var want []struct {
		Cycle       uint64 `json:"cycle"`
		DurationNs  uint64 `json:"durationNs"`
		EndUnixNano int64  `json:"endUnixNano"`
	}
	if err := json.Unmarshal([]byte(p.Line(t)), &want); err != nil || len(want) != 5 {
		t.Fatalf("program's MemStats pauses: %v (%d)", err, len(want))
	}
	lastCycle := want[4].Cycle

	var got []*heaptopv1.GcPause
	var missed uint64
	var tk *heaptopv1.Tick
	for tk == nil || tk.GcCycles < lastCycle {
		tk = s.Tick(t)
		got = append(got, tk.Pauses...)
		missed += tk.PausesMissed
	}
	after := s.Tick(t) // one more: nothing may trail in
	got = append(got, after.Pauses...)

	if len(got) != 5 || missed != 0 {
		t.Fatalf("ticks carried %d pauses and %d missed, want exactly the 5 forced: %v", len(got), missed, got)
	}
	for i, w := range want {
		if i > 0 && w.Cycle != want[i-1].Cycle+1 {
			t.Errorf("MemStats cycles %d, %d not consecutive", want[i-1].Cycle, w.Cycle)
		}
		wp := &heaptopv1.GcPause{Cycle: w.Cycle, DurationNs: w.DurationNs, EndUnixNano: w.EndUnixNano}
		if !proto.Equal(got[i], wp) {
			t.Errorf("pause %d = %v, want MemStats' %v", i, got[i], wp)
		}
	}
	if tk.GcCycles != lastCycle {
		t.Errorf("gc_cycles = %d, want %d", tk.GcCycles, lastCycle)
	}

	p.Send(t, "exit")
	if code := p.Wait(t); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
}

// TestProcessDiscovery follows a real process's discovery entries from
// start to a clean exit, and to a kill that leaves them for a reader to
// remove.
func TestProcessDiscovery(t *testing.T) {
	tests := []struct {
		name string
		end  func(t *testing.T, p *testprog.Process)
	}{
		{"clean_exit", func(t *testing.T, p *testprog.Process) {
			p.Send(t, "exit")
			if code := p.Wait(t); code != 0 {
				t.Errorf("exit code %d, want 0", code)
			}
		}},
		{"killed", func(t *testing.T, p *testprog.Process) {
			p.Cmd.Process.Signal(syscall.SIGKILL)
			p.Wait(t)
			if _, err := os.Stat(discovery.FilePath(p.Dir, p.Pid)); err != nil {
				t.Fatalf("a killed agent cannot clean up, yet its file is gone: %v", err)
			}
			if live, err := discovery.List(p.Dir); err != nil || len(live) != 0 {
				t.Errorf("discovery.List = %v, %v; want nothing live", live, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := run(t, "./testdata/progs/forcegc", nil)
			sock := filepath.Join(p.Dir, strconv.Itoa(p.Pid)+".sock")
			if p.Agent != "unix://"+sock {
				t.Errorf("address %s, want unix://%s", p.Agent, sock)
			}
			modes := map[string]fs.FileMode{
				p.Dir:                            fs.ModeDir | 0o700,
				sock:                             fs.ModeSocket | 0o600,
				discovery.FilePath(p.Dir, p.Pid): 0o600,
			}
			for path, want := range modes {
				if got := mode(t, path); got != want {
					t.Errorf("%s: mode %v, want %v", path, got, want)
				}
			}
			live, err := discovery.List(p.Dir)
			if err != nil || len(live) != 1 {
				t.Fatalf("discovery.List = %v, %v; want the program", live, err)
			}
			want := discovery.Record{
				PID:          p.Pid,
				Address:      p.Agent,
				Executable:   bin["./testdata/progs/forcegc"],
				GoVersion:    runtime.Version(), // the same toolchain built it
				StartTime:    live[0].StartTime,
				AgentVersion: agent.Version,
			}
			if live[0] != want {
				t.Errorf("discovery record %+v, want %+v", live[0], want)
			}

			tt.end(t, p)
			gone(t, sock)
			gone(t, discovery.FilePath(p.Dir, p.Pid))
		})
	}
}

// TestDemo runs the demo as a user would and checks what heaptop relies on:
// the Hello names it, its GC runs often enough for ticks to carry pauses,
// and SIGINT or SIGTERM ends it with exit code 0 and no files left.
func TestDemo(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			p := run(t, "./examples/demo", nil, "-tick=250ms")
			s := agenttest.Watch(t, agenttest.Dial(t, p.Agent))
			if s.Hello.Target.Pid != int64(p.Pid) || s.Hello.Target.Executable != bin["./examples/demo"] {
				t.Errorf("Hello names pid %d %s, want %d %s",
					s.Hello.Target.Pid, s.Hello.Target.Executable, p.Pid, bin["./examples/demo"])
			}
			for tk := s.Tick(t); len(tk.Pauses) == 0; tk = s.Tick(t) {
			}
			p.Cmd.Process.Signal(sig)
			if code := p.Wait(t); code != 0 {
				t.Errorf("exit code %d after %v, want 0", code, sig)
			}
			gone(t, filepath.Join(p.Dir, strconv.Itoa(p.Pid)+".sock"))
			gone(t, discovery.FilePath(p.Dir, p.Pid))
		})
	}
}

// TestDemoTCP runs the demo as its doc says: -tcp with the token from
// $HEAPTOP_TOKEN serves TCP to a client that has the token; -tcp on every
// interface without TLS is refused at Start, and the demo says why in one
// line and exits 1 without listening.
func TestDemoTCP(t *testing.T) {
	p := run(t, "./examples/demo", []string{"HEAPTOP_TOKEN=" + token}, "-tcp", "127.0.0.1:0")
	tcp := strings.TrimPrefix(p.Line(t), "heaptop demo: tcp=")
	s := agenttest.Watch(t, agenttest.Dial(t, tcp, grpc.WithPerRPCCredentials(agenttest.Token(token))))
	if s.Hello.Target.Pid != int64(p.Pid) || s.Hello.Target.Address != p.Agent {
		t.Errorf("Hello over TCP names pid %d at %s, want %d at %s", s.Hello.Target.Pid, s.Hello.Target.Address, p.Pid, p.Agent)
	}

	cmd := exec.Command(bin["./examples/demo"], "-tcp", "0.0.0.0:0")
	cmd.Env = append(os.Environ(), "HEAPTOP_DIR="+filepath.Join(t.TempDir(), "ht"), "HEAPTOP_TOKEN="+token)
	out, err := cmd.CombinedOutput()
	want := "heaptop demo: heaptop agent: TCP 0.0.0.0:0 is not a loopback address: serving it needs both TLS and a Token\n"
	if cmd.ProcessState.ExitCode() != 1 || string(out) != want {
		t.Errorf("demo -tcp 0.0.0.0:0 without TLS: %v, output %q; want exit 1 and %q", err, out, want)
	}
}
