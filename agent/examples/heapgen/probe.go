package main

import (
	"sync"
	"time"

	"github.com/heaptop/heaptop/agent/internal/heapgenwire"
)

// wakeProbe measures, by the process's own clock, how long its goroutines
// could not run: one goroutine sleeps period at a time and keeps the
// longest time between two wake-ups. Whatever stops the process — a
// debugger's ptrace stop, a stop-the-world, gcore — shows up as one long
// gap, so every tool's pause is measured the same way, from inside.
type wakeProbe struct {
	period time.Duration

	mu      sync.Mutex // guards the fields below
	since   time.Time  // start of the current window
	last    time.Time  // previous wake-up
	longest time.Duration
	wakeups uint64
}

func startProbe(period time.Duration) *wakeProbe {
	now := time.Now()
	p := &wakeProbe{period: period, since: now, last: now}
	go p.run()
	return p
}

func (p *wakeProbe) run() {
	for {
		time.Sleep(p.period)
		now := time.Now() // monotonic
		p.mu.Lock()
		p.longest = max(p.longest, now.Sub(p.last))
		p.last = now
		p.wakeups++
		p.mu.Unlock()
	}
}

// report returns the window since the previous report and starts a new one.
// A gap still open (the probe has not woken since the process resumed)
// counts up to now.
func (p *wakeProbe) report() heapgenwire.Gap {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	g := heapgenwire.Gap{
		PeriodNs: uint64(p.period),
		MaxNs:    uint64(max(p.longest, now.Sub(p.last))),
		WindowNs: uint64(now.Sub(p.since)),
		Wakeups:  p.wakeups,
	}
	p.since, p.longest, p.wakeups = now, 0, 0
	return g
}
