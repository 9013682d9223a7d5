package agent_test

// Budgets, on a real process (testdata/progs/safety): a capture predicted
// over the pause budget is refused with the prediction in the reason, taken
// when confirmed (every client told what it costs), and later predictions
// come from what it measured; captures too close together are refused with
// the wait; a heap whose analysis would hold too much memory is refused.

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/internal/agenttest"
	"github.com/heaptop/heaptop/agent/internal/testprog"
)

// startSafety runs testdata/progs/safety with args and returns it with its
// report from before the agent started.
func startSafety(t *testing.T, env []string, args ...string) (*testprog.Process, progReport) {
	t.Helper()
	p := run(t, "./testdata/progs/safety", env, args...)
	return p, report(t, p)
}

type progReport struct {
	Goroutines int      `json:"goroutines"`
	FDs        []string `json:"fds"`
	Children   []string `json:"children"`
	CloseNs    int64    `json:"closeNs"`
	CloseErr   string   `json:"closeErr"`
}

func report(t *testing.T, p *testprog.Process) progReport {
	t.Helper()
	var r progReport
	line := p.Line(t)
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatalf("program report %q: %v", line, err)
	}
	return r
}

// events collects every event of a Watch stream from a goroutine of its own.
type events struct {
	mu  sync.Mutex
	all []*heaptopv1.WatchEvent
	at  []time.Time // when each was received
	err error
}

func collect(t *testing.T, s *agenttest.Stream) *events {
	e := &events{}
	go func() {
		for {
			ev, err := s.Recv()
			e.mu.Lock()
			if err != nil {
				e.err = err
				e.mu.Unlock()
				return
			}
			e.all = append(e.all, ev)
			e.at = append(e.at, time.Now())
			e.mu.Unlock()
		}
	}()
	return e
}

// find returns the first event cond accepts, waiting for it.
func (e *events) find(t *testing.T, what string, cond func(*heaptopv1.WatchEvent) bool) *heaptopv1.WatchEvent {
	t.Helper()
	var found *heaptopv1.WatchEvent
	agenttest.WaitFor(t, what, func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, ev := range e.all {
			if cond(ev) {
				found = ev
				return true
			}
		}
		return false
	})
	return found
}

func (e *events) index(ev *heaptopv1.WatchEvent) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, x := range e.all {
		if x == ev {
			return i
		}
	}
	return -1
}

func capture(t *testing.T, c heaptopv1.HeaptopClient, req *heaptopv1.CaptureRequest) (*heaptopv1.Snapshot, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), agenttest.Deadline)
	defer cancel()
	r, err := c.Capture(ctx, req)
	return r.GetSnapshot(), err
}

// wantRefusal checks err is code with a message containing every part.
func wantRefusal(t *testing.T, what string, err error, code codes.Code, parts ...string) {
	t.Helper()
	st := status.Convert(err)
	if err == nil || st.Code() != code {
		t.Fatalf("%s: %v, want %v", what, err, code)
	}
	for _, p := range parts {
		if !strings.Contains(st.Message(), p) {
			t.Errorf("%s: reason %q lacks %q", what, st.Message(), p)
		}
	}
	if strings.Contains(st.Message(), "\n") {
		t.Errorf("%s: reason is not one line: %q", what, st.Message())
	}
}

var aboutPause = regexp.MustCompile(`would pause the program for about ([0-9.]+)(µs|ms|s)`)

// TestBudgetPause: with a 1 ms budget the first capture is refused on the
// first-capture model; confirmed, it is taken and every Watch client is
// told its predicted cost first; the next is predicted from the pause it
// measured. With a 300 ms budget (captures of a small program paused it
// 7 to 100 ms on this shared machine), once the program's memory grows so far
// that the measured pause plus 50 ms per GiB grown is over the budget, the
// next is refused, with that prediction.
func TestBudgetPause(t *testing.T) {
	t.Run("confirm", func(t *testing.T) {
		p, _ := startSafety(t, nil, "-max-pause=1ms", "-min-interval=-1ns")
		conn := agenttest.Dial(t, p.Agent)
		c := heaptopv1.NewHeaptopClient(conn)
		ev := collect(t, agenttest.Watch(t, conn))

		_, err := capture(t, c, &heaptopv1.CaptureRequest{})
		wantRefusal(t, "unconfirmed", err, codes.FailedPrecondition,
			"capture refused: it would pause the program for about ", "over the agent's 1ms budget", "first-capture model: 20ms + 50ms per GiB", "confirm to take it anyway")
		t.Logf("refused: %s", status.Convert(err).Message())

		snap, err := capture(t, c, &heaptopv1.CaptureRequest{ConfirmCost: true})
		if err != nil || !snap.GetComplete() || snap.GetStats().GetPauseNs() == 0 {
			t.Fatalf("confirmed capture: %v, %v", snap.GetStats(), err)
		}
		notice := ev.find(t, "the cost notice", func(e *heaptopv1.WatchEvent) bool { return e.GetNotice() != nil })
		if txt := notice.GetNotice().GetText(); !strings.HasPrefix(txt, "a capture was confirmed over the pause budget: it will pause the program for about ") || !strings.Contains(txt, "(budget 1ms; ") {
			t.Errorf("notice %q", txt)
		}
		ev.find(t, "the snapshot", func(e *heaptopv1.WatchEvent) bool { return e.GetSnapshot().GetId() == snap.Id })
		if i, j := ev.index(notice), ev.index(ev.find(t, "", func(e *heaptopv1.WatchEvent) bool { return e.GetSnapshot() != nil })); i > j {
			t.Errorf("the cost notice came after the snapshot (events %d, %d)", i, j)
		}

		_, err = capture(t, c, &heaptopv1.CaptureRequest{})
		wantRefusal(t, "after one capture", err, codes.FailedPrecondition, "the worst of the last 1 captures' pauses + 50ms per GiB grown since")
		t.Logf("measured pause %v; refused: %s", time.Duration(snap.Stats.PauseNs), status.Convert(err).Message())
	})

	t.Run("grown", func(t *testing.T) {
		const budget = 300 * time.Millisecond
		p, _ := startSafety(t, nil, "-max-pause="+budget.String(), "-min-interval=-1ns")
		c := heaptopv1.NewHeaptopClient(agenttest.Dial(t, p.Agent))
		snap, err := capture(t, c, &heaptopv1.CaptureRequest{ConfirmCost: true})
		if err != nil {
			t.Fatal(err)
		}
		pause := time.Duration(snap.Stats.PauseNs)
		if pause > budget*8/10 {
			t.Skipf("the machine is too loaded: a small program's capture paused it %v", pause)
		}
		p.Send(t, "grow 0")
		before := mappedLine(t, p)
		// Grow (untouched memory: address space, not RSS; 2.3 GiB cost the
		// program 20 MiB of RSS) until the
		// measured pause plus 50 ms per GiB grown is a quarter over budget.
		grow := int64(float64(budget-pause)*1.25/float64(50*time.Millisecond)*(1<<10)) + 1
		p.Send(t, fmt.Sprintf("grow %d", grow))
		after := mappedLine(t, p)
		_, err = capture(t, c, &heaptopv1.CaptureRequest{})
		wantRefusal(t, "after growing", err, codes.FailedPrecondition, "over the agent's 300ms budget", "the worst of the last 1 captures' pauses + 50ms per GiB grown since")
		m := aboutPause.FindStringSubmatch(status.Convert(err).Message())
		predicted, _ := time.ParseDuration(m[1] + m[2])
		// The agent read its memory before the first capture; the program
		// after it, a little more: the prediction is at least this.
		want := pause + time.Duration(float64(50*time.Millisecond)*float64(after-before)/(1<<30))
		if predicted < want-time.Millisecond || predicted > want+5*time.Millisecond {
			t.Errorf("predicted %v, want about %v (measured %v + 50 ms/GiB × %d MiB grown)", predicted, want, pause, (after-before)>>20)
		}
		t.Logf("measured %v at %d MiB; at %d MiB predicted %v: %s", pause, before>>20, after>>20, predicted, status.Convert(err).Message())
	})
}

func mappedLine(t *testing.T, p *testprog.Process) int64 {
	t.Helper()
	l := p.Line(t)
	n, err := strconv.ParseInt(strings.TrimPrefix(l, "mapped="), 10, 64)
	if err != nil {
		t.Fatalf("program said %q", l)
	}
	return n
}

// TestBudgetInterval: a capture inside the minimum interval after the last
// is refused with the time to wait; max_age_ns still returns the latest;
// after the wait a capture is taken.
func TestBudgetInterval(t *testing.T) {
	const interval = 3 * time.Second
	p, _ := startSafety(t, nil, "-min-interval="+interval.String(), "-max-pause=-1ns")
	c := heaptopv1.NewHeaptopClient(agenttest.Dial(t, p.Agent))
	first, err := capture(t, c, &heaptopv1.CaptureRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = capture(t, c, &heaptopv1.CaptureRequest{ConfirmCost: true})
	wantRefusal(t, "at once", err, codes.ResourceExhausted, "capture refused: the previous capture ended ", "the agent waits 3s between captures; try again in ")
	t.Logf("refused: %s", status.Convert(err).Message())
	latest, err := capture(t, c, &heaptopv1.CaptureRequest{MaxAgeNs: uint64(time.Hour)})
	if err != nil || latest.Id != first.Id {
		t.Errorf("max_age_ns inside the interval: %v, %v; want snapshot %d", latest.GetId(), err, first.Id)
	}
	time.Sleep(interval)
	if second, err := capture(t, c, &heaptopv1.CaptureRequest{}); err != nil || second.Id != first.Id+1 {
		t.Errorf("after the interval: %v, %v", second.GetId(), err)
	}
}

// TestBudgetAnalysisMemory: 1,000,000 live objects, predicted at 80 B each
// (first-capture model) to need 77 MiB held, over a cap of 0.5× a heap of
// about 30 MiB (so the 64 MiB floor); confirming does not waive it.
func TestBudgetAnalysisMemory(t *testing.T) {
	p, _ := startSafety(t, nil, "-objects=1000000", "-analysis=0.5", "-min-interval=-1ns")
	c := heaptopv1.NewHeaptopClient(agenttest.Dial(t, p.Agent))
	for _, confirm := range []bool{false, true} {
		_, err := capture(t, c, &heaptopv1.CaptureRequest{ConfirmCost: confirm})
		wantRefusal(t, fmt.Sprintf("confirm_cost %v", confirm), err, codes.ResourceExhausted,
			"capture refused: analysing 1", "objects would hold about ", "80 B per object, the first-capture model", "over the agent's cap of 0.5× the heap's ")
		t.Logf("refused: %s", status.Convert(err).Message())
	}
}
