// Program forcegc runs the agent and forces GC cycles when told to, so that
// a test can check that the agent's ticks carry exactly the pauses MemStats
// records for them. Run it with GOGC=off: then the only cycles are the ones
// it forces.
//
// It talks one line at a time:
//
//	out: ready pid=<pid> agent=<address>
//	in:  gc <n>   run runtime.GC() n times, then
//	out: [{"cycle":c,"durationNs":d,"endUnixNano":e}, ...]  MemStats' record of those n cycles
//	in:  exit     (or end of input) close the agent and exit 0
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"time"

	"github.com/heaptop/heaptop/agent"
)

type pause struct {
	Cycle       uint32 `json:"cycle"`
	DurationNs  uint64 `json:"durationNs"`
	EndUnixNano uint64 `json:"endUnixNano"`
}

func main() {
	tick := flag.Duration("tick", time.Second, "agent tick interval")
	flag.Parse()
	a, err := agent.Start(agent.Options{TickInterval: *tick})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("ready pid=%d agent=%s\n", os.Getpid(), a.Address())

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var n int
		if in.Text() == "exit" {
			break
		}
		if _, err := fmt.Sscanf(in.Text(), "gc %d", &n); err != nil {
			log.Fatalf("forcegc: bad command %q", in.Text())
		}
		for range n {
			runtime.GC()
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		out := make([]pause, n)
		for i := range out {
			c := ms.NumGC - uint32(n-1-i)
			slot := (c - 1) % uint32(len(ms.PauseNs))
			out[i] = pause{Cycle: c, DurationNs: ms.PauseNs[slot], EndUnixNano: ms.PauseEnd[slot]}
		}
		b, _ := json.Marshal(out)
		fmt.Println(string(b))
	}
	if err := a.Close(); err != nil {
		log.Fatal(err)
	}
}
