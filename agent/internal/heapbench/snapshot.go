package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/heaptop/heaptop/agent/analysis"
	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/capture"
	"github.com/heaptop/heaptop/agent/snapshot"
	"github.com/heaptop/heaptop/agent/symbols"
)

// With -snapshot, heapbench also takes snapshots of its heap through the
// agent's whole pipeline (package snapshot: capture, graph, naming,
// analysis, document) with a dangling uintptr planted, and prints one row
// per capture: the time from the capture request to the first document
// carrying the dangling chain (the findings-first document when the
// dominator tree takes longer), to the complete document, each phase, and
// the process's peak resident memory (VmHWM) above what it was before.
// Build it with go build (go run strips the symbols and DWARF naming
// reads):
//
//	go build -o /tmp/heapbench ./internal/heapbench
//	/tmp/heapbench -snapshot -header -objects 1000000 -bytes 100MiB

// victim is a 3200-byte pointer-free slot; danglingAddrs holds the
// addresses of dropped victims whose neighbours are kept, so the slots are
// provably free after a GC.
type victim [3200]byte

// memProfile keeps runtime.MemProfile reachable, as the agent does, so the
// runtime samples allocation sites at its default rate.
var memProfile = runtime.MemProfile

var (
	danglingAddrs []uintptr
	victimKeep    []*victim
)

func plantDangling() {
	for i := 0; len(danglingAddrs) < 8 && i < 1000; i++ {
		a, b, c := new(victim), new(victim), new(victim)
		victimKeep = append(victimKeep, a, c)
		pa, pb, pc := uintptr(unsafe.Pointer(a)), uintptr(unsafe.Pointer(b)), uintptr(unsafe.Pointer(c))
		if pb == pa+3200 && pc == pb+3200 {
			danglingAddrs = append(danglingAddrs, pb)
		} else {
			victimKeep = append(victimKeep, b)
		}
	}
	runtime.GC()
	runtime.GC()
}

func benchSnapshots(reps int, header bool, memProfilePath string) {
	plantDangling()
	var mu sync.Mutex
	var start, firstDangling time.Time
	t := snapshot.NewTaker(snapshot.Config{
		Capturer: capture.New(capture.Options{}),
		Image:    symbols.Self(),
		Packages: analysis.ProgramPackages(),
		Publish: func(ev *heaptopv1.WatchEvent) {
			s := ev.GetSnapshot()
			if s == nil {
				return
			}
			for _, f := range s.Findings {
				if f.Kind == heaptopv1.FindingKind_FINDING_KIND_DANGLING {
					mu.Lock()
					if firstDangling.IsZero() {
						firstDangling = time.Now()
					}
					mu.Unlock()
					return
				}
			}
		},
	})
	defer t.Close()
	if header {
		fmt.Println("| capture | objects | edges | to first dangling chain | to complete document | host pause | dump | parse+graph | name | analyse | dominators | document | peak RSS above start | held after | Go-heap allocs B/obj | RSS after above start |")
		fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	}
	runtime.GC()
	rss0 := vmRSS()
	for r := range reps {
		runtime.GC()
		resetHWM()
		hwm0 := vmHWM()
		allocs0 := readMetric("/gc/heap/allocs:bytes")
		mu.Lock()
		start, firstDangling = time.Now(), time.Time{}
		mu.Unlock()
		doc, err := t.Capture(context.Background(), &heaptopv1.CaptureRequest{})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		total := time.Since(start)
		allocs := readMetric("/gc/heap/allocs:bytes") - allocs0
		mu.Lock()
		first := firstDangling.Sub(start)
		mu.Unlock()
		if firstDangling.IsZero() {
			first = -1
		}
		st := doc.Stats
		if r == 0 {
			for _, n := range doc.Notes {
				fmt.Fprintln(os.Stderr, "note:", n)
			}
		}
		known := time.Duration(st.PauseNs + st.DumpNs + st.ParseNs + st.NameNs + st.AnalyseNs + st.DominatorsNs)
		fmt.Printf("| %d | %.3g | %.3g | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.0f | %s |\n",
			r+1, float64(st.Objects), float64(st.Edges), ms(first), ms(total), ms(time.Duration(st.PauseNs)), ms(time.Duration(st.DumpNs)),
			ms(time.Duration(st.ParseNs)), ms(time.Duration(st.NameNs)), ms(time.Duration(st.AnalyseNs)), ms(time.Duration(st.DominatorsNs)),
			ms(total-known), human(vmHWM()-hwm0), human(int64(st.HeldBytes)), float64(allocs)/float64(st.Objects), human(vmRSS()-rss0))
	}
	if memProfilePath != "" {
		f, err := os.Create(memProfilePath)
		if err == nil {
			err = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	runtime.KeepAlive(victimKeep)
	runtime.KeepAlive(memProfile)
}

// vmHWM is the process's peak resident memory (VmHWM, bytes).
func vmHWM() int64 { return statusBytes("VmHWM:") }

// statusBytes is a figure of /proc/self/status in bytes.
func statusBytes(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// vmRSS is the process's resident memory (VmRSS, bytes).
func vmRSS() int64 { return statusBytes("VmRSS:") }

// resetHWM resets VmHWM to the current RSS (writing 5 to clear_refs).
func resetHWM() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }
