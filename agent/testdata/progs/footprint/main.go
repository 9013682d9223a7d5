// Program footprint is a target whose heap tree has one node with many
// rows: main.records, a slice of records of one type and site (a fold of
// that many members), beside main.blocks, written pointer-free buffers
// that make the live heap big enough for the Go heap's slack (up to its
// GC goal) to show in resident memory. It starts the heaptop agent and
// reads commands from stdin:
//
//	measure   print what the process holds now
//
// printing
//
//	footprint: pid=<pid> agent=<address>
//	measured records=<records> allocs=<bytes> held=<bytes> rssanon=<bytes>
//
// records: the fold's members; allocs: Go heap bytes allocated since the start; held: the Go memory
// the runtime holds (mapped, not released); rssanon: resident anonymous
// memory (/proc/self/status RssAnon).
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"

	"github.com/heaptop/heaptop/agent"
)

type record struct {
	id    int
	next  *record
	score float64
}

const (
	numRecords = 300_000
	numBlocks  = 64 // of 1 MiB
)

var (
	records []*record
	blocks  [][]byte
)

func main() {
	a, err := agent.Start(agent.Options{MaxPause: -1, MinCaptureInterval: -1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer a.Close()
	for i := range numRecords {
		records = append(records, &record{id: i})
	}
	for range numBlocks {
		b := make([]byte, 1<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1 // resident, as a program's buffers are
		}
		blocks = append(blocks, b)
	}
	runtime.GC()
	fmt.Printf("footprint: pid=%d agent=%s\n", os.Getpid(), a.Address())
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() { // the test closes stdin when done
		if sc.Text() != "measure" {
			fmt.Fprintf(os.Stderr, "footprint: unknown command %q\n", sc.Text())
			os.Exit(2)
		}
		m := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
		metrics.Read(m)
		fmt.Printf("measured records=%d allocs=%d held=%d rssanon=%d\n", len(records), m[0].Value.Uint64(), m[1].Value.Uint64()-m[2].Value.Uint64(), rssAnon())
	}
}

func rssAnon() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "RssAnon:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(rest, "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
