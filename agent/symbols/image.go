package symbols

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"
)

// An Image is the running executable as this package sees it: segment bounds
// at run-time addresses, global symbols, and (loaded on first need) DWARF.
//
// Nothing is read when an Image is made. Segments, globals and type proofs
// load the ELF headers and .symtab on first use (a few ms); local variables,
// global field paths and closure variables load DWARF on first use (tens to
// hundreds of ms, see BENCHMARKS.md). Call Load from the first capture, never
// from agent start. An Image is safe for concurrent use.
type Image struct {
	path string
	// slideFor computes the load slide from the opened ELF; for Self it reads
	// /proc/self/auxv.
	slideFor func(*elf.File) (uintptr, error)

	elfOnce sync.Once
	elfDone atomic.Bool // elfErr and elf are written
	elfErr  error       // the executable could not be read at all
	elf     elfIndex

	dwarfMu   sync.Mutex  // one load at a time; a load given up leaves dwarfDone false
	dwarfDone atomic.Bool // dwarf and dwarfWhy are written
	dwarf     *debugInfo  // nil when the binary has no usable DWARF
	dwarfWhy  string      // why dwarf is nil

	proofs typeProofs

	globalsMu   sync.Mutex
	globalCache map[uintptr]GlobalRef // guarded by globalsMu; see Global

	// self: the image of this process, whose memory may be read (statics).
	self        bool
	staticsOnce sync.Once
	staticObjs  []staticObject // written once by statics
}

// elfIndex is what the ELF headers and symbol table give. Written once by
// loadELF, read-only afterwards.
type elfIndex struct {
	slide    uintptr
	segs     segments
	globals  []globalSym // sorted by start, non-overlapping, size > 0
	symtab   bool        // .symtab was present
	degraded []string    // reasons naming is degraded, for the UI
	pie      bool
}

// A Segment is a range of the image at run-time addresses.
type Segment struct {
	Name       string // "text", "rodata", "types", "noptrdata", "data", "bss", "noptrbss"
	Start, End uintptr
}

// Contains reports whether a lies in [Start, End).
func (s Segment) Contains(a uintptr) bool { return a >= s.Start && a < s.End }

// Size is End-Start.
func (s Segment) Size() uintptr { return s.End - s.Start }

type segments struct {
	text, rodata, types, noptrdata, data, bss, noptrbss Segment
}

// rootSegments are the segments that hold global variables, in address order.
func (s *segments) rootSegments() []*Segment {
	return []*Segment{&s.noptrdata, &s.data, &s.bss, &s.noptrbss}
}

var (
	selfOnce  sync.Once
	selfImage *Image
)

// Self returns the Image of the running process (/proc/self/exe). It reads
// nothing until a method needs it.
func Self() *Image {
	selfOnce.Do(func() {
		selfImage = &Image{path: "/proc/self/exe", slideFor: slideFromAuxv, self: true}
	})
	return selfImage
}

// Load reads everything this package may need (ELF symbols, then DWARF) so
// later calls do not pay for it. It returns an error only if the executable
// cannot be read at all; missing symbols or DWARF degrade naming instead (see
// Degraded).
func (im *Image) Load() error {
	return im.LoadUntil(nil)
}

// LoadUntil is Load that gives up reading DWARF once stop is closed (it
// looks between sections), leaving it to be read by the next call that
// needs it: the agent closing mid-capture does not wait for the load.
func (im *Image) LoadUntil(stop <-chan struct{}) error {
	if err := im.loadELF(); err != nil {
		return err
	}
	im.loadDWARFUntil(stop)
	return nil
}

// Slide is the difference between run-time and link-time addresses: 0 for a
// position-dependent executable, the load offset for PIE.
func (im *Image) Slide() (uintptr, error) {
	if err := im.loadELF(); err != nil {
		return 0, err
	}
	return im.elf.slide, nil
}

// Segments returns the image's segments at run-time addresses: text, rodata,
// types (the range the runtime resolves type and name offsets in), then the
// four segments that hold globals.
func (im *Image) Segments() ([]Segment, error) {
	if err := im.loadELF(); err != nil {
		return nil, err
	}
	s := im.elf.segs
	return []Segment{s.text, s.rodata, s.types, s.noptrdata, s.data, s.bss, s.noptrbss}, nil
}

