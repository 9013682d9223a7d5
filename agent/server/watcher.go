package server

import (
	"fmt"
	"sync"

	"google.golang.org/protobuf/proto"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
)

// maxPendingPauses bounds the pauses a coalesced tick carries for a client
// that has fallen behind: the size of the runtime's own pause ring, so a
// stalled client costs the target at most 256 pause records (~14 KiB), and
// a client that falls behind by more loses no more than the ring would.
const maxPendingPauses = 256

// maxPendingNotices bounds the notices waiting for a slow client: a
// notice is a line of text, and a client 16 notices behind has missed the
// point of the older ones (they are counted in the next notice sent).
const maxPendingNotices = 16

// A watcher is one Watch stream's mailbox: at most one tick, one capture
// progress, one snapshot document and a few notices waiting to be sent,
// and a signal that something is there. Each kind keeps only its newest
// value (ticks coalesce, keeping their pauses), so a slow client skips
// intermediate states but never receives a stale one.
type watcher struct {
	// ready has room for one signal; an offer signals after storing. A
	// signal may find the mailbox already emptied (take returns nil).
	ready chan struct{}

	mu            sync.Mutex // guards the fields below
	pending       *heaptopv1.Tick
	progress      *heaptopv1.CaptureProgress
	snapshot      *heaptopv1.Snapshot
	notices       []*heaptopv1.Notice
	noticesMissed int
}

func newWatcher() *watcher { return &watcher{ready: make(chan struct{}, 1)} }

// offer puts t in the mailbox, coalescing it with a tick not yet taken. It
// never blocks.
func (w *watcher) offer(t *heaptopv1.Tick) {
	w.mu.Lock()
	if w.pending == nil {
		w.pending = t
	} else {
		w.pending = coalesce(w.pending, t)
	}
	w.mu.Unlock()
	w.signal()
}

// offerEvent puts a graph-tier event (progress, snapshot or notice) in
// the mailbox, replacing an older one of its kind; a snapshot also drops
// the progress of its capture that it supersedes. It never blocks.
func (w *watcher) offerEvent(ev *heaptopv1.WatchEvent) {
	w.mu.Lock()
	switch e := ev.Event.(type) {
	case *heaptopv1.WatchEvent_Progress:
		w.progress = e.Progress
	case *heaptopv1.WatchEvent_Snapshot:
		w.snapshot = e.Snapshot
		if p := w.progress; p != nil && p.SnapshotId <= e.Snapshot.Id && p.Phase != heaptopv1.Phase_PHASE_DONE {
			w.progress = nil
		}
	case *heaptopv1.WatchEvent_Notice:
		if len(w.notices) == maxPendingNotices {
			w.notices = w.notices[1:]
			w.noticesMissed++
		}
		w.notices = append(w.notices, e.Notice)
	}
	w.mu.Unlock()
	w.signal()
}

func (w *watcher) signal() {
	select {
	case w.ready <- struct{}{}:
	default: // a signal is already waiting
	}
}

// take removes the next event to send: notices first, then the snapshot,
// then the progress that followed it, then the tick; nil when the mailbox
// is empty.
func (w *watcher) take() *heaptopv1.WatchEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case len(w.notices) > 0:
		n := w.notices[0]
		w.notices = w.notices[1:]
		if w.noticesMissed > 0 {
			n = &heaptopv1.Notice{Text: fmt.Sprintf("%s (and %d earlier notices this client missed)", n.Text, w.noticesMissed), Error: n.Error}
			w.noticesMissed = 0
		}
		return &heaptopv1.WatchEvent{Event: &heaptopv1.WatchEvent_Notice{Notice: n}}
	case w.snapshot != nil:
		s := w.snapshot
		w.snapshot = nil
		return &heaptopv1.WatchEvent{Event: &heaptopv1.WatchEvent_Snapshot{Snapshot: s}}
	case w.progress != nil:
		p := w.progress
		w.progress = nil
		return &heaptopv1.WatchEvent{Event: &heaptopv1.WatchEvent_Progress{Progress: p}}
	case w.pending != nil:
		t := w.pending
		w.pending = nil
		return &heaptopv1.WatchEvent{Event: &heaptopv1.WatchEvent_Tick{Tick: t}}
	}
	return nil
}

// coalesce returns a new tick standing for older followed by newer: newer's
// gauges and rates, the pauses of both in order (the newest
// maxPendingPauses of them), and every pause not carried counted as missed.
// Neither argument is modified.
func coalesce(older, newer *heaptopv1.Tick) *heaptopv1.Tick {
	t := proto.CloneOf(newer)
	pauses := make([]*heaptopv1.GcPause, 0, len(older.Pauses)+len(newer.Pauses))
	pauses = append(append(pauses, older.Pauses...), newer.Pauses...)
	t.PausesMissed = older.PausesMissed + newer.PausesMissed
	if drop := len(pauses) - maxPendingPauses; drop > 0 {
		pauses = pauses[drop:]
		t.PausesMissed += uint64(drop)
	}
	t.Pauses = pauses
	return t
}
