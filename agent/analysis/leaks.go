package analysis

import (
	"time"

	"github.com/heaptop/heaptop/agent/graph"
)

// Released is an object the program declared released
// (agent.MarkReleased): it should be unreachable by now.
type Released struct {
	// Addr is the pointer the program gave.
	Addr uint64
	// Handle is the address of the weak-pointer handle the registration
	// made for Addr: its word in the dump is Addr while the object lives
	// and 0 once the GC freed it, so a slot reused since is never taken for
	// the released object.
	Handle uint64
	// Type is the pointer's Go type as reflect names it, Why the program's
	// reason, At when it was declared.
	Type string
	Why  string
	At   time.Time
}

// LeakRef is a released object still live.
type LeakRef struct {
	Released
	Object graph.ObjectID
}

// LeakStats counts what became of the registrations.
type LeakStats struct {
	Registered int // registrations given to Analyse
	Collected  int // freed at the dump (the handle's word is 0)
	Unknown    int // the handle is not in the dump
	Pending    int // alive at the dump but unreachable: going
}

// leaks is phase 3's result.
type leaks struct {
	Leaks     []LeakRef
	LeakStats LeakStats
}

// findLeaks checks each registration against the dump (phase 3).
func (a *Analysis) findLeaks(released []Released) {
	g := a.g
	st := &a.LeakStats
	st.Registered = len(released)
	for _, r := range released {
		h, ok := g.FindObject(r.Handle)
		if !ok {
			st.Unknown++
			continue
		}
		if base, _ := g.Object(h); base != r.Handle {
			st.Unknown++
			continue
		}
		if v, ok := a.hiddenWord(g.ObjectVertex(h), 0); !ok || v != r.Addr {
			st.Collected++
			continue
		}
		o, ok := g.FindObject(r.Addr)
		if !ok {
			st.Unknown++
			continue
		}
		if a.state[o] != Live {
			st.Pending++
			continue
		}
		a.Leaks = append(a.Leaks, LeakRef{Released: r, Object: o})
	}
}
