// Program load is a busy target for the load test (load_test.go): it runs
// the agent and -goroutines goroutines that together allocate -rate small
// objects a second (each keeps its last 256 alive, the rest is garbage),
// and a probe goroutine that sleeps 1 ms at a time and records the longest
// gap between its wake-ups: what a request handler in the program would
// have waited. Both are counted in windows of 250 ms.
//
//	out: ready pid=<pid> agent=<address>
//	in:  stats   out: a JSON list of the windows so far, {"startNs", "allocs", "maxGapNs"}
//	in:  exit    (or end of input) close the agent and exit 0
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heaptop/heaptop/agent"
)

const window = 250 * time.Millisecond

type record struct {
	payload [5]uint64
	next    *record
}

type windowStats struct {
	StartNs  int64  `json:"startNs"` // since the program started
	Allocs   uint64 `json:"allocs"`
	MaxGapNs int64  `json:"maxGapNs"`
}

var (
	start  = time.Now()
	allocs atomic.Uint64
	maxGap atomic.Int64
	mu     sync.Mutex // guards windows
	stats  []windowStats
)

func main() {
	goroutines := flag.Int("goroutines", 1000, "allocating goroutines")
	rate := flag.Int("rate", 200000, "objects allocated per second, all goroutines together")
	flag.Parse()
	a, err := agent.Start(agent.Options{} /* production defaults */)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("ready pid=%d agent=%s\n", os.Getpid(), a.Address())

	// Each goroutine allocates a batch every 20 ms: rate/goroutines/50 objects.
	batch := max(1, *rate / *goroutines / 50)
	for i := range *goroutines {
		go work(i, batch)
	}
	go probe()
	go count()

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "stats":
			mu.Lock()
			b, _ := json.Marshal(stats)
			mu.Unlock()
			fmt.Println(string(b))
		case "exit":
			a.Close()
			return
		default:
			log.Fatalf("load: bad command %q", in.Text())
		}
	}
	a.Close()
}

func work(seed, batch int) {
	var ring [256]*record
	n := seed
	t := time.NewTicker(20 * time.Millisecond)
	for range t.C {
		for range batch {
			// Each record points to the one before it; the one evicted
			// lets go of its own, so at most the ring (and one) is live.
			if old := ring[n%len(ring)]; old != nil {
				old.next = nil
			}
			r := &record{next: ring[(n+len(ring)-1)%len(ring)]}
			r.payload[0] = uint64(n)
			ring[n%len(ring)] = r
			n++
		}
		allocs.Add(uint64(batch))
	}
}

func probe() {
	last := time.Now()
	for {
		time.Sleep(time.Millisecond)
		now := time.Now()
		if gap := int64(now.Sub(last)); gap > maxGap.Load() {
			maxGap.Store(gap) // only this goroutine raises it
		}
		last = now
	}
}

func count() {
	t := time.NewTicker(window)
	begin := time.Since(start)
	for range t.C {
		w := windowStats{StartNs: int64(begin), Allocs: allocs.Swap(0), MaxGapNs: maxGap.Swap(0)}
		begin = time.Since(start)
		mu.Lock()
		stats = append(stats, w)
		mu.Unlock()
	}
}
