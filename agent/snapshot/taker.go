package snapshot

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/heaptop/heaptop/agent/analysis"
	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/capture"
	"github.com/heaptop/heaptop/agent/graph"
	"github.com/heaptop/heaptop/agent/internal/pipeline"
	"github.com/heaptop/heaptop/agent/naming"
	"github.com/heaptop/heaptop/agent/symbols"
)

// Config is what a Taker needs. Capturer, Image and Publish are required.
type Config struct {
	Capturer *capture.Capturer
	// Image is this process's executable (symbols.Self()).
	Image *symbols.Image
	// Packages classifies this program's packages (analysis.ProgramPackages()).
	Packages analysis.Packages
	// Released lists the objects the program declared released and how
	// many it could not watch. Optional.
	Released func() ([]analysis.Released, int)
	// Publish offers an event to every Watch stream; it must not block.
	Publish func(*heaptopv1.WatchEvent)
	// OnPanic is told of a panic a capture recovered from (the capture
	// fails, nothing else does).
	OnPanic func(recovered any, stack []byte)
	// Budget bounds what a capture may cost the program (budget.go).
	Budget Budget
	// EarlyDocument is how long a capture must have taken by the end of
	// its analysis phase for a findings-first document (complete false) to
	// go out before the dominator tree is ready. Default
	// defaultEarlyDocument; negative: always.
	EarlyDocument time.Duration
}

// defaultEarlyDocument: the dominator phase takes about as long as
// everything before it (BENCHMARKS.md, "analysis"), so a capture that
// took a quarter of a second so far is one where a person would wait
// another for the tree; below that, one complete document is better.
const defaultEarlyDocument = 250 * time.Millisecond

// Taker takes heap snapshots of this process, one at a time, and serves
// the latest one. It implements server.Graphs.
type Taker struct {
	cfg Config

	mu     sync.Mutex // guards the fields below
	flight *flight    // the capture in progress, nil if none
	latest *held      // the latest complete snapshot, one reference held
	memory *analysis.Memory
	nextID uint64
	closed bool
	meter  meter          // the recent captures' costs, for Budget
	wg     sync.WaitGroup // the capture in progress

	// closing is closed by Close: a DWARF load under way gives up.
	closing chan struct{}
}

// flight is a capture in progress; done is closed once doc or err is set.
type flight struct {
	done chan struct{}
	doc  *heaptopv1.Snapshot
	err  error
}

// NewTaker returns a Taker.
func NewTaker(c Config) *Taker {
	if c.EarlyDocument == 0 {
		c.EarlyDocument = defaultEarlyDocument
	}
	if c.Released == nil {
		c.Released = func() ([]analysis.Released, int) { return nil, 0 }
	}
	if c.OnPanic == nil {
		c.OnPanic = func(any, []byte) {}
	}
	return &Taker{cfg: c, nextID: 1, closing: make(chan struct{})}
}

// Capture returns the complete document of a snapshot: the latest, if
// younger than req.MaxAgeNs; the one in flight, if any (whatever its
// ForceGc); else a new one, if the Budget allows it (a status error with the
// reason if not; req.ConfirmCost waives the pause budget, and every client
// is told what the capture will cost). ctx bounds only this caller's wait.
func (t *Taker) Capture(ctx context.Context, req *heaptopv1.CaptureRequest) (*heaptopv1.Snapshot, error) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil, status.Error(codes.Unavailable, "the agent is closing")
	}
	if l := t.latest; l != nil && req.GetMaxAgeNs() > 0 && time.Since(l.capturedAt) < time.Duration(req.GetMaxAgeNs()) {
		t.mu.Unlock()
		return l.doc, nil
	}
	f := t.flight
	if f == nil {
		fig := readFigures()
		if err := t.cfg.Budget.check(&t.meter, time.Now(), fig, req.GetConfirmCost()); err != nil {
			t.mu.Unlock()
			return nil, err
		}
		if cost := t.cfg.Budget.overBudget(&t.meter, fig); cost != "" {
			t.cfg.Publish(&heaptopv1.WatchEvent{Event: &heaptopv1.WatchEvent_Notice{Notice: &heaptopv1.Notice{Text: cost}}})
		}
		f = &flight{done: make(chan struct{})}
		t.flight = f
		id := t.nextID
		t.nextID++
		t.wg.Add(1)
		go t.run(f, id, req.GetForceGc())
	}
	t.mu.Unlock()
	select {
	case <-f.done:
		return f.doc, f.err
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	}
}

