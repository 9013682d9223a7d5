package main

import (
	"fmt"
	"runtime"
)

// Slot sizes: how many heap bytes an allocation really takes on this Go
// version (go1.26, runtime/malloc.go mallocgc), so that heapgen can predict
// each root's retained bytes from its shape and check the prediction
// against the runtime's own accounting:
//
//   - a size up to maxSmallSize−mallocHeaderSize (32760) is small and takes
//     a slot of its size class; an object with pointers over 512 bytes
//     (gc.MinSizeForMallocHeader: it no longer fits heap bits in the span)
//     carries an 8-byte malloc header before its class is chosen;
//   - anything larger gets a span of its own, rounded up to whole 8 KiB
//     pages, with no header (its type is kept in the span).
//
// The size classes come from runtime.MemStats.BySize rather than a copy of
// the runtime's table; BySize lists only the first 61 classes (up to
// 18432 bytes), so a small size above that has no known slot here.
const (
	pageSize               = 8192
	mallocHeaderSize       = 8
	minSizeForMallocHeader = 512
	maxSmallSize           = 32768 - mallocHeaderSize
)

// sizeClasses are the slot sizes of MemStats.BySize, ascending, without
// the empty class 0.
var sizeClasses = func() []uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	var c []uint64
	for _, b := range m.BySize {
		if b.Size > 0 {
			c = append(c, uint64(b.Size))
		}
	}
	return c
}()

// slotSize returns the heap bytes one allocation of size bytes takes;
// pointers says whether its type holds pointers. It fails for a small size
// above the largest class BySize lists.
func slotSize(size uint64, pointers bool) (uint64, error) {
	if size > maxSmallSize {
		return (size + pageSize - 1) / pageSize * pageSize, nil
	}
	if pointers && size > minSizeForMallocHeader {
		size += mallocHeaderSize
	}
	for _, c := range sizeClasses {
		if size <= c {
			return c, nil
		}
	}
	return 0, fmt.Errorf("no known size class for %d bytes (MemStats.BySize ends at %d)", size, sizeClasses[len(sizeClasses)-1])
}

// payloadSize picks the []byte payload size nearest to want that wastes no
// slot bytes: a size class, or whole pages for a large object. 0 means no
// payload (want is below the smallest slot that is not a tiny allocation).
func payloadSize(want uint64) uint64 {
	const minPayload = 16 // smaller noscan objects share 16-byte tiny blocks
	if want < minPayload {
		return 0
	}
	if want > maxSmallSize {
		return (want + pageSize/2) / pageSize * pageSize
	}
	largest := sizeClasses[len(sizeClasses)-1]
	if want > largest {
		// Between the last listed class and the first large size: take
		// whichever end is nearer.
		firstLarge := uint64(maxSmallSize+pageSize) / pageSize * pageSize // 32768: 4 pages
		if want-largest < firstLarge-want {
			return largest
		}
		return firstLarge
	}
	for _, c := range sizeClasses {
		if want <= c {
			return c
		}
	}
	return largest
}

// mustSlot is slotSize for the sizes heapgen's own structs have, which
// always have a listed class.
func mustSlot(size uint64, pointers bool) uint64 {
	s, err := slotSize(size, pointers)
	if err != nil {
		panic(err)
	}
	return s
}
