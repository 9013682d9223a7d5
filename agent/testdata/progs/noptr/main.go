// Program noptr plants the globals the heap dump leaves out: a uintptr and
// a runtime.Cleanup (both pointer-free, so in noptrbss) holding the address
// of a live object held by a pointer global. It captures itself through
// the agent's capture package, writes the dump and the noptr segments' parts
// to the directory given as its argument, one line per part, and a marker:
//
//	SEGMENT noptrbss 0x… N          (its bytes in the file noptrbss-0x…)
//	HEAPTOP obj=0x… hidden=0x… cleanup=0x… arenaindex=true rssgrowth=N
//
// (the object, the addresses of the two globals, whether capture found
// the runtime's arena index, which takes a symbol table, and how much more
// anonymous memory this process had resident after the capture than
// before it, the Go heap's free pages returned to the system first).
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"unsafe"

	"github.com/heaptop/heaptop/agent/capture"
)

type payload struct {
	next *payload
	n    [6]int
}

var (
	live    *payload        // bss: keeps the object alive
	hidden  uintptr         // noptrbss: the same address as an integer
	cleanup runtime.Cleanup // noptrbss: {id, ptr}, ptr the object's address
)

func main() {
	dir := os.Args[1]
	live = &payload{}
	hidden = uintptr(unsafe.Pointer(live))
	cleanup = runtime.AddCleanup(live, func(int) {}, 1)
	debug.FreeOSMemory()
	before := rssAnon()
	d, err := capture.New(capture.Options{}).Capture(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if d.SegmentsErr != nil {
		fmt.Fprintln(os.Stderr, d.SegmentsErr)
		os.Exit(1)
	}
	must(os.WriteFile(filepath.Join(dir, "dump"), d.Bytes, 0o600))
	// A segment may come in parts (capture copies only the noptrbss pages
	// this process wrote): one file per part, named by its address.
	for _, s := range d.Segments {
		must(os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%#x", s.Name, s.Addr)), s.Bytes, 0o600))
		fmt.Printf("SEGMENT %s %#x %d\n", s.Name, s.Addr, s.Size)
	}
	d.Close()
	debug.FreeOSMemory()
	fmt.Printf("HEAPTOP obj=%#x hidden=%#x cleanup=%#x arenaindex=%v rssgrowth=%d\n", hidden, uintptr(unsafe.Pointer(&hidden)), uintptr(unsafe.Pointer(&cleanup)), d.Stats.ArenaIndexFound, rssAnon()-before)
	runtime.KeepAlive(live)
}

// rssAnon is this process's resident anonymous memory (RssAnon, bytes).
func rssAnon() int64 {
	b, err := os.ReadFile("/proc/self/status")
	must(err)
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "RssAnon:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(rest, "kB")), 10, 64)
			must(err)
			return kb << 10
		}
	}
	must(fmt.Errorf("no RssAnon in /proc/self/status"))
	return 0
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
