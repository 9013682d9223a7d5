package agent_test

// A capture interrupted: the agent closed while its dump child runs, and a
// client that gives up on its Capture and hangs up mid-dump. Either way
// the program is left as it was (goroutines, descriptors, memfds, child
// processes, socket and discovery files), promptly. The program is
// testdata/progs/safety with 1,000,000 live objects, so that the dump
// child runs for a second or more.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/internal/agenttest"
	"github.com/heaptop/heaptop/agent/internal/discovery"
)

var bigHeap = []string{"-objects=1000000", "-analysis=-1", "-max-pause=-1ns", "-min-interval=-1ns"}

// children lists the program's child processes and memfds, as seen from
// outside it.
func children(pid int) (kids, memfds []string) {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		kids = append(kids, strings.Fields(string(b))...)
	}
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	for _, fd := range fds {
		if l, _ := os.Readlink(fd); strings.HasPrefix(l, "/memfd:") {
			memfds = append(memfds, l)
		}
	}
	return kids, memfds
}

// waitDumping waits for the capture's dump phase and its child process.
func waitDumping(t *testing.T, ev *events, pid int) []string {
	t.Helper()
	ev.find(t, "the dump phase", func(e *heaptopv1.WatchEvent) bool {
		return e.GetProgress().GetPhase() == heaptopv1.Phase_PHASE_DUMP
	})
	var kids []string
	agenttest.WaitFor(t, "the dump child", func() bool {
		kids, _ = children(pid)
		return len(kids) > 0
	})
	return kids
}

// sameFDs reports whether two descriptor lists agree, sockets counted but
// not named (a socket's inode is new each time).
func sameFDs(a, b []string) bool {
	norm := func(l []string) []string {
		out := make([]string, len(l))
		for i, s := range l {
			if strings.HasPrefix(s, "socket:") {
				s = "socket"
			}
			out[i] = s
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(norm(a), norm(b))
}

func TestCloseMidCapture(t *testing.T) {
	p, before := startSafety(t, nil, bigHeap...)
	conn := agenttest.Dial(t, p.Agent)
	ev := collect(t, agenttest.Watch(t, conn))
	var capErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, capErr = heaptopv1.NewHeaptopClient(conn).Capture(context.Background(), &heaptopv1.CaptureRequest{})
	}()
	kids := waitDumping(t, ev, p.Pid)
	_, memfds := children(p.Pid)

	p.Send(t, "close")
	after := report(t, p)
	wg.Wait()
	closeTook := time.Duration(after.CloseNs)
	t.Logf("Close took %v with dump child %v and %v alive; capture: %v", closeTook, kids, memfds, capErr)
	if closeTook > time.Second {
		t.Errorf("Close took %v mid-capture, want under a second", closeTook)
	}
	if after.CloseErr != "" {
		t.Errorf("Close: %s", after.CloseErr)
	}
	if c := status.Code(capErr); c != codes.Unavailable {
		t.Errorf("the Capture in flight ended with %v, want Unavailable", capErr)
	}
	if len(memfds) == 0 {
		t.Errorf("no memfd while the dump child ran: is the dump elsewhere?")
	}
	if after.Goroutines != before.Goroutines {
		t.Errorf("goroutines: %d before Start, %d after Close", before.Goroutines, after.Goroutines)
	}
	if len(after.Children) != 0 {
		t.Errorf("child processes left: %v", after.Children)
	}
	for _, k := range kids {
		if _, err := os.Stat("/proc/" + k); err == nil {
			if b, _ := os.ReadFile("/proc/" + k + "/status"); strings.Contains(string(b), "PPid:\t"+strconv.Itoa(p.Pid)) {
				t.Errorf("the dump child %s still exists", k)
			}
		}
	}
	if !sameFDs(before.FDs, after.FDs) {
		t.Errorf("descriptors before Start %v, after Close %v", before.FDs, after.FDs)
	}
	gone(t, filepath.Join(p.Dir, strconv.Itoa(p.Pid)+".sock"))
	gone(t, discovery.FilePath(p.Dir, p.Pid))
	p.Send(t, "exit")
	if code := p.Wait(t); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

// TestClientGoneMidCapture: the client that asked for a capture cancels it
// and hangs up while the dump child runs. Its call returns at once; the
// capture goes on for the other client, which receives the snapshot; then
// the program has the goroutines and descriptors it had before that client
// came, no child and no memfd.
func TestClientGoneMidCapture(t *testing.T) {
	p, _ := startSafety(t, nil, bigHeap...)
	ev := collect(t, agenttest.Watch(t, agenttest.Dial(t, p.Agent)))
	time.Sleep(200 * time.Millisecond) // the watcher's goroutines settle
	p.Send(t, "report")
	base := report(t, p)

	gone := agenttest.Dial(t, p.Agent)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := heaptopv1.NewHeaptopClient(gone).Capture(ctx, &heaptopv1.CaptureRequest{})
		done <- err
	}()
	waitDumping(t, ev, p.Pid)
	start := time.Now()
	cancel()
	err := <-done
	returned := time.Since(start)
	gone.Close()
	if status.Code(err) != codes.Canceled || returned > 500*time.Millisecond {
		t.Errorf("the cancelled Capture returned %v after %v, want Canceled at once", err, returned)
	}

	snap := ev.find(t, "the snapshot, for the client still watching", func(e *heaptopv1.WatchEvent) bool {
		return e.GetSnapshot().GetComplete()
	}).GetSnapshot()
	var after progReport
	ok := agenttest.Eventually(func() bool { // the hung-up connection's goroutines end
		p.Send(t, "report")
		after = report(t, p)
		return after.Goroutines == base.Goroutines && sameFDs(base.FDs, after.FDs)
	})
	if !ok {
		t.Errorf("before the client: %d goroutines, descriptors %v; after: %d, %v", base.Goroutines, base.FDs, after.Goroutines, after.FDs)
	}
	if kids, memfds := children(p.Pid); len(kids)+len(memfds) != 0 || len(after.Children) != 0 {
		t.Errorf("left behind: children %v, memfds %v", kids, memfds)
	}
	t.Logf("cancelled Capture returned in %v; the capture went on: snapshot %d, %d objects, dump %v",
		returned, snap.Id, snap.Stats.Objects, time.Duration(snap.Stats.DumpNs))
}

// TestCallLimits: while a capture is in flight, 16 Capture calls join it
// and a 17th is refused with the limit as its reason; a request over 4 KiB
// is refused without being read.
func TestCallLimits(t *testing.T) {
	p, _ := startSafety(t, nil, bigHeap...)
	conn := agenttest.Dial(t, p.Agent)
	c := heaptopv1.NewHeaptopClient(conn)
	ev := collect(t, agenttest.Watch(t, conn))
	ctx, cancel := context.WithTimeout(context.Background(), agenttest.Deadline)
	defer cancel()
	errs := make(chan error, 16)
	for range 16 {
		go func() {
			_, err := c.Capture(ctx, &heaptopv1.CaptureRequest{})
			errs <- err
		}()
	}
	waitDumping(t, ev, p.Pid)
	time.Sleep(200 * time.Millisecond) // all 16 are in
	_, err := c.Capture(ctx, &heaptopv1.CaptureRequest{})
	wantRefusal(t, "a 17th call", err, codes.ResourceExhausted, "the agent is already answering 16 calls, its limit")
	for range 16 {
		if err := <-errs; err != nil {
			t.Errorf("a joined Capture: %v", err)
		}
	}
	_, err = c.Path(ctx, &heaptopv1.PathRequest{Of: &heaptopv1.PathRequest_GroupKey{GroupKey: strings.Repeat("x", 5000)}})
	wantRefusal(t, "a 5,000-byte request", err, codes.ResourceExhausted, "received message larger than max")
}

// TestKilledMidCapture: the program is killed (SIGKILL) while its dump
// child runs. The child dies with it (PR_SET_PDEATHSIG), the dump was in
// memfds (no file), and the next agent to start in the same directory
// removes the dead one's socket and discovery file.
func TestKilledMidCapture(t *testing.T) {
	p, _ := startSafety(t, nil, bigHeap...)
	conn := agenttest.Dial(t, p.Agent)
	ev := collect(t, agenttest.Watch(t, conn))
	go heaptopv1.NewHeaptopClient(conn).Capture(context.Background(), &heaptopv1.CaptureRequest{})
	kids := waitDumping(t, ev, p.Pid)
	files, _ := os.ReadDir(p.Dir)
	p.Cmd.Process.Kill()
	p.Wait(t)
	for _, k := range kids {
		agenttest.WaitFor(t, "the dump child "+k+" to die", func() bool {
			b, err := os.ReadFile("/proc/" + k + "/status")
			return err != nil || !strings.Contains(string(b), "PPid:\t"+strconv.Itoa(p.Pid)) || strings.Contains(string(b), "State:\tZ")
		})
	}
	sock := filepath.Join(p.Dir, strconv.Itoa(p.Pid)+".sock")
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("a killed agent cannot clean up, yet its socket is gone: %v", err)
	}
	if len(files) != 2 {
		t.Errorf("mid-capture the directory held %d files, want the socket and discovery file only", len(files))
	}

	next := run(t, "./testdata/progs/safety", []string{"HEAPTOP_DIR=" + p.Dir})
	report(t, next)
	gone(t, sock)
	gone(t, discovery.FilePath(p.Dir, p.Pid))
	left, _ := os.ReadDir(p.Dir)
	if len(left) != 2 {
		t.Errorf("after the restart the directory holds %d files, want the new agent's 2", len(left))
	}
	next.Send(t, "exit")
	next.Wait(t)
}