// Degraded lists why names from this image are less than complete, one
// sentence each (empty when .symtab and DWARF are both present). The UI shows
// them beside degraded names.
func (im *Image) Degraded() []string {
	if err := im.loadELF(); err != nil {
		return []string{err.Error()}
	}
	im.loadDWARF()
	out := append([]string(nil), im.elf.degraded...)
	if im.dwarf == nil && im.elf.symtab {
		out = append(out, im.dwarfWhy)
	}
	return out
}

// Reasons shown when the binary lacks symbols.
const (
	reasonStripped = "binary is stripped (no .symtab/DWARF): globals are named by segment offset"
	reasonNoDWARF  = "binary has no DWARF (built with -ldflags=-w): globals are named without field paths, frames without local variable names"
)

func (im *Image) loadELF() error {
	im.elfOnce.Do(func() {
		im.elf, im.elfErr = readELF(im.path, im.slideFor)
		im.elfDone.Store(true)
	})
	return im.elfErr
}

func readELF(path string, slideFor func(*elf.File) (uintptr, error)) (elfIndex, error) {
	var ix elfIndex
	f, err := elf.Open(path)
	if err != nil {
		return ix, fmt.Errorf("symbols: %w", err)
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB {
		return ix, fmt.Errorf("symbols: %s: only 64-bit little-endian executables are supported", path)
	}
	ix.pie = f.Type == elf.ET_DYN
	if ix.slide, err = slideFor(f); err != nil {
		return ix, err
	}
	syms, symErr := f.Symbols()
	ix.symtab = symErr == nil && len(syms) > 0
	if ix.symtab {
		err = ix.segsFromSymbols(syms)
	} else {
		ix.degraded = append(ix.degraded, reasonStripped)
		err = ix.segsFromSections(f)
	}
	if err != nil {
		return ix, err
	}
	if err := ix.checkSlide(); err != nil {
		return ix, err
	}
	if ix.symtab {
		ix.globals = globalsFromSymbols(syms, &ix.segs, ix.slide)
	}
	return ix, nil
}

// segsFromSymbols reads the segment bounds from the runtime.* symbols the
// linker defines (xdefine in cmd/link/internal/ld/symtab.go; runtime.types
// and etypes are set to the bounds of the section holding type descriptors,
// .rodata for a position-dependent executable and .data.rel.ro for PIE, in
// data.go). The runtime's moduledata holds the same values.
func (ix *elfIndex) segsFromSymbols(syms []elf.Symbol) error {
	want := map[string]uintptr{
		"runtime.text": 0, "runtime.etext": 0, "runtime.rodata": 0, "runtime.erodata": 0,
		"runtime.types": 0, "runtime.etypes": 0, "runtime.noptrdata": 0, "runtime.enoptrdata": 0,
		"runtime.data": 0, "runtime.edata": 0, "runtime.bss": 0, "runtime.ebss": 0,
		"runtime.noptrbss": 0, "runtime.enoptrbss": 0,
	}
	found := 0
	for _, s := range syms {
		if v, ok := want[s.Name]; ok && v == 0 {
			want[s.Name] = uintptr(s.Value) + ix.slide
			found++
		}
	}
	if found != len(want) {
		var missing []string
		for k, v := range want {
			if v == 0 {
				missing = append(missing, k)
			}
		}
		sort.Strings(missing)
		return fmt.Errorf("symbols: linker symbols missing from .symtab: %v", missing)
	}
	seg := func(name, start, end string) Segment {
		return Segment{Name: name, Start: want["runtime."+start], End: want["runtime."+end]}
	}
	ix.segs = segments{
		text:      seg("text", "text", "etext"),
		rodata:    seg("rodata", "rodata", "erodata"),
		types:     seg("types", "types", "etypes"),
		noptrdata: seg("noptrdata", "noptrdata", "enoptrdata"),
		data:      seg("data", "data", "edata"),
		bss:       seg("bss", "bss", "ebss"),
		noptrbss:  seg("noptrbss", "noptrbss", "enoptrbss"),
	}
	return nil
}

// segsFromSections reads the same bounds from the section headers, which
// -ldflags=-s keeps. The types range is the section the linker puts type
// descriptors in (see segsFromSymbols); TestSegmentsFromSectionsMatchSymbols
// checks both ways agree on real builds.
func (ix *elfIndex) segsFromSections(f *elf.File) error {
	typesSec := ".rodata"
	if ix.pie {
		typesSec = ".data.rel.ro"
	}
	get := func(name, sec string) (Segment, error) {
		s := f.Section(sec)
		if s == nil {
			return Segment{}, fmt.Errorf("symbols: no %s section and no .symtab", sec)
		}
		start := uintptr(s.Addr) + ix.slide
		return Segment{Name: name, Start: start, End: start + uintptr(s.Size)}, nil
	}
	var err error
	for _, x := range []struct {
		dst       *Segment
		name, sec string
	}{
		{&ix.segs.text, "text", ".text"}, {&ix.segs.rodata, "rodata", ".rodata"},
		{&ix.segs.types, "types", typesSec}, {&ix.segs.noptrdata, "noptrdata", ".noptrdata"},
		{&ix.segs.data, "data", ".data"}, {&ix.segs.bss, "bss", ".bss"},
		{&ix.segs.noptrbss, "noptrbss", ".noptrbss"},
	} {
		if *x.dst, err = get(x.name, x.sec); err != nil {
			return err
		}
	}
	return nil
}

// checkSlide proves the slide and the segment bounds describe this process:
// a function of this package must lie in text, and the type descriptor of a
// type this package declares must lie in the types range. If either fails,
// nothing here can be trusted, so the image is refused.
func (ix *elfIndex) checkSlide() error {
	pc := reflect.ValueOf(Self).Pointer()
	if !ix.segs.text.Contains(pc) {
		return fmt.Errorf("symbols: load slide %#x is wrong: function at %#x outside text [%#x, %#x)",
			ix.slide, pc, ix.segs.text.Start, ix.segs.text.End)
	}
	t := typeAddr(reflect.TypeFor[Segment]())
	if !ix.segs.types.Contains(t) {
		return fmt.Errorf("symbols: type data range [%#x, %#x) does not hold a known type descriptor at %#x",
			ix.segs.types.Start, ix.segs.types.End, t)
	}
	return nil
}

// slideFromAuxv computes the slide as AT_ENTRY (the run-time entry point the
// kernel passed to the process) minus the ELF header's entry point.
func slideFromAuxv(f *elf.File) (uintptr, error) {
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 0, fmt.Errorf("symbols: load slide: %w", err)
	}
	const atEntry = 9
	for i := 0; i+16 <= len(b); i += 16 {
		tag, val := binary.LittleEndian.Uint64(b[i:]), binary.LittleEndian.Uint64(b[i+8:])
		if tag == atEntry {
			return uintptr(val - f.Entry), nil
		}
		if tag == 0 {
			break
		}
	}
	return 0, errors.New("symbols: load slide: no AT_ENTRY in /proc/self/auxv")
}

