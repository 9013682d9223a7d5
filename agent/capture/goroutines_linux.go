//go:build linux && (amd64 || arm64)

package capture

import (
	"encoding/binary"

	"github.com/heaptop/heaptop/agent/heapdump"
)

// Goroutines the fork freezes mid-transition.
//
// The clone copies the process while other threads run on: a thread that
// was returning from a system call may be copied between exitsyscall's CAS
// to _Grunning and exitsyscallNoP's CAS to _Grunnable (or, in
// entersyscallblock, between giving up its P and its CAS to _Gsyscall). In
// the child no thread will ever finish that step, and the dumper throws on
// the _Grunning goroutine (see doc.go). With many goroutines returning from
// system calls (the stress test's 300 blocking readers and sleepers on a
// 2-core VM) a third of the children hit it. The same holds for _Gleaked,
// which lasts until the next GC cycle starts.
//
// So the child repairs its own copy before dumping: for every g in the
// runtime's allgs other than its own, _Grunning with a saved syscallsp
// becomes _Gsyscall (the goroutine is at the system call boundary and its
// stack above syscallsp is intact, which is what the dumper unwinds), and
// _Gleaked becomes _Gwaiting (what the next GC cycle does to it). The
// g layout is go1.26's (g_linux.go: atomicstatus at 144, syscallsp at
// 104). allgs comes from the symbol table (runtime.allgs) or, without one,
// from the first dump that succeeds: the bss slice header whose array holds
// every dumped goroutine's g (findAllgs). Until then children are not
// repaired and a frozen goroutine costs a retry.

// runtime2.go offsets and statuses used by the repair.
const (
	gSyscallsp   = 104
	gAtomicstate = 144

	gRunning = 2
	gSyscall = 3
	gWaiting = 4
	gLeaked  = 10
)

// peek, poke32 and getg are raw memory access for the child (g_*.s).
func peek(addr uintptr) uintptr
func poke32(addr uintptr, v uint32)
func getg() uintptr

// repairGoroutines runs in the confined child: see above. allgs is the
// address of the runtime's allgs slice header, 0 if unknown.
// Before touching anything it checks that the slice lists its own g, so a
// wrong address (a stale symbol, a bad guess) changes nothing.
func repairGoroutines(allgs uintptr) (patched uint32) {
	if allgs == 0 {
		return 0
	}
	arr, n := peek(allgs), peek(allgs+8)
	if arr == 0 || n == 0 || n > 1<<28 || peek(allgs+16) < n {
		return 0
	}
	self, listed := getg(), false
	for i := uintptr(0); i < n && !listed; i++ {
		listed = peek(arr+8*i) == self
	}
	if !listed {
		return 0
	}
	for i := uintptr(0); i < n; i++ {
		gp := peek(arr + 8*i)
		if gp == 0 || gp == self {
			continue
		}
		switch st := uint32(peek(gp + gAtomicstate)); {
		case st == gRunning && peek(gp+gSyscallsp) != 0:
			poke32(gp+gAtomicstate, gSyscall)
		case st == gLeaked:
			poke32(gp+gAtomicstate, gWaiting)
		default:
			continue
		}
		patched++
	}
	return patched
}

// findAllgs locates the runtime's allgs slice header in a dump of this
// process: a word pair (array, len) in bss, with cap >= len after it, whose
// array (an object, or the part after its malloc header) has first len
// words that include the g of every dumped goroutine.
// allgs and the GC's snapshot of it (work.stackRoots) can share the array;
// the longer header is allgs, which only grows. It returns 0 if none fits.
func findAllgs(dump []byte) uint64 {
	f := &allgsFinder{gs: map[uint64]bool{}, cands: map[uint64][]allgsCand{}}
	if heapdump.Parse(dump, f) != nil {
		return 0
	}
	f.second = true
	if heapdump.Parse(dump, f) != nil {
		return 0
	}
	return f.best
}

type allgsCand struct{ header, n uint64 }

type allgsFinder struct {
	heapdump.NopVisitor
	second  bool
	gs      map[uint64]bool
	cands   map[uint64][]allgsCand // array address -> headers pointing at it
	best    uint64
	bestLen uint64
}

func (f *allgsFinder) Goroutine(g *heapdump.Goroutine) error {
	if !f.second {
		f.gs[g.Addr] = true
	}
	return nil
}

func (f *allgsFinder) Segment(s *heapdump.Segment) error {
	if f.second || s.Tag != heapdump.TagBSS {
		return nil
	}
	for _, p := range s.Pointers {
		if p+24 > uint64(len(s.Contents)) {
			continue
		}
		arr := binary.LittleEndian.Uint64(s.Contents[p:])
		n := binary.LittleEndian.Uint64(s.Contents[p+8:])
		c := binary.LittleEndian.Uint64(s.Contents[p+16:])
		if arr != 0 && n > 0 && n <= c && n < 1<<28 {
			f.cands[arr] = append(f.cands[arr], allgsCand{s.Addr + p, n})
		}
	}
	return nil
}

func (f *allgsFinder) Object(o *heapdump.Object) error {
	if !f.second || len(f.gs) == 0 {
		return nil
	}
	// The array is the object, or (above 512 bytes) follows its malloc
	// header.
	for _, skip := range []uint64{0, 8} {
		words := o.Contents[min(skip, uint64(len(o.Contents))):]
		for _, c := range f.cands[o.Addr+skip] {
			if c.n*8 > uint64(len(words)) || c.n <= f.bestLen {
				continue
			}
			found := 0
			for i := uint64(0); i < c.n; i++ {
				if f.gs[binary.LittleEndian.Uint64(words[8*i:])] {
					found++
				}
			}
			if found == len(f.gs) {
				f.best, f.bestLen = c.header, c.n
			}
		}
	}
	return nil
}
