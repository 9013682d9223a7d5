package naming

import (
	"testing"

	"github.com/heaptop/heaptop/agent/heapdump"
)

// The site rule on stacks as the go1.26.8 dumper writes them (innermost
// first, physical function names, innermost file:line). Real stacks are
// checked end to end by TestRegistry; these pin the rule's edge cases.
func TestSiteOf(t *testing.T) {
	const goroot = "/usr/local/go/src/"
	f := func(fn, file string, line uint64) heapdump.Frame {
		return heapdump.Frame{Func: fn, File: file, Line: line}
	}
	malloc := f("runtime.mallocgc", goroot+"runtime/malloc.go", 1100)
	for _, c := range []struct {
		name   string
		frames []heapdump.Frame
		want   Site
	}{
		{"user code", []heapdump.Frame{malloc, f("runtime.newobject", goroot+"runtime/malloc.go", 1700),
			f("main.newSession", "/src/app/main.go", 42), f("main.main", "/src/app/main.go", 10)},
			Site{Function: "main.newSession", File: "/src/app/main.go", Line: 42}},
		{"runtime code named after its caller by linkname", []heapdump.Frame{malloc, f("reflect.unsafe_New", goroot+"runtime/malloc.go", 1720),
			f("reflect.New", goroot+"reflect/value.go", 3300), f("main.main", "/src/app/main.go", 12)},
			Site{Function: "reflect.New", File: goroot + "reflect/value.go", Line: 3300}},
		{"inlined into its caller", []heapdump.Frame{malloc, f("main.main", "/src/app/session.go", 7), f("main.main", "/src/app/main.go", 20)},
			Site{Function: "main.main", File: "/src/app/session.go", Line: 7, Inlined: true}},
		{"inlined into a go statement's wrapper", []heapdump.Frame{malloc, f("main.main.gowrap1", "/src/app/main.go", 30), f("runtime.goexit", goroot+"runtime/asm_amd64.s", 1700)},
			Site{Function: "main.main.gowrap1", File: "/src/app/main.go", Line: 30, Inlined: true}},
		{"the agent's own goroutine, through fmt", []heapdump.Frame{malloc, f("fmt.Sprintf", goroot+"fmt/print.go", 240),
			f("github.com/heaptop/heaptop/agent/naming.(*Names).x", "/src/agent/naming/x.go", 5), f("github.com/heaptop/heaptop/agent.(*Agent).loop", "/src/agent/agent.go", 9)},
			Site{Function: "github.com/heaptop/heaptop/agent/naming.(*Names).x", File: "/src/agent/naming/x.go", Line: 5, Agent: true}},
		{"the agent's example programs are programs", []heapdump.Frame{malloc, f("github.com/heaptop/heaptop/agent/examples/demo.render", "/src/agent/examples/demo/main.go", 150)},
			Site{Function: "github.com/heaptop/heaptop/agent/examples/demo.render", File: "/src/agent/examples/demo/main.go", Line: 150}},
		{"the runtime's own", []heapdump.Frame{malloc, f("runtime.malg", goroot+"runtime/proc.go", 5000), f("runtime.newproc1", goroot+"runtime/proc.go", 5100)},
			Site{Function: "runtime.newproc1", File: goroot + "runtime/proc.go", Line: 5100}},
	} {
		if got, ok := siteOf(c.frames); !ok || got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
	if _, ok := siteOf(nil); ok {
		t.Error("an empty stack has a site")
	}
}
