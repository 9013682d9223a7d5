package server

import heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"

// history keeps the most recent ticks for new clients. It is a ring: once
// full, each add overwrites the oldest. Not safe for concurrent use (Server.mu
// guards it).
type history struct {
	ring []*heaptopv1.Tick // len(ring) is the capacity
	next int               // index the next add writes
	n    int               // ticks held, ≤ len(ring)
}

func newHistory(capacity int) *history {
	return &history{ring: make([]*heaptopv1.Tick, max(capacity, 0))}
}

func (h *history) add(t *heaptopv1.Tick) {
	if len(h.ring) == 0 {
		return
	}
	h.ring[h.next] = t
	h.next = (h.next + 1) % len(h.ring)
	h.n = min(h.n+1, len(h.ring))
}

// ticks returns the held ticks, oldest first, in a new slice.
func (h *history) ticks() []*heaptopv1.Tick {
	out := make([]*heaptopv1.Tick, 0, h.n)
	start := h.next - h.n
	if start < 0 {
		start += len(h.ring)
	}
	for i := range h.n {
		out = append(out, h.ring[(start+i)%len(h.ring)])
	}
	return out
}