// Expand implements server.Graphs.
func (t *Taker) Expand(_ context.Context, req *heaptopv1.ExpandRequest) (*heaptopv1.ExpandReply, error) {
	return answer(t, req, (*held).expand)
}

// Members implements server.Graphs.
func (t *Taker) Members(_ context.Context, req *heaptopv1.MembersRequest) (*heaptopv1.MembersReply, error) {
	return answer(t, req, (*held).members)
}

// Groups implements server.Graphs.
func (t *Taker) Groups(_ context.Context, req *heaptopv1.GroupsRequest) (*heaptopv1.GroupsReply, error) {
	return answer(t, req, (*held).listGroups)
}

// Path implements server.Graphs.
func (t *Taker) Path(_ context.Context, req *heaptopv1.PathRequest) (*heaptopv1.PathReply, error) {
	return answer(t, req, (*held).path)
}

// answer answers a query about the held snapshot the request names,
// holding a reference to it meanwhile.
func answer[Req interface{ GetSnapshotId() uint64 }, Reply any](t *Taker, req Req, query func(*held, Req) (Reply, error)) (Reply, error) {
	h, err := t.acquire(req.GetSnapshotId())
	if err != nil {
		var none Reply
		return none, err
	}
	defer h.release()
	return query(h, req)
}

// acquire returns the held snapshot id with a reference, if it is the
// latest.
func (t *Taker) acquire(id uint64) (*held, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.latest == nil || t.latest.id != id {
		latest := "none"
		if t.latest != nil {
			latest = t.latest.describe()
		}
		return nil, status.Errorf(codes.NotFound, "snapshot %d is not held: the agent keeps the latest only (%s)", id, latest)
	}
	t.latest.acquire()
	return t.latest, nil
}

// Close stops a capture in progress (a dump child is killed; analysis
// stops at its next phase), waits for it and releases the latest snapshot.
// Idempotent.
func (t *Taker) Close() {
	t.mu.Lock()
	if !t.closed {
		close(t.closing)
	}
	t.closed = true
	t.mu.Unlock()
	t.cfg.Capturer.Close()
	t.wg.Wait()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.latest.release()
	t.latest = nil
	t.memory.Close()
	t.memory = nil
}

var errClosing = status.Error(codes.Unavailable, "the agent closed during the capture")

// loadImage starts loading the executable's DWARF for naming, and returns
// a wait for the load to end. The first capture of a process loads it
// while the dump child writes (about 0.1 s of CPU for a binary the size of
// one with gRPC: BENCHMARKS.md), instead of naming loading it after the
// dump; later captures find it loaded. The wait keeps the load from
// outliving the capture; Close makes the load give up (between DWARF
// sections), so that closing mid-capture does not wait for all of it.
func (t *Taker) loadImage() (wait func()) {
	loaded := make(chan struct{})
	go func() {
		defer close(loaded)
		defer func() {
			if r := recover(); r != nil {
				t.cfg.OnPanic(r, debug.Stack())
			}
		}()
		// Its error (an unreadable executable) was pipeline.Input's.
		t.cfg.Image.LoadUntil(t.closing)
	}()
	return func() { <-loaded }
}

// run takes snapshot id and publishes its documents; a panic fails this
// capture only.
func (t *Taker) run(f *flight, id uint64, gc bool) {
	defer t.wg.Done()
	mapped := readFigures().mapped
	var doc *heaptopv1.Snapshot
	var err error
	defer func() {
		if r := recover(); r != nil {
			t.cfg.OnPanic(r, debug.Stack())
			doc, err = nil, status.Errorf(codes.Internal, "heaptop agent: capture %d failed: %v", id, r)
		}
		if err != nil {
			t.cfg.Publish(&heaptopv1.WatchEvent{Event: &heaptopv1.WatchEvent_Notice{Notice: &heaptopv1.Notice{Text: status.Convert(err).Message(), Error: true}}})
		}
		// Before the flight ends: a capture is over when what it cost the
		// program's memory is given back. Not when the agent is closing:
		// Close waits for this, and a forced GC cycle takes seconds at 10⁷
		// objects.
		t.mu.Lock()
		closing := t.closed
		t.mu.Unlock()
		if !closing {
			returnGrowth(mapped)
		}
		t.mu.Lock()
		t.flight = nil
		t.meter.lastEnd = time.Now()
		f.doc, f.err = doc, err
		close(f.done)
		t.mu.Unlock()
	}()
	doc, err = t.take(id, gc)
}

