//go:build linux

package graph

import (
	"sync"

	"golang.org/x/sys/unix"
)

// A page of a fresh mapping costs its first touch (about 16 µs a 4 KiB
// page on the project's VM, where the hypervisor backs each page on first
// use), and a snapshot maps and unmaps arrays of a few sizes phase after
// phase. Between KeepFreed and ReleaseKept (the snapshot taker brackets a
// snapshot with them) unmapped arrays are kept for reuse instead, up to
// keptBytes in all, and cleared when reused; an allocation none of them
// fits returns them all to the system first, and so does ReleaseKept, so
// nothing is kept between snapshots.
var kept struct {
	sync.Mutex
	on    bool
	maps  [][]byte
	bytes int
}

const keptBytes = 256 << 20

var osPageSize = unix.Getpagesize()

func mapBytes(n int) ([]byte, error) {
	kept.Lock()
	for i, b := range kept.maps {
		if len(b) >= n && len(b) <= 2*n {
			kept.maps = append(kept.maps[:i], kept.maps[i+1:]...)
			kept.bytes -= len(b)
			kept.Unlock()
			clear(b[:n])
			// The pages past n, written by the array this mapping held
			// before, would stay resident as long as this one lives (a
			// held snapshot's arrays: 4 MiB of heapgen 1e6's 60): give
			// them back, to be read as zeros if ever touched again.
			if tail := (n + osPageSize - 1) &^ (osPageSize - 1); tail < len(b) {
				unix.Madvise(b[tail:], unix.MADV_DONTNEED)
			}
			return b[:n], nil // the whole mapping's capacity: Munmap finds it by its end
		}
	}
	// None fits: give back what is kept before mapping more, so that
	// keeping never raises the snapshot's peak above what unmapping at
	// once would have made it.
	drop := kept.maps
	kept.maps, kept.bytes = nil, 0
	kept.Unlock()
	for _, b := range drop {
		unix.Munmap(b)
	}
	return unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
}

func unmapBytes(b []byte) {
	b = b[:cap(b)]
	kept.Lock()
	if kept.on && kept.bytes+len(b) <= keptBytes {
		kept.maps = append(kept.maps, b)
		kept.bytes += len(b)
		kept.Unlock()
		return
	}
	kept.Unlock()
	unix.Munmap(b)
}

// KeepFreed starts keeping unmapped arrays for reuse.
func KeepFreed() {
	kept.Lock()
	kept.on = true
	kept.Unlock()
}

// ReleaseKept stops keeping unmapped arrays and unmaps those kept.
func ReleaseKept() {
	kept.Lock()
	maps := kept.maps
	kept.on, kept.maps, kept.bytes = false, nil, 0
	kept.Unlock()
	for _, b := range maps {
		unix.Munmap(b)
	}
}
