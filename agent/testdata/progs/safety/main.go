// Program safety runs the agent with the budgets its flags give, for the
// tests of what a capture may cost the program and what it leaves behind
// (safety_test.go). It can plant a secret in its memory, build a heap of
// many small objects, grow its Go memory, and report its own descriptors,
// children and goroutines before and after the agent's Close.
//
// It talks one line at a time:
//
//	out: ready pid=<pid> agent=<address>
//	in:  grow <MiB>   allocate that much pointer-free memory, untouched
//	out: mapped=<bytes>   Go memory mapped and not released, after it
//	in:  report       out: a JSON Report of the process as it is now
//	in:  close        close the agent; out: a JSON Report, CloseNs set
//	in:  exit         (or end of input) close the agent and exit 0
//
// With $HEAPTOP_TEST_SECRET set it plants the secret (see plant) before the
// agent starts; the tests read every byte the agent sends and look for it.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sort"
	"strings"
	"time"

	"github.com/heaptop/heaptop/agent"
)

// Report is what the program says about itself.
type Report struct {
	Goroutines int      `json:"goroutines"`
	FDs        []string `json:"fds"`      // the targets of /proc/self/fd/*, sorted
	Children   []string `json:"children"` // pids in /proc/self/task/*/children
	CloseNs    int64    `json:"closeNs,omitempty"`
	CloseErr   string   `json:"closeErr,omitempty"`
}

// nodes keeps the -objects heap alive; grown keeps what grow allocated.
var (
	nodes []*node
	grown [][]byte
)

type node struct {
	next *node
	n    int
}

func main() {
	maxPause := flag.Duration("max-pause", 0, "agent.Options.MaxPause")
	minInterval := flag.Duration("min-interval", 0, "agent.Options.MinCaptureInterval")
	analysis := flag.Float64("analysis", 0, "agent.Options.MaxAnalysisMemory")
	objects := flag.Int("objects", 0, "small objects to keep live")
	flag.Parse()

	for i := range *objects {
		n := &node{n: i}
		if i > 0 {
			n.next = nodes[i-1]
		}
		nodes = append(nodes, n)
	}
	if s := os.Getenv("HEAPTOP_TEST_SECRET"); s != "" {
		plant(s)
	}
	before := report()
	a, err := agent.Start(agent.Options{MaxPause: *maxPause, MinCaptureInterval: *minInterval, MaxAnalysisMemory: *analysis})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("ready pid=%d agent=%s\n", os.Getpid(), a.Address())
	b, _ := json.Marshal(before)
	fmt.Println(string(b))

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd, arg, _ := strings.Cut(in.Text(), " ")
		switch cmd {
		case "grow":
			var mib int
			fmt.Sscan(arg, &mib)
			for range mib {
				grown = append(grown, make([]byte, 1<<20))
			}
			fmt.Printf("mapped=%d\n", mapped())
		case "report":
			b, _ := json.Marshal(report())
			fmt.Println(string(b))
		case "close":
			start := time.Now()
			err := a.Close()
			d := time.Since(start)
			time.Sleep(100 * time.Millisecond) // let returning goroutines finish exiting
			r := report()
			r.CloseNs = int64(d)
			if err != nil {
				r.CloseErr = err.Error()
			}
			b, _ := json.Marshal(r)
			fmt.Println(string(b))
		case "exit":
			a.Close()
			return
		default:
			log.Fatalf("safety: bad command %q", in.Text())
		}
	}
	a.Close()
}

func mapped() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64() - s[1].Value.Uint64())
}

func report() Report {
	r := Report{Goroutines: runtime.NumGoroutine(), FDs: []string{}, Children: []string{}}
	entries, _ := os.ReadDir("/proc/self/fd")
	for _, e := range entries {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil {
			r.FDs = append(r.FDs, target)
		}
	}
	sort.Strings(r.FDs)
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		r.Children = append(r.Children, strings.Fields(string(b))...)
	}
	return r
}
