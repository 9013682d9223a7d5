// Program hidden plants one hidden reference of each kind analysis must
// find, starts the heaptop agent (FullAllocSites, so every planted object
// has its allocation site) and waits for the test to capture it:
//
//   - main.freedHandles: uintptrs to objects freed by two GCs, each the
//     middle of three 3200-byte slots in a row (a size class the agent
//     does not allocate) whose neighbours main.keepers keeps, so the spans
//     stay in use and each slot is provably free: dangling, every one.
//   - main.stackAddr: the address of a local of a goroutine blocked in
//     main.holdLocal: a stack finding naming that goroutine and frame.
//   - main.soonAddr: the address of an object unreachable but not yet
//     collected (the GC is off from then on): dangling soon.
//   - main.heldAddr: the address of an object main.holder also points to:
//     unprotected, not dangling.
//   - main.reusedAddr: the address of a victim main.reusedHolder holds
//     (unprotected); on the command "reuse" the holder lets go, two GCs
//     free it, and main.reuser objects are allocated until one takes its
//     slot: dangling, the slot reused by another type since the capture
//     before.
//
// It prints, once ready:
//
//	hidden: pid=<pid> agent=<address>
//	planted freed=<n> goroutine=<goid>
//
// and after "reuse" (stdin), "reused tries=<allocations> ok=<taken>".
//
// The lines the test expects are marked "// marker:name".
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"unsafe"

	"github.com/heaptop/heaptop/agent"
)

// victim is exactly one 3200-byte size-class slot, pointer-free.
type victim struct {
	id  int
	pad [3192]byte
}

// soonVictim is the unreachable object main.soonAddr names: over 512
// bytes with a pointer, so its malloc header types it although no typed
// path reaches it.
type soonVictim struct {
	next *soonVictim
	pad  [600]byte
}

// reuser is another type of the victims' size class, to take a freed
// victim's slot.
type reuser struct {
	pad [3200]byte
}

// heldThing is the object main.holder keeps and main.heldAddr names.
type heldThing struct {
	id  int
	pad [56]byte
}

// wantFreed is how many freed slots are planted.
const wantFreed = 12

var (
	freedHandles []uintptr // BUG (planted): addresses of freed objects
	keepers      []*victim // the freed slots' neighbours
	stackAddr    uintptr   // BUG (planted): a local of a parked goroutine
	soonAddr     uintptr   // BUG (planted): an object about to be freed
	heldAddr     uintptr   // an object held elsewhere too
	holder       *heldThing
	reusedAddr   uintptr // BUG (planted): an object freed, its slot reused
	reusedHolder *victim
	reusers      []*reuser
	sink         int
)

//go:noinline
func newVictim(id int) *victim { return &victim{id: id} } // marker:victim

//go:noinline
func newSoon() *soonVictim { return &soonVictim{} } // marker:soon

// plantFreed fills freedHandles with the addresses of dropped victims
// whose neighbours on either side are kept.
func plantFreed() {
	const size = unsafe.Sizeof(victim{})
	freedHandles = make([]uintptr, 0, wantFreed) // marker:handles
	for i := 0; len(freedHandles) < wantFreed && i < 100*wantFreed; i++ {
		a, b, c := newVictim(3*i), newVictim(3*i+1), newVictim(3*i+2)
		pa, pb, pc := uintptr(unsafe.Pointer(a)), uintptr(unsafe.Pointer(b)), uintptr(unsafe.Pointer(c))
		keepers = append(keepers, a, c)
		if pb == pa+size && pc == pb+size {
			freedHandles = append(freedHandles, pb)
		} else {
			keepers = append(keepers, b)
		}
	}
}

// holdLocal parks on ready's partner with a local whose address it
// published in stackAddr.
//
//go:noinline
func holdLocal(published chan<- int, wait <-chan struct{}) {
	var local [8]int
	local[3] = 3
	stackAddr = uintptr(unsafe.Pointer(&local))
	published <- goid()
	<-wait // marker:parked
	sink += local[3]
}

// goid is this goroutine's id, from its stack trace's first line.
func goid() int {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	id, _ := strconv.Atoi(strings.Fields(string(buf))[1])
	return id
}

func main() {
	// No pause budget or interval: the tests capture back to back, and what
	// they check is the heap, not the budgets (progs/safety tests those).
	a, err := agent.Start(agent.Options{FullAllocSites: true, MaxPause: -1, MinCaptureInterval: -1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer a.Close()

	plantFreed()
	holder = &heldThing{id: 1}
	heldAddr = uintptr(unsafe.Pointer(holder))
	reusedHolder = newVictim(-1)
	reusedAddr = uintptr(unsafe.Pointer(reusedHolder))
	published, wait := make(chan int), make(chan struct{})
	go holdLocal(published, wait)
	g := <-published
	runtime.GC()
	runtime.GC() // the dropped victims are freed
	// From here no GC runs: the next object stays pending until the
	// capture, and nothing else is collected or moved.
	debug.SetGCPercent(-1)
	soonAddr = uintptr(unsafe.Pointer(newSoon()))

	fmt.Printf("hidden: pid=%d agent=%s\n", os.Getpid(), a.Address())
	fmt.Printf("planted freed=%d goroutine=%d\n", len(freedHandles), g)
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() { // the test closes stdin when done
		if sc.Text() == "reuse" {
			tries, ok := reuse()
			fmt.Printf("reused tries=%d ok=%v\n", tries, ok)
		}
	}
	close(wait)
	runtime.KeepAlive(keepers)
	runtime.KeepAlive(holder)
}

// reuse frees the victim main.reusedAddr names and allocates reusers until
// one lands in its slot.
func reuse() (int, bool) {
	reusedHolder = nil
	runtime.GC()
	runtime.GC()
	for i := 1; i <= 20000; i++ {
		r := &reuser{} // marker:reuser
		reusers = append(reusers, r)
		if uintptr(unsafe.Pointer(r)) == reusedAddr {
			return i, true
		}
	}
	return 20000, false
}