// take runs the pipeline: dump, parse, name, analyse, dominators.
func (t *Taker) take(id uint64, gc bool) (*heaptopv1.Snapshot, error) {
	start := time.Now()
	progress := func(p heaptopv1.Phase, detail string) error {
		t.cfg.Publish(&heaptopv1.WatchEvent{Event: &heaptopv1.WatchEvent_Progress{Progress: &heaptopv1.CaptureProgress{
			SnapshotId: id, Phase: p, ElapsedNs: uint64(time.Since(start)), Detail: detail}}})
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.closed {
			return errClosing
		}
		return nil
	}
	// The pipeline's phases map and unmap big arrays one after another:
	// reuse them within this snapshot (first touches are slow), and keep
	// none after it.
	graph.KeepFreed()
	defer graph.ReleaseKept()
	var k costs
	k.sampleRate = memProfileRate()

	if err := progress(heaptopv1.Phase_PHASE_DUMP, ""); err != nil {
		return nil, err
	}
	if gc {
		runtime.GC()
	}
	// The registrations are read on both sides of the dump: the program
	// runs on while the dump is written and analysed, and a released
	// object freed meanwhile takes its registration with it, though the
	// dump may still hold it reachable. A registration made after the dump
	// names nothing in it and is counted as unknown.
	before, _ := t.cfg.Released()
	mapped := readFigures().mapped
	in, err := pipeline.Input(t.cfg.Image)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "heaptop agent: reading this executable: %v", err)
	}
	// The graph's first pass reads the dump as the child writes it; the
	// parse phase is the second pass, after the child is done. The image
	// loads meanwhile (once the child runs, so its buffers are not in the
	// dump); Build's return orders the callback's write before the wait.
	var imageLoaded func()
	defer func() {
		if imageLoaded != nil {
			imageLoaded()
		}
	}()
	g, d, build, err := pipeline.Build(context.Background(), t.cfg.Capturer, in, func() {
		if imageLoaded == nil {
			imageLoaded = t.loadImage()
		}
	})
	released, dropped := t.cfg.Released()
	released = mergeReleased(before, released)
	if err != nil {
		if errors.Is(err, capture.ErrClosed) {
			return nil, errClosing
		}
		if errors.Is(err, capture.ErrRefused) {
			return nil, status.Error(codes.ResourceExhausted, err.Error())
		}
		return nil, status.Errorf(codes.Internal, "heaptop agent: the heap dump failed or could not be read: %v", err)
	}
	capturedAt := d.Stats.Start
	k.capture = d.Stats
	t.mu.Lock()
	t.meter.add(measured{mapped: mapped, pause: d.Stats.HostPause})
	t.mu.Unlock()
	if err := progress(heaptopv1.Phase_PHASE_PARSE, fmt.Sprintf("%d MiB of dump", d.Stats.Size>>20)); err != nil {
		g.Close()
		return nil, err
	}
	k.parse = build
	closeGraph := true
	defer func() {
		if closeGraph {
			g.Close()
		}
	}()
	t.mu.Lock()
	err = t.cfg.Budget.checkHeld(&t.meter, int64(g.NumObjects()), readFigures().objectBytes)
	t.mu.Unlock()
	if err != nil {
		return nil, err
	}

	if err := progress(heaptopv1.Phase_PHASE_NAME, fmt.Sprintf("%d objects", g.NumObjects())); err != nil {
		return nil, err
	}
	phase := time.Now()
	n, err := naming.Name(g, t.cfg.Image)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "heaptop agent: naming the heap: %v", err)
	}
	k.name = time.Since(phase)
	k.coverage, k.degraded = n.Coverage(), n.Degraded()

	if err := progress(heaptopv1.Phase_PHASE_ANALYSE, ""); err != nil {
		return nil, err
	}
	phase = time.Now()
	k.released = dropped
	t.mu.Lock()
	previous := t.memory
	if t.latest != nil {
		k.growthBase = t.latest.id
	}
	t.mu.Unlock()
	a, mem, err := analysis.Analyse(analysis.Input{Graph: g, Names: names{g: g, n: n, im: t.cfg.Image},
		Packages: t.cfg.Packages, Previous: previous, Released: released})
	if err != nil {
		return nil, status.Errorf(codes.Internal, "heaptop agent: analysing the heap: %v", err)
	}
	k.analyse = time.Since(phase)
	h := newHeld(id, capturedAt, g, n, t.cfg.Image, a)
	closeGraph = false
	keep := false
	defer func() {
		if !keep {
			mem.Close()
			h.release()
		}
	}()
	if time.Since(start) >= t.cfg.EarlyDocument {
		early := h.document(false, k)
		t.cfg.Publish(&heaptopv1.WatchEvent{Event: &heaptopv1.WatchEvent_Snapshot{Snapshot: early}})
	}

	if err := progress(heaptopv1.Phase_PHASE_DOMINATORS, fmt.Sprintf("%d vertices", a.NumVertices())); err != nil {
		return nil, err
	}
	phase = time.Now()
	a.Complete()
	k.dominators = time.Since(phase)
	doc := h.document(true, k)
	h.doc = doc

	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil, errClosing
	}
	old, oldMem := t.latest, t.memory
	t.latest, t.memory = h, mem
	t.meter.setHeld(int64(doc.Stats.Objects), int64(doc.Stats.HeldBytes))
	keep = true
	t.mu.Unlock()
	old.release()
	oldMem.Close() // previous: single flight, nothing else read it
	t.cfg.Publish(&heaptopv1.WatchEvent{Event: &heaptopv1.WatchEvent_Snapshot{Snapshot: doc}})
	t.cfg.Publish(&heaptopv1.WatchEvent{Event: &heaptopv1.WatchEvent_Progress{Progress: &heaptopv1.CaptureProgress{
		SnapshotId: id, Phase: heaptopv1.Phase_PHASE_DONE, Fraction: 1, ElapsedNs: uint64(time.Since(start))}}})
	return doc, nil
}

