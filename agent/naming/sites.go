package naming

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/heaptop/heaptop/agent/graph"
	"github.com/heaptop/heaptop/agent/heapdump"
)

// SiteID numbers allocation sites, interned per Names: 1..NumSites()-1;
// NoSite (0) is an object the memory profiler did not sample.
type SiteID uint32

// NoSite is the SiteID of an object without an allocation sample.
const NoSite SiteID = 0

// Site is where an object was allocated: the first frame of its
// allocation stack outside the runtime (see allocFrame). Function is the
// physical function the dump names for that frame; when the allocating
// function was inlined into it, File and Line are the inlined function's
// (they come from the innermost position at the frame's pc), so the
// file:line is always the line that allocated.
type Site struct {
	Function string
	File     string // as compiled (absolute, or module-relative with -trimpath)
	Line     int
	// Inlined: the frame is code inlined into Function, so Function is
	// where the allocating function was inlined, not the allocating
	// function itself. Known when the next frame out names the same
	// function (a recursive call looks the same, and is marked too), or
	// when Function is a compiler wrapper (a go or defer statement's
	// gowrapN, deferwrapN), whose only code is the call it wraps (the
	// runtime leaves the wrapper's own frame out of profile stacks).
	Inlined bool
	// Agent: the heaptop agent's own code allocated the object (directly
	// or through library code it called); the site is then the innermost
	// agent frame.
	Agent bool
}

// String is "main.newSession at session.go:42", "session.go:42 inlined
// into main.main", or "not sampled".
func (s Site) String() string {
	switch {
	case s.File == "":
		return "not sampled"
	case s.Inlined:
		return fmt.Sprintf("%s:%d inlined into %s", filepath.Base(s.File), s.Line, s.Function)
	}
	return fmt.Sprintf("%s at %s:%d", s.Function, filepath.Base(s.File), s.Line)
}

// agentModule prefixes the functions of the agent's packages; its example
// and test programs are programs like any other.
const agentModule = "github.com/heaptop/heaptop/agent"

// inRuntime reports whether a frame is the runtime's: a runtime function,
// or code in the runtime's source directory under another name (functions
// the runtime provides to reflect, sync and others by linkname, such as
// reflect.unsafe_New, are named after the package that calls them).
func inRuntime(f heapdump.Frame) bool {
	return strings.HasPrefix(f.Func, "runtime.") || strings.HasPrefix(f.Func, "internal/runtime/") ||
		strings.Contains(f.File, "/src/runtime/") || strings.HasPrefix(f.File, "runtime/") || f.Func == "?"
}

func inAgent(fn string) bool {
	rest, ok := strings.CutPrefix(fn, agentModule)
	if !ok || (rest != "" && rest[0] != '.' && rest[0] != '/') {
		return false
	}
	return !strings.HasPrefix(rest, "/examples/") && !strings.HasPrefix(rest, "/testdata/")
}

// allocFrame picks an allocation stack's site frame (frames innermost
// first), its index. An allocation made by agent code (any agent frame on
// the stack: its own goroutines, and the work of its API, such as Start's
// server) is the agent's, named by the innermost agent frame. Any other
// allocation is the program's, named by the first frame outside the
// runtime. When every frame is the runtime's (its own allocations), the
// outermost frame names the goroutine or system structure that caused
// them.
func allocFrame(frames []heapdump.Frame) (i int, agent, ok bool) {
	for i, fr := range frames {
		if inAgent(fr.Func) {
			return i, true, true
		}
	}
	for i, fr := range frames {
		if !inRuntime(fr) {
			return i, false, true
		}
	}
	return len(frames) - 1, false, len(frames) > 0
}

// siteOf is the site of an allocation stack.
func siteOf(frames []heapdump.Frame) (Site, bool) {
	i, agent, ok := allocFrame(frames)
	if !ok {
		return Site{}, false
	}
	f := frames[i]
	return Site{Function: f.Func, File: f.File, Line: int(f.Line), Agent: agent,
		Inlined: (i+1 < len(frames) && frames[i+1].Func == f.Func) || isWrapper(f.Func)}, true
}

// isWrapper recognises the functions the compiler generates for go and
// defer statements (cmd/compile's "gowrap" and "deferwrap" closures).
func isWrapper(fn string) bool {
	name := fn[strings.LastIndexByte(fn, '.')+1:]
	return strings.HasPrefix(name, "gowrap") || strings.HasPrefix(name, "deferwrap")
}

// placeObjects gives each object with an allocation sample its site. A
// tiny block holding several sampled allocations gets the first one's.
func (n *Names) placeObjects() {
	g := n.g
	byBucket := make([]SiteID, len(g.Buckets))
	done := make([]bool, len(g.Buckets))
	ids := map[Site]SiteID{}
	for _, s := range g.Samples {
		if n.site[s.Object] != 0 {
			continue
		}
		if !done[s.Bucket] {
			done[s.Bucket] = true
			if site, ok := siteOf(g.Buckets[s.Bucket].Frames); ok {
				id, seen := ids[site]
				if !seen {
					id = SiteID(len(n.sites))
					n.sites = append(n.sites, site)
					ids[site] = id
				}
				byBucket[s.Bucket] = id
			}
		}
		n.site[s.Object] = uint32(byBucket[s.Bucket])
	}
}

// SiteOf returns an object's allocation site, NoSite when it was not
// sampled.
func (n *Names) SiteOf(o graph.ObjectID) SiteID { return SiteID(n.site[o]) }

// Site returns the site a SiteID stands for (the zero Site for NoSite).
func (n *Names) Site(s SiteID) Site { return n.sites[s] }

// NumSites is one more than the largest SiteID.
func (n *Names) NumSites() int { return len(n.sites) }
