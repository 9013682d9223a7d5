package server

import (
	"sync"

	"google.golang.org/protobuf/proto"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
)

// maxPendingPauses bounds the pauses a coalesced tick carries for a client
// that has fallen behind: the size of the runtime's own pause ring, so a
// stalled client costs the target at most 256 pause records (~14 KiB), and
// a client that falls behind by more loses no more than the ring would.
const maxPendingPauses = 256

// A watcher is one Watch stream's mailbox: at most one tick waiting to be
// sent, and a signal that it is there.
type watcher struct {
	// ready has room for one signal; offer signals after setting pending.
	// A signal may find pending already taken (take returns nil).
	ready chan struct{}

	mu      sync.Mutex // guards pending
	pending *heaptopv1.Tick
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
	select {
	case w.ready <- struct{}{}:
	default: // a signal is already waiting
	}
}

// take empties the mailbox; it returns nil if it was empty.
func (w *watcher) take() *heaptopv1.Tick {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.pending
	w.pending = nil
	return t
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
