//go:build linux

package capture

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"unsafe"
)

// slideProbe's run-time address minus its ELF symbol value is the load
// slide (0 for a non-PIE executable).
var slideProbe byte

const slideProbeSymbol = "github.com/heaptop/heaptop/agent/capture.slideProbe"

// runtimeSymbols reads from the symbol table of /proc/self/exe the bounds of
// runtime.noptrdata..enoptrdata and runtime.noptrbss..enoptrbss, the
// globals the GC does not scan and the dump leaves out, and the address of
// runtime.allgs (for repairGoroutines; 0 if absent).
//
// TODO(symbols): take these from agent/symbols, which owns ELF parsing;
// this reads seven symbols so that capture does not wait for it.
func runtimeSymbols() ([]Segment, uint64, error) {
	segs, allgs, _, err := readRuntimeSymbols()
	return segs, allgs, err
}

// readRuntimeSymbols is runtimeSymbols, plus runtime.mheap_'s range (zero
// if absent) for arenaIndex.
func readRuntimeSymbols() ([]Segment, uint64, memRange, error) {
	var mheap memRange
	f, err := elf.Open("/proc/self/exe")
	if err != nil {
		return nil, 0, mheap, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return nil, 0, mheap, fmt.Errorf("no symbol table in /proc/self/exe (stripped with -s?): %w", err)
	}
	want := map[string]uint64{
		"runtime.noptrdata": 0, "runtime.enoptrdata": 0,
		"runtime.noptrbss": 0, "runtime.enoptrbss": 0,
		slideProbeSymbol: 0,
	}
	var allgs uint64
	found := 0
	for _, s := range syms {
		if v, ok := want[s.Name]; ok && v == 0 {
			want[s.Name] = s.Value
			found++
		}
		if s.Name == "runtime.allgs" && s.Size == 24 {
			allgs = s.Value
		}
		if s.Name == "runtime.mheap_" {
			mheap = memRange{uintptr(s.Value), uintptr(s.Size)}
		}
	}
	if found != len(want) {
		return nil, 0, memRange{}, fmt.Errorf("symbol table of /proc/self/exe lacks the runtime's noptr segment bounds")
	}
	slide := uint64(uintptr(unsafe.Pointer(&slideProbe))) - want[slideProbeSymbol]
	if allgs != 0 {
		allgs += slide
	}
	if mheap.size != 0 {
		mheap.addr += uintptr(slide)
	}
	seg := func(name, start, end string) Segment {
		return Segment{Name: name, Addr: want[start] + slide, Size: want[end] - want[start]}
	}
	out := []Segment{
		seg("noptrdata", "runtime.noptrdata", "runtime.enoptrdata"),
		seg("noptrbss", "runtime.noptrbss", "runtime.enoptrbss"),
	}
	for _, s := range out {
		if want["runtime.e"+s.Name] < want["runtime."+s.Name] {
			return nil, 0, memRange{}, fmt.Errorf("runtime.%s ends before it starts", s.Name)
		}
	}
	return out, allgs, mheap, nil
}

// writtenParts returns the parts of segs the dump child must copy: all of
// noptrdata, and the pages of noptrbss this process ever wrote. An
// anonymous page that is neither resident nor swapped out (pagemap bits
// 63, 62) was never written and reads as zeros, which hold no reference;
// copying it would cost the child a page fault and the segments file a page
// (go1.26's crypto/internal/fips140 alone reserves 32 MiB of noptrbss that
// programs mostly never touch). noptrdata starts as file data, so a page
// not resident there is not zeros: it is always copied whole. Without a
// readable pagemap the segments are copied whole.
//
// The page map is read before the fork: a page first written between that
// read and the fork is missed, its words lost to this capture only.
func writtenParts(segs []Segment) []Segment {
	pm, err := os.Open("/proc/self/pagemap")
	if err != nil {
		return segs
	}
	defer pm.Close()
	const page = 4096
	var out []Segment
	for _, s := range segs {
		if s.Name != "noptrbss" || s.Size == 0 {
			out = append(out, s)
			continue
		}
		first, last := s.Addr/page, (s.Addr+s.Size-1)/page
		entries := make([]byte, 8*(last-first+1))
		if n, err := pm.ReadAt(entries, int64(8*first)); err != nil || n != len(entries) {
			out = append(out, s)
			continue
		}
		end := s.Addr + s.Size
		for i := uint64(0); i <= last-first; {
			if binary.LittleEndian.Uint64(entries[8*i:])&(3<<62) == 0 {
				i++
				continue
			}
			j := i
			for j <= last-first && binary.LittleEndian.Uint64(entries[8*j:])&(3<<62) != 0 {
				j++
			}
			lo, hi := max((first+i)*page, s.Addr), min((first+j)*page, end)
			out = append(out, Segment{Name: s.Name, Addr: lo, Size: hi - lo})
			i = j
		}
	}
	return out
}
