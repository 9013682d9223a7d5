// Program dumpthrow shows that runtime/debug.WriteHeapDump can kill the
// process that calls it, and that capture cannot. Goroutines loop in
// nanosleep(2), so system calls keep returning while dumps run; each
// return crosses exitsyscall's window in which the goroutine is _Grunning
// without a P, and a dump that meets it there throws (see capture/doc.go).
//
//	dumpthrow inprocess DUMPS GOROUTINES   debug.WriteHeapDump in this process
//	dumpthrow capture DUMPS GOROUTINES     through the agent's capture package
//
// Either prints "SURVIVED n=DUMPS retried=R repaired=F" if it lives. The
// window is a few hundred nanoseconds: tests build this program with the
// runtime's own debugExtendGrunningNoP switched on (a 10 µs sleep inside
// the window) to hit it in seconds instead of hours.
package main

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"runtime/debug"
	"strconv"
	"syscall"

	"github.com/heaptop/heaptop/agent/capture"
	"golang.org/x/sys/unix"
)

var sink []*[4]int

func main() {
	mode := os.Args[1]
	dumps, _ := strconv.Atoi(os.Args[2])
	goroutines, _ := strconv.Atoi(os.Args[3])
	for range 300000 {
		sink = append(sink, new([4]int))
	}
	for i := range goroutines {
		go func() {
			r := rand.New(rand.NewSource(int64(i)))
			for {
				ts := syscall.NsecToTimespec(int64(r.Intn(100000)+1) * 1000)
				syscall.Nanosleep(&ts, nil)
			}
		}()
	}
	retried, repaired := 0, 0
	switch mode {
	case "inprocess":
		fd, err := unix.MemfdCreate("dump", 0)
		if err != nil {
			panic(err)
		}
		for range dumps {
			unix.Ftruncate(fd, 0)
			unix.Seek(fd, 0, 0)
			debug.WriteHeapDump(uintptr(fd))
		}
	case "capture":
		c := capture.New(capture.Options{Attempts: 10})
		for i := range dumps {
			d, err := c.Capture(context.Background())
			if err != nil {
				fmt.Printf("FAILED capture %d: %v\n", i, err)
				os.Exit(1)
			}
			retried += d.Stats.Attempts - 1
			repaired += d.Stats.Repaired
			d.Close()
		}
	}
	fmt.Printf("SURVIVED n=%d retried=%d repaired=%d\n", dumps, retried, repaired)
}
