// Program negatives plants what must produce no hidden-reference finding
// (issue 5): integers that only look like addresses, and the runtime's and
// the standard library's by-design integer addresses. It starts the
// heaptop agent (FullAllocSites) and waits for the test to capture it:
//
//   - main.randoms: a million random uint64s;
//   - main.stamps, main.hashes: maps of Unix-nano timestamps and of FNV
//     hashes, and main.events, structs carrying both as int64/uint64;
//   - main.weakLive, main.weakDead: weak pointers to a live object and to
//     one freed by two GCs;
//   - main.handles: unique.Make handles, some of whose other values died;
//   - main.cleanups: runtime.AddCleanup values for live objects and for
//     objects whose cleanup already ran (their Cleanup still holds the
//     dead object's address as an integer);
//   - main.pool: a sync.Pool with objects in it, across a GC (victim cache);
//   - main.client: a net/http client at rest after 32 concurrent requests
//     to a loopback server in the same process (idle keep-alive
//     connections, their read and write loops parked).
//
// It prints, once ready:
//
//	negatives: pid=<pid> agent=<address>
//	planted randoms=<n> cleanups=<ran> idle=<conns>
package main

import (
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unique"
	"weak"

	"github.com/heaptop/heaptop/agent"
)

type thing struct {
	id  int
	buf [48]byte
}

type event struct {
	at   int64  // Unix nanoseconds
	hash uint64 // FNV-64a of the event's name
	seq  uint64
}

const (
	numRandoms  = 1_000_000
	numStamps   = 10_000
	numCleanups = 64
	numRequests = 32
)

var (
	randoms  []uint64
	stamps   map[int64]int64
	hashes   map[uint64]uint64
	events   []event
	weakLive weak.Pointer[thing]
	weakDead weak.Pointer[thing]
	live     *thing
	handles  []unique.Handle[string]
	cleanups []runtime.Cleanup
	kept     []*thing // the objects whose cleanups have not run
	cleaned  atomic.Int32
	pool     = sync.Pool{New: func() any { return new(thing) }}
	client   *http.Client
	server   *http.Server
)

func plantIntegers() {
	r := rand.New(rand.NewPCG(1, 2))
	randoms = make([]uint64, numRandoms)
	for i := range randoms {
		randoms[i] = r.Uint64()
	}
	stamps = make(map[int64]int64, numStamps)
	hashes = make(map[uint64]uint64, numStamps)
	events = make([]event, numStamps)
	now := time.Now()
	for i := range numStamps {
		at := now.Add(-time.Duration(i) * time.Millisecond).UnixNano()
		h := fnv.New64a()
		fmt.Fprintf(h, "event-%d", i)
		stamps[at] = at + int64(r.IntN(1e9))
		hashes[h.Sum64()] = uint64(at)
		events[i] = event{at: at, hash: h.Sum64(), seq: uint64(i)}
	}
}

func plantWeak() {
	live = &thing{id: 1}
	weakLive = weak.Make(live)
	weakDead = weak.Make(&thing{id: 2})
}

func plantUnique() {
	for i := range 100 {
		handles = append(handles, unique.Make(fmt.Sprintf("interned-%d", i)))
		unique.Make(fmt.Sprintf("dropped-%d", i)) // its handle dies at once
	}
}

func plantCleanups() {
	for i := range numCleanups {
		t := &thing{id: i}
		cleanups = append(cleanups, runtime.AddCleanup(t, func(int) { cleaned.Add(1) }, i))
		if i%2 == 0 {
			kept = append(kept, t)
		}
	}
}

func plantPool() {
	var got []*thing
	for range 16 {
		got = append(got, pool.Get().(*thing))
	}
	for _, t := range got {
		pool.Put(t)
	}
}

// plantClient serves HTTP on loopback and has client make numRequests
// concurrent requests, leaving their connections idle in its transport.
func plantClient() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	var conns, arrived atomic.Int32
	// No answer goes out until every request has arrived, so that each
	// holds a connection of its own: with a fixed delay instead, a loaded
	// machine let early requests finish and lend their connections on.
	everyone := make(chan struct{})
	server = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if arrived.Add(1) == numRequests {
				close(everyone)
			}
			select {
			case <-everyone:
			case <-time.After(10 * time.Second):
			}
			io.WriteString(w, "ok")
		}),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
			}
		},
	}
	go server.Serve(ln)
	client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: numRequests}, Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	errs := make(chan error, numRequests)
	for range numRequests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Get("http://" + ln.Addr().String() + "/")
			if err != nil {
				errs <- err
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return int(conns.Load()), nil
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

	plantIntegers()
	plantWeak()
	plantUnique()
	plantCleanups()
	plantPool()
	idle, err := plantClient()
	if err != nil {
		fmt.Fprintln(os.Stderr, "negatives:", err)
		os.Exit(1)
	}
	runtime.GC()
	runtime.GC() // weakDead's target, the dropped unique values and half the cleanups' objects are freed
	for deadline := time.Now().Add(10 * time.Second); cleaned.Load() < numCleanups/2 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	plantPool() // the pool holds objects again after the GCs emptied it

	fmt.Printf("negatives: pid=%d agent=%s\n", os.Getpid(), a.Address())
	fmt.Printf("planted randoms=%d cleanups=%d idle=%d dead=%v\n", len(randoms), cleaned.Load(), idle, weakDead.Value() == nil)
	var line string
	fmt.Scanln(&line) // the test closes stdin when done
	server.Close()
	runtime.KeepAlive(kept)
	runtime.KeepAlive(live)
}