// A capture allocates on the Go heap (naming's queues, the document's
// tables, and the first time the executable's DWARF index), and the
// runtime keeps freed heap pages resident up to a tenth over its next GC
// goal, which the capture's own live tables raised: after one capture of
// heapgen -objects 1e6 the target's Go heap went from 111 to 219 MB
// resident, and stayed. When a capture grew the memory the runtime holds
// by more than returnGrowthFraction of what it held before (and
// returnGrowthMin), returnGrowth gives it back with debug.FreeOSMemory:
// one forced GC cycle, concurrent (its stops are those of any GC cycle,
// well under the pause budget), costing CPU in proportion to the live
// heap: 1-8 % of the capture's own CPU at 10⁶ objects, 13 % at 10⁷ in the
// runs measured (BENCHMARKS.md, "What a snapshot leaves in the target").
const (
	returnGrowthFraction = 10 // a tenth: the slack the runtime keeps itself
	returnGrowthMin      = 4 << 20
)

// returnGrowth returns the Go heap's free pages to the system if the
// memory the runtime holds grew by more than the thresholds above since it
// held before.
func returnGrowth(before int64) {
	if grown := readFigures().mapped - before; grown > returnGrowthMin && grown > before/returnGrowthFraction {
		debug.FreeOSMemory()
	}
}

// mergeReleased is the union of two lists of registrations (each oldest
// first), one per weak handle, oldest first.
func mergeReleased(x, y []analysis.Released) []analysis.Released {
	if len(x) == 0 {
		return y
	}
	seen := make(map[uint64]bool, len(y))
	for _, r := range y {
		seen[r.Handle] = true
	}
	out := slices.Clone(y)
	for _, r := range x {
		if !seen[r.Handle] {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b analysis.Released) int { return a.At.Compare(b.At) })
	return out
}
