//go:build linux

package capture

import (
	"debug/elf"
	"fmt"
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
	f, err := elf.Open("/proc/self/exe")
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return nil, 0, fmt.Errorf("no symbol table in /proc/self/exe (stripped with -s?): %w", err)
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
	}
	if found != len(want) {
		return nil, 0, fmt.Errorf("symbol table of /proc/self/exe lacks the runtime's noptr segment bounds")
	}
	slide := uint64(uintptr(unsafe.Pointer(&slideProbe))) - want[slideProbeSymbol]
	if allgs != 0 {
		allgs += slide
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
			return nil, 0, fmt.Errorf("runtime.%s ends before it starts", s.Name)
		}
	}
	return out, allgs, nil
}
