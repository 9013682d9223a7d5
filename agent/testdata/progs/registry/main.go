// Program registry plants what naming must name (issue 4), captures itself
// through the agent's own capture, graph and naming stages, and prints one
// JSON report (report.go) for agent/naming's tests:
//
//   - var registry *Registry holding a map of 20 sessions, each with a
//     buffer (the chain global → field → map value → field);
//   - a Big (over 512 B: typed from its malloc header) and a Small (under:
//     typed by propagation) under the registry;
//   - an any holding a *Payload, an any holding a Point by value (boxed), an
//     error holding a *Failure (an itab), a channel holding a *Small and a
//     closure over a session, in Extras;
//   - a goroutine blocked in worker holding a buffer in a local;
//   - typing conflicts: an Outer reached whole and through its Inner field,
//     one reached only through its field, a slice's array reached through
//     its first element too.
//
// The lines the tests expect are marked "// marker:name". It starts the
// agent with FullAllocSites first, so every planted object has a site. Its
// argument is a directory for the agent's socket.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/heaptop/heaptop/agent"
	"github.com/heaptop/heaptop/agent/symbols"
)

type Session struct {
	ID   int
	User string
	buf  []byte
}

type Registry struct {
	mu       sync.Mutex
	sessions map[string]*Session
	big      *Big
	extras   *Extras
}

// Big is over 512 bytes and holds pointers: it gets a malloc header.
type Big struct {
	owner *Session
	table [70]int
}

// Small is under 512 bytes: only propagation can type it.
type Small struct {
	owner *Session
	n     int
}

type Payload struct {
	data *[4]int
	n    int
}

type Point struct {
	X, Y  int
	label *string
}

type Failure struct {
	code  int
	cause *Small
}

func (f *Failure) Error() string { return "failure " + strconv.Itoa(f.code) }

type Extras struct {
	small   *Small
	anyVal  any   // a *Payload
	boxed   any   // a Point, boxed
	err     error // a *Failure
	notify  chan *Small
	onClose func() int // a closure over a session
}

var registry *Registry

// Conflicts: an object reached both whole and through a part, one reached
// only through a part, a slice's array reached through its first element.
type Inner struct {
	p *int
	n int
}

type Outer struct {
	a     int
	inner Inner
}

var (
	wholeAndPart *Outer
	part         *Inner
	onlyPart     *Inner
	elems        []Inner
	firstElem    *Inner
)

// queuedAddr is the address of the *Small queued in Extras.notify, for the
// report.
var queuedAddr uintptr

const numSessions = 20

func newSession(id int) *Session {
	buf := make([]byte, 8<<10)                                         // marker:buf
	return &Session{ID: id, User: "user" + strconv.Itoa(id), buf: buf} // marker:session
}

//go:noinline
func plant() {
	r := &Registry{sessions: map[string]*Session{}} // marker:registry
	for i := range numSessions {
		s := newSession(i)
		r.sessions[s.User] = s // marker:put
	}
	r.big = &Big{owner: r.sessions["user0"]} // marker:big
	notify := make(chan *Small, 4)           // marker:chan
	queued := &Small{n: 4}                   // marker:queued
	queuedAddr = uintptr(unsafe.Pointer(queued))
	notify <- queued
	s3 := r.sessions["user3"]
	r.extras = &Extras{ // marker:extras
		notify:  notify,
		onClose: func() int { return s3.ID },                                  // marker:closure
		small:   &Small{n: 1},                                                 // marker:small
		anyVal:  &Payload{data: new([4]int), n: 2},                            // marker:payload
		boxed:   Point{X: 1, Y: 2, label: new(string)},                        // marker:point
		err:     &Failure{code: 3, cause: &Small{owner: r.sessions["user1"]}}, // marker:failure
	}
	registry = r

	wholeAndPart = &Outer{inner: Inner{p: new(int)}} // marker:whole
	part = &wholeAndPart.inner
	onlyPart = &(&Outer{inner: Inner{p: new(int)}}).inner // marker:part
	elems = make([]Inner, 6)                              // marker:elems
	firstElem = &elems[0]
}

// worker holds a buffer in a local while it blocks.
func worker(ready chan<- [2]uint64, release <-chan struct{}) {
	buf := make([]byte, 128<<10) // marker:workerbuf (over 64 KiB: on the heap, not the stack)
	ready <- [2]uint64{goid(), uint64(uintptr(unsafe.Pointer(&buf[0])))}
	<-release // marker:block
	runtime.KeepAlive(buf)
}

// goid is the calling goroutine's id, from its traceback header.
func goid() uint64 {
	var b [64]byte
	s := strings.TrimPrefix(string(b[:runtime.Stack(b[:], false)]), "goroutine ")
	id, _ := strconv.ParseUint(s[:strings.IndexByte(s, ' ')], 10, 64)
	return id
}

func main() {
	// Read the executable's symbols and DWARF before every allocation is
	// profiled: a first capture pays for it otherwise (seconds of CPU
	// under FullAllocSites; BENCHMARKS.md), which would only slow the test.
	if err := symbols.Self().Load(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// No pause budget or interval: the tests capture back to back, and what
	// they check is the heap, not the budgets (progs/safety tests those).
	a, err := agent.Start(agent.Options{Dir: os.Args[1], FullAllocSites: true, MaxPause: -1, MinCaptureInterval: -1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	plant()
	ready, release := make(chan [2]uint64), make(chan struct{})
	go worker(ready, release) // marker:go
	w := <-ready
	err = report(w[0], w[1])
	close(release)
	a.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
