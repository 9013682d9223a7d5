package snapshot

// Budgets. A capture costs the program a pause (the clone of the dump
// child, capture.Stats.HostPause) and memory (the graph and analysis the
// agent then holds, stats.held_bytes). Before it starts a capture the Taker
// predicts both from the program's current figures (runtime/metrics, no
// stop-the-world) and from what the recent captures measured, and refuses
// one that would exceed the budget, with a one-line reason the client
// shows. The prediction is deliberately pessimistic: a refusal costs the
// user a keypress (confirm_cost), an overrun costs the program its latency.

import (
	"fmt"
	"time"

	"github.com/heaptop/heaptop/agent/internal/units"
	"github.com/heaptop/heaptop/agent/metrics"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Budget bounds what captures may cost the program. A zero field sets no
// bound.
type Budget struct {
	// MaxPause is the longest predicted host pause a capture may have
	// unless the request confirms the cost (CaptureRequest.confirm_cost).
	MaxPause time.Duration
	// MinInterval is the shortest time from the end of one capture to the
	// start of the next; a request inside it is refused (it may still reuse
	// the latest snapshot with max_age_ns).
	MinInterval time.Duration
	// MaxAnalysisRatio bounds the memory the agent holds for a snapshot,
	// predicted, to this many times the heap's allocated bytes (never less
	// than analysisFloor). Not waived by confirm_cost: it guards the
	// program against running out of memory.
	MaxAnalysisRatio float64
}

// The model of a first capture, before any was measured. The host pause
// is two stops of the world and a clone whose cost grows with mapped
// memory (page tables are copied): measured 7.0 ms at 21 MiB of heap and
// 7.8 ms at 201 MiB (clone 3.1 and 3.7 ms; internal/heapbench, 2 cores,
// load average 4), so 20 ms plus 50 ms per GiB is some three times the
// fixed part and fifteen times the slope. Held memory was measured at 53
// bytes per object (the load test's program, RELIABILITY.md); 80 is the
// first guess.
const (
	firstPauseBase   = 20 * time.Millisecond
	firstPausePerGiB = 50 * time.Millisecond
	firstHeldPerObj  = 80
	// analysisFloor: small heaps may always be analysed; their graph is
	// small in absolute terms even when large beside the heap.
	analysisFloor = 64 << 20
	// measuredWindow: predictions use the worst of this many recent
	// captures, so one slow capture (a loaded machine) weighs for a while.
	measuredWindow = 8
)

// figures are the program's current sizes, read without stopping the world.
type figures struct {
	mapped      int64 // Go memory mapped and not released: what clone copies page tables of
	objectBytes int64 // allocated heap slots
	objects     int64
}

var figureMetrics = []string{
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/heap/objects:bytes",
	"/gc/heap/objects:objects",
}

func readFigures() figures {
	v := metrics.Uint64s(figureMetrics...)
	return figures{mapped: v[0] - v[1], objectBytes: v[2], objects: v[3]}
}

// measured is one capture's costs, as the budget learns from them.
type measured struct {
	mapped  int64
	pause   time.Duration
	objects int64
	held    int64 // 0 until the capture completed
}

// meter keeps the recent captures' costs and the end of the last one. It is
// guarded by Taker.mu.
type meter struct {
	recent  []measured // newest last, at most measuredWindow
	lastEnd time.Time
}

func (m *meter) add(c measured) {
	if len(m.recent) == measuredWindow {
		m.recent = append(m.recent[:0], m.recent[1:]...)
	}
	m.recent = append(m.recent, c)
}

// setHeld records the held memory of the newest capture.
func (m *meter) setHeld(objects, held int64) {
	if n := len(m.recent); n > 0 {
		m.recent[n-1].objects, m.recent[n-1].held = objects, held
	}
}

// prediction is a predicted cost and how it was made, for the reason text.
type prediction struct {
	value int64 // ns or bytes
	how   string
}

// pause predicts the host pause at mapped bytes. The pause is a part that
// does not depend on memory (two stops of the world; on a loaded machine
// mostly the wait for every thread to stop, measured from 7 to 150 ms on
// this project's shared 2-core machine) and the clone's copy of page
// tables, which grows with memory (3.4 ms per GiB measured). The measured
// pauses of recent captures stand for the first part (the worst of them:
// a loaded machine weighs for a while); growth since a capture is charged
// at firstPausePerGiB, and a smaller heap is never credited. Scaling the
// whole pause in proportion to memory was tried and fails: a 150 ms pause
// at 5 MiB predicted 770 ms at 28 MiB.
func (m *meter) pause(mapped int64) prediction {
	growth := func(from int64) time.Duration {
		return time.Duration(float64(firstPausePerGiB) * float64(max(0, mapped-from)) / (1 << 30))
	}
	if len(m.recent) == 0 {
		return prediction{int64(firstPauseBase + growth(0)), fmt.Sprintf("first-capture model: %v + %v per GiB", firstPauseBase, firstPausePerGiB)}
	}
	var worst time.Duration
	for _, c := range m.recent {
		worst = max(worst, c.pause+growth(c.mapped))
	}
	return prediction{int64(worst), fmt.Sprintf("the worst of the last %d captures' pauses + %v per GiB grown since", len(m.recent), firstPausePerGiB)}
}

// held predicts the memory held for a snapshot of objects objects.
func (m *meter) held(objects int64) prediction {
	var perObj float64
	n := 0
	for _, c := range m.recent {
		if c.held > 0 && c.objects > 0 {
			perObj = max(perObj, float64(c.held)/float64(c.objects))
			n++
		}
	}
	how := fmt.Sprintf("%.0f B per object measured over the last %d captures", perObj, n)
	if n == 0 {
		perObj, how = firstHeldPerObj, fmt.Sprintf("%d B per object, the first-capture model", firstHeldPerObj)
	}
	return prediction{int64(perObj * float64(objects)), how}
}

// check returns why a new capture may not start now, or nil. confirmed
// waives the pause budget only.
func (b Budget) check(m *meter, now time.Time, f figures, confirmed bool) error {
	if b.MinInterval > 0 && !m.lastEnd.IsZero() {
		if since := now.Sub(m.lastEnd); since < b.MinInterval {
			return status.Errorf(codes.ResourceExhausted,
				"capture refused: the previous capture ended %v ago and the agent waits %v between captures; try again in %v",
				round(since), b.MinInterval, round(b.MinInterval-since))
		}
	}
	if err := b.checkHeld(m, f.objects, f.objectBytes); err != nil {
		return err
	}
	if p := m.pause(f.mapped); b.MaxPause > 0 && time.Duration(p.value) > b.MaxPause && !confirmed {
		return status.Errorf(codes.FailedPrecondition,
			"capture refused: it would pause the program for about %v, over the agent's %v budget (%s of Go memory; %s); confirm to take it anyway",
			round(time.Duration(p.value)), b.MaxPause, units.Bytes(f.mapped), p.how)
	}
	return nil
}

// checkHeld refuses a snapshot of objects objects whose held memory is
// predicted over the cap for a heap of heapBytes.
func (b Budget) checkHeld(m *meter, objects, heapBytes int64) error {
	if b.MaxAnalysisRatio <= 0 {
		return nil
	}
	limit := max(int64(b.MaxAnalysisRatio*float64(heapBytes)), analysisFloor)
	if p := m.held(objects); p.value > limit {
		return status.Errorf(codes.ResourceExhausted,
			"capture refused: analysing %d objects would hold about %s (%s), over the agent's cap of %g× the heap's %s",
			objects, units.Bytes(uint64(p.value)), p.how, b.MaxAnalysisRatio, units.Bytes(int64(heapBytes)))
	}
	return nil
}

// overBudget says what a confirmed capture over the pause budget will
// cost, for the notice every client sees; "" if it is within it.
func (b Budget) overBudget(m *meter, f figures) string {
	p := m.pause(f.mapped)
	if b.MaxPause <= 0 || time.Duration(p.value) <= b.MaxPause {
		return ""
	}
	return fmt.Sprintf("a capture was confirmed over the pause budget: it will pause the program for about %v (budget %v; %s of Go memory)",
		round(time.Duration(p.value)), b.MaxPause, units.Bytes(f.mapped))
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d
}