// section finds the first of the named sections in the section headers
// (kept by -s) and returns its run-time range. Only allocated sections (mapped
// by the loader) are returned.
func (im *Image) section(names ...string) (Segment, error) {
	if err := im.loadELF(); err != nil {
		return Segment{}, err
	}
	f, err := elf.Open(im.path)
	if err != nil {
		return Segment{}, fmt.Errorf("symbols: %w", err)
	}
	defer f.Close()
	for _, name := range names {
		if s := f.Section(name); s != nil && s.Flags&elf.SHF_ALLOC != 0 && s.Type != elf.SHT_NOBITS {
			start := uintptr(s.Addr) + im.elf.slide
			return Segment{Name: name, Start: start, End: start + uintptr(s.Size)}, nil
		}
	}
	return Segment{}, fmt.Errorf("symbols: no section %v", names)
}

// Memory is an estimate of the bytes this Image keeps alive in the Go heap:
// the global symbol index and, once loaded, the DWARF sections and indexes
// (proven type descriptors live in the image and cost only their set
// entry). It loads nothing.
func (im *Image) Memory() int {
	n := 0
	if im.elfDone.Load() {
		for _, g := range im.elf.globals {
			n += 40 + len(g.name)
		}
	}
	if im.dwarfDone.Load() && im.dwarf != nil {
		n += im.dwarf.memory()
	}
	im.globalsMu.Lock()
	n += 200 * len(im.globalCache)
	im.globalsMu.Unlock()
	im.proofs.mu.Lock()
	n += 48 * len(im.proofs.proven)
	im.proofs.mu.Unlock()
	return n
}
