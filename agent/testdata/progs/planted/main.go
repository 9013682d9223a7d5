// Program planted is a small service with two bugs planted for the tests of
// heaptop's non-interactive outputs (--once, --json, --fail-on, --export):
//
//   - main.connHandles keeps uintptrs to three connection objects the
//     program dropped and the GC freed: three dangling references of one
//     chain shape, which the agent folds into one finding of count 3. Each
//     freed slot sits between two kept neighbours of the same 3200-byte size
//     class (one the agent does not use), so the span stays in use and the
//     slot is provably free when the capture looks at it.
//   - main.sessions keeps a session that logout declared released with
//     agent.MarkReleased: a leak.
//
// With -clean it runs the same service without either bug: the sessions it
// logs out are removed, and no handle is kept as an integer.
//
// It records every allocation's site from the start (every planted object
// has one), plants, and only then starts the agent: its discovery file
// appearing means the bugs are in place. It prints
//
//	planted: pid=<pid> agent=<address>
//
// and runs until SIGINT or SIGTERM. The lines the tests expect are
// marked "// marker:name".
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"syscall"
	"unsafe"

	"github.com/heaptop/heaptop/agent"
)

// conn is one connection: exactly one 3200-byte size-class slot.
type conn struct {
	id     int
	buffer [3192]byte
}

// session is a logged-in user's state.
type session struct {
	user  string
	token []byte
	conn  *conn
}

var (
	conns       []*conn    // open connections
	connHandles []uintptr  // BUG (planted): handles of connections, as integers
	sessions    []*session // logged-in users
)

//go:noinline
func dial(id int) *conn { return &conn{id: id} } // marker:dial

//go:noinline
func login(user string, c *conn) *session {
	return &session{user: user, token: make([]byte, 32), conn: c} // marker:login
}

// wantHandles is how many closed connections keep a handle.
const wantHandles = 3

// openConns opens connections three at a time and, with bugs, closes the
// middle one of each run of three adjacent ones while keeping its handle.
func openConns(buggy bool) {
	const size = unsafe.Sizeof(conn{})
	connHandles = make([]uintptr, 0, 4) // marker:handles
	for i := 0; i < 300 && (i < 4 || buggy && len(connHandles) < wantHandles); i++ {
		a, b, c := dial(3*i), dial(3*i+1), dial(3*i+2)
		conns = append(conns, a, c)
		adjacent := uintptr(unsafe.Pointer(b)) == uintptr(unsafe.Pointer(a))+size && uintptr(unsafe.Pointer(c)) == uintptr(unsafe.Pointer(b))+size
		if buggy && adjacent && len(connHandles) < wantHandles {
			connHandles = append(connHandles, uintptr(unsafe.Pointer(b))) // b is closed: only its handle stays
		} else {
			conns = append(conns, b)
		}
	}
}

// logInOut logs three users in and the second one out; with bugs, logout
// declares the session released but forgets to remove it.
func logInOut(buggy bool) {
	for i, user := range []string{"ada", "grace", "edsger"} {
		sessions = append(sessions, login(user, conns[i])) // marker:sessions
	}
	gone := sessions[1]
	if !buggy {
		sessions = slices.Delete(sessions, 1, 2)
	}
	agent.MarkReleased(gone, "logged out")
}

func main() {
	clean := flag.Bool("clean", false, "plant no bug")
	flag.Parse()
	runtime.MemProfileRate = 1 // as FullAllocSites, before anything is planted

	openConns(!*clean)
	logInOut(!*clean)
	runtime.GC()
	runtime.GC() // the closed connection is freed
	// From here no GC runs, so nothing is collected or moved under the test.
	debug.SetGCPercent(-1)

	// No pause budget or interval: the tests capture back to back, and what
	// they check is the heap, not the budgets (progs/safety tests those).
	a, err := agent.Start(agent.Options{FullAllocSites: true, MaxPause: -1, MinCaptureInterval: -1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer a.Close()

	fmt.Printf("planted: pid=%d agent=%s\n", os.Getpid(), a.Address())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	runtime.KeepAlive(conns)
}
