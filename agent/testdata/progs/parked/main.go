// Command parked plants a goroutine parked in a channel receive whose frame
// holds a 1 MiB buffer and an array of pointers in locals, then names the
// stack slots that hold them with agent/symbols, in its own process, and
// prints one line per slot:
//
//	slot <what> <local>|none
//
// The slots are found as the heap dump finds them: words of the parked
// frame [sp, cfa) whose value is the planted pointer. The frame pc comes
// from the runtime's own traceback (runtime.Stack prints pc-entry). A
// pointer may also sit in compiler temporaries DWARF does not name: those
// slots print "none".
// TestLocalsOfParkedGoroutine builds it default, PIE and stripped.
package main

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"
	"unsafe"

	"github.com/heaptop/heaptop/agent/symbols"
)

type node struct {
	val  int
	next *node
}

// escaped keeps planted nodes on the heap (a node only a local points to
// would be allocated on the stack, and its type would have no descriptor).
var escaped []*node

// frameBounds is in frame_amd64.s.
func frameBounds() (sp, cfa uintptr)

type frame struct {
	sp, cfa     uintptr
	buf, local2 uintptr // the planted pointers
}

//go:noinline
func worker(ch chan int, report chan<- frame) int {
	buf := make([]byte, 1<<20)
	var local [4]*node
	local[2] = &node{val: 2}
	escaped = append(escaped, local[2])
	sp, cfa := frameBounds()
	report <- frame{sp, cfa, uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(local[2]))}
	v := <-ch // parked here
	return v + len(buf) + local[2].val
}

func main() {
	debug.SetGCPercent(-1) // the parked stack must not move while it is read
	ch, report := make(chan int), make(chan frame)
	go worker(ch, report)
	f := <-report
	pc := parkedPC()
	entry := reflect.ValueOf(worker).Pointer()
	im := symbols.Self()
	for _, p := range []struct {
		what string
		ptr  uintptr
	}{{"buf", f.buf}, {"local2", f.local2}} {
		found := false
		for a := f.sp; a < f.cfa; a += 8 {
			if *(*uintptr)(unsafe.Add(unsafe.Pointer(nil), a)) != p.ptr {
				continue
			}
			found = true
			l, ok := im.Local(entry, pc, symbols.ReturnPC, int64(a)-int64(f.cfa))
			if !ok {
				fmt.Printf("slot %s none\n", p.what)
				continue
			}
			fmt.Printf("slot %s %s target=%s\n", p.what, l, l.Word.Target)
		}
		if !found {
			fmt.Fprintf(os.Stderr, "parked: %s pointer %#x not in frame [%#x, %#x)\n", p.what, p.ptr, f.sp, f.cfa)
			os.Exit(1)
		}
	}
	ch <- 1
}

// parkedPC reads the worker's frame pc from the runtime's traceback once it
// is parked.
func parkedPC() uintptr {
	re := regexp.MustCompile(`\[chan receive\]:\nmain\.worker\(.*\)\n\t.*:\d+ \+0x([0-9a-f]+)\n`)
	for range 1000 {
		buf := make([]byte, 1<<16)
		if m := re.FindSubmatch(buf[:runtime.Stack(buf, true)]); m != nil {
			off, _ := strconv.ParseUint(string(m[1]), 16, 64)
			return reflect.ValueOf(worker).Pointer() + uintptr(off)
		}
		time.Sleep(time.Millisecond)
	}
	fmt.Fprintln(os.Stderr, "parked: worker never parked")
	os.Exit(1)
	return 0
}
