package agent_test

// The load test: testdata/progs/load allocating 200,000 objects a second
// from 1,000 goroutines, 8 clients watching, a capture every 4 s. Every
// client must receive every snapshot (the agent runs with its production
// defaults; the captures confirm their cost, as a user pressing a key
// would), and the program must run on; the
// test reports the program's allocation rate before the clients came and
// while they watched, its probe's longest waits, and the agent's pauses.
//
// In the suite it runs 10 s, and at least 2 captures. The full run:
//
//	cd agent && HEAPTOP_LOAD=2m go test -count=1 -run TestLoad -v .

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/internal/agenttest"
)

type loadWindow struct {
	StartNs  int64  `json:"startNs"`
	Allocs   uint64 `json:"allocs"`
	MaxGapNs int64  `json:"maxGapNs"`
}

func TestLoad(t *testing.T) {
	duration := 10 * time.Second
	if v := os.Getenv("HEAPTOP_LOAD"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("HEAPTOP_LOAD=%q: %v", v, err)
		}
		duration = d
	}
	const (
		clients = 8
		every   = 4 * time.Second
		rate    = 200000
	)
	p := run(t, "./testdata/progs/load", nil, "-goroutines=1000", fmt.Sprintf("-rate=%d", rate))
	time.Sleep(3 * time.Second) // the baseline: no client
	baselineEnd := time.Now()

	var streams []*events
	var conns []heaptopv1.HeaptopClient
	for range clients {
		conn := agenttest.Dial(t, p.Agent)
		conns = append(conns, heaptopv1.NewHeaptopClient(conn))
		streams = append(streams, collect(t, agenttest.WatchFor(t, conn, duration+5*time.Minute)))
	}
	loadStart := time.Now()
	var ids []uint64
	var pauses, totals []time.Duration
	var held []string // bytes held per object
	for end := time.Now().Add(duration); time.Now().Before(end) || len(ids) < 2; {
		next := time.Now().Add(every)
		ctx, cancel := context.WithTimeout(context.Background(), 3*agenttest.Deadline)
		r, err := conns[len(ids)%clients].Capture(ctx, &heaptopv1.CaptureRequest{ConfirmCost: true})
		cancel()
		if err != nil {
			streams[0].mu.Lock()
			for i, ev := range streams[0].all {
				if pr := ev.GetProgress(); pr != nil {
					t.Logf("%v %v %v %s", streams[0].at[i].Format("15:04:05.000"), pr.Phase, time.Duration(pr.ElapsedNs), pr.Detail)
				}
			}
			streams[0].mu.Unlock()
			t.Fatalf("capture %d: %v", len(ids)+1, err)
		}
		s := r.Snapshot
		ids = append(ids, s.Id)
		held = append(held, fmt.Sprintf("%.0f", float64(s.Stats.HeldBytes)/float64(s.Stats.Objects)))
		pauses = append(pauses, time.Duration(s.Stats.PauseNs))
		totals = append(totals, time.Duration(s.Stats.DumpNs+s.Stats.ParseNs+s.Stats.NameNs+s.Stats.AnalyseNs+s.Stats.DominatorsNs))
		// The agent's default MinCaptureInterval is 2 s after the last.
		time.Sleep(max(time.Until(next), 2100*time.Millisecond))
	}
	for i, e := range streams {
		for _, id := range ids {
			e.find(t, fmt.Sprintf("client %d: snapshot %d", i, id), func(ev *heaptopv1.WatchEvent) bool {
				return ev.GetSnapshot().GetId() == id && ev.GetSnapshot().GetComplete()
			})
		}
		e.mu.Lock()
		if e.err != nil {
			t.Errorf("client %d's stream ended: %v", i, e.err)
		}
		e.mu.Unlock()
	}
	loadEnd := time.Now()

	p.Send(t, "stats")
	var windows []loadWindow
	if err := json.Unmarshal([]byte(p.Line(t)), &windows); err != nil {
		t.Fatal(err)
	}
	p.Send(t, "exit")
	if code := p.Wait(t); code != 0 {
		t.Fatalf("the program exited %d under load", code)
	}

	// Windows are stamped from the program's start; ours from the test's
	// start of the program, within a few ms of it.
	procStart := baselineEnd.Add(-3 * time.Second)
	var base, load []loadWindow
	for _, w := range windows[1:] { // the first holds start-up
		at := procStart.Add(time.Duration(w.StartNs))
		switch {
		case at.Before(baselineEnd.Add(-250 * time.Millisecond)):
			base = append(base, w)
		case at.After(loadStart) && at.Before(loadEnd.Add(-250*time.Millisecond)):
			load = append(load, w)
		}
	}
	baseRate, loadRate := perSecond(base), perSecond(load)
	if baseRate < 100000 {
		t.Errorf("the program allocated %.0f objects/s with no client, want ≥ 100,000", baseRate)
	}
	gaps := func(ws []loadWindow) []time.Duration {
		var g []time.Duration
		for _, w := range ws {
			g = append(g, time.Duration(w.MaxGapNs))
		}
		slices.Sort(g)
		return g
	}
	slices.Sort(pauses)
	slices.Sort(totals)
	t.Logf("%d captures, every one received by all %d clients", len(ids), clients)
	t.Logf("allocation rate: %.0f objects/s with no client, %.0f with %d clients and captures every %v (%.1f%% drop)",
		baseRate, loadRate, clients, every, 100*(1-loadRate/baseRate))
	t.Logf("probe's longest wait per 250 ms window, no client: %s", quantiles(gaps(base)))
	t.Logf("probe's longest wait per 250 ms window, under load: %s", quantiles(gaps(load)))
	t.Logf("agent-measured host pause per capture: %s", quantiles(pauses))
	// What the agent was doing when the program stalled: the last
	// progress a client had received by the end of each window whose probe
	// waited 200 ms or more.
	e := streams[0]
	e.mu.Lock()
	for _, w := range load {
		if w.MaxGapNs < int64(200*time.Millisecond) && w.MaxGapNs != 0 {
			continue
		}
		end := procStart.Add(time.Duration(w.StartNs) + 250*time.Millisecond)
		phase := "no capture yet"
		for i, ev := range e.all {
			if e.at[i].After(end) {
				break
			}
			if pr := ev.GetProgress(); pr != nil {
				phase = pr.Phase.String()
			} else if ev.GetSnapshot().GetComplete() {
				phase = "between captures"
			}
		}
		t.Logf("stall: window at %v waited %v (0: the probe never woke), agent in %s",
			time.Duration(w.StartNs).Round(time.Millisecond), time.Duration(w.MaxGapNs).Round(time.Millisecond), phase)
	}
	e.mu.Unlock()
	t.Logf("held bytes per object: %v", held)
	t.Logf("capture pipeline time (dump+parse+name+analyse+dominators): %s", quantiles(totals))
}

func perSecond(ws []loadWindow) float64 {
	var n uint64
	for _, w := range ws {
		n += w.Allocs
	}
	if len(ws) == 0 {
		return 0
	}
	return float64(n) / (float64(len(ws)) * 0.25)
}

// quantiles prints min, p50, p90, p99 and max of sorted durations.
func quantiles(d []time.Duration) string {
	if len(d) == 0 {
		return "none"
	}
	q := func(f float64) time.Duration { return d[min(len(d)-1, int(f*float64(len(d))))] }
	r := func(x time.Duration) time.Duration { return x.Round(100 * time.Microsecond) }
	return fmt.Sprintf("n=%d min %v p50 %v p90 %v p99 %v max %v", len(d), r(d[0]), r(q(0.5)), r(q(0.9)), r(q(0.99)), r(d[len(d)-1]))
}
