//go:build linux && (amd64 || arm64)

package capture

import (
	"encoding/binary"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The runtime's dumper begins (dumpparams) by reading the whole arena
// index, mheap_.arenas[0]: 2^22 words, 32 MiB on linux/amd64 and arm64,
// nearly all of it never written. In the dump child each of its 8,192 pages
// is a page fault (the fork gives no page-table entry for memory never
// touched): 150-250 ms of every capture on this VM. Mapping those pages to
// the zero page in this process first (MADV_POPULATE_READ: one system call,
// about 10 ms the first time) lets the fork copy entries instead.
//
// That is free only where the kernel maps the zero page. Some do not: on
// the project's VM (Linux 6.18) MADV_POPULATE_READ gives each page a page
// of its own, and the index stayed 32 MiB of the program's resident memory
// for as long as it ran (heapgen -objects 1e6: its index mapping went from
// 8 to 32 MiB resident after one capture, and stayed). A page only the
// runtime may write cannot be given back safely once populated, so where
// one probe page, populated, is a page of its own (populateCostsMemory)
// the index is left alone and the child pays the faults.
//
// The index is found, not assumed: it is the word of runtime.mheap_ that
// points at the start of 32 MiB inside one read-write mapping and whose
// slot for a heap object's arena is set. Without runtime.mheap_ in the
// symbol table, or with no such word, nothing is done: the child pays the
// faults, the dump is the same.

const (
	arenaL2Entries = 1 << 22 // arenaL2Bits on 64-bit Linux
	logArenaBytes  = 26      // 64 MiB heap arenas
)

// arenaBaseOffset is the runtime's: heap addresses are offset by it before
// indexing (malloc.go).
var arenaBaseOffset = map[string]uintptr{"amd64": 0xffff800000000000, "arm64": 0}[runtime.GOARCH]

// arenaProbe is a heap object whose arena must be in the index.
var arenaProbe = new([16]byte)

// findArenaIndex returns the arena index's range, or false. It reads the
// runtime's memory through /proc/self/mem, which fails cleanly where a
// guess is wrong.
func findArenaIndex(mheap memRange) (memRange, bool) {
	const word = unsafe.Sizeof(uintptr(0))
	size := uintptr(arenaL2Entries * word)
	slot := (uintptr(unsafe.Pointer(arenaProbe)) - arenaBaseOffset) >> logArenaBytes
	if mheap.size == 0 || slot >= arenaL2Entries {
		return memRange{}, false
	}
	private, err := mappingsWhere(func(_ memRange, perms string) bool { return perms == "rw-p" })
	maps := mappings(private)
	if err != nil {
		return memRange{}, false
	}
	mem, err := os.Open("/proc/self/mem")
	if err != nil {
		return memRange{}, false
	}
	defer mem.Close()
	heap := make([]byte, mheap.size)
	if _, err := mem.ReadAt(heap, int64(mheap.addr)); err != nil {
		return memRange{}, false
	}
	var entry [8]byte
	for off := 0; off+8 <= len(heap); off += 8 {
		p := uintptr(binary.LittleEndian.Uint64(heap[off:]))
		if p == 0 || p%uintptr(os.Getpagesize()) != 0 || !maps.contain(p, size) {
			continue
		}
		if _, err := mem.ReadAt(entry[:], int64(p+slot*word)); err == nil && binary.LittleEndian.Uint64(entry[:]) != 0 {
			return memRange{p, size}, true
		}
	}
	return memRange{}, false
}

// populateArenaIndex maps the never-written pages of the index to the
// zero page; pages already mapped are left as they are. Only where
// populateCostsMemory is false.
func populateArenaIndex(r memRange) {
	unix.Syscall(unix.SYS_MADVISE, r.addr, r.size, unix.MADV_POPULATE_READ)
}

// populateCostsMemory reports whether MADV_POPULATE_READ gives private
// anonymous memory pages of its own rather than the shared zero page (or
// fails): it populates one probe page and asks /proc/self/pagemap whether
// the page is mapped exclusively (bit 56, readable without privileges).
func populateCostsMemory() bool {
	page := os.Getpagesize()
	probe, err := unix.Mmap(-1, 0, page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return true
	}
	defer unix.Munmap(probe)
	if err := unix.Madvise(probe, unix.MADV_POPULATE_READ); err != nil {
		return true
	}
	pagemap, err := os.Open("/proc/self/pagemap")
	if err != nil {
		return true
	}
	defer pagemap.Close()
	var entry [8]byte
	if _, err := pagemap.ReadAt(entry[:], int64(uintptr(unsafe.Pointer(&probe[0]))/uintptr(page)*8)); err != nil {
		return true
	}
	const present, exclusive = 1 << 63, 1 << 56
	e := binary.LittleEndian.Uint64(entry[:])
	return e&present == 0 || e&exclusive != 0
}

type mappings []memRange

func (m mappings) contain(p, n uintptr) bool {
	for _, r := range m {
		if p >= r.addr && p+n <= r.addr+r.size && p+n > p {
			return true
		}
	}
	return false
}
