package symbols

import (
	"debug/elf"
	"fmt"
	"reflect"
	"sort"
)

// globalSym is one variable from .symtab, at run-time addresses.
type globalSym struct {
	start, end uintptr
	name       string
}

// globalsFromSymbols keeps the data objects that lie in a root segment. The
// Go linker gives every data symbol its size; zero-sized ones (segment
// markers such as runtime.data) name nothing and are dropped.
func globalsFromSymbols(syms []elf.Symbol, segs *segments, slide uintptr) []globalSym {
	var out []globalSym
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) != elf.STT_OBJECT || s.Size == 0 {
			continue
		}
		start := uintptr(s.Value) + slide
		for _, seg := range segs.rootSegments() {
			if seg.Contains(start) {
				out = append(out, globalSym{start: start, end: start + uintptr(s.Size), name: s.Name})
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	return out
}

// A GlobalRef names an address inside the data, bss, noptrdata or noptrbss
// segment: the variable that holds it and the field path to the word.
type GlobalRef struct {
	Segment   string  // "data", "bss", "noptrdata", "noptrbss"; "" if the address is in none
	SegOffset uintptr // offset from the segment start
	Var       string  // "main.table"; "" when .symtab is stripped or no symbol covers the address
	VarOffset uintptr // offset from the variable's start
	// Typed: DWARF gives the variable's type. Path is then the field path
	// from the variable to the word ("[3].next"), and Word the word as the
	// type lays it out: what it points at, for propagation. Type is the
	// variable's type when it has a runtime descriptor (an array type no
	// code converts to an interface has none; Path and Word still come from
	// DWARF).
	Typed bool
	Path  string
	Word  Hop
	Type  reflect.Type
}

// String is the name as the UI shows it: "main.table[3].next",
// "main.table+0x38" without DWARF, "bss+0x1a40" when stripped.
func (g GlobalRef) String() string {
	switch {
	case g.Var != "" && g.Typed:
		return g.Var + g.Path
	case g.Var != "" && g.VarOffset != 0:
		return fmt.Sprintf("%s+%#x", g.Var, g.VarOffset)
	case g.Var != "":
		return g.Var
	case g.Segment != "":
		return fmt.Sprintf("%s+%#x", g.Segment, g.SegOffset)
	}
	return "?"
}

// Global names the global variable containing addr (a run-time address in a
// data, bss or noptr segment, such as a Data/BSS root's start plus a field
// offset). It never fails: without symbols it names the segment offset, and
// Degraded says why.
func (im *Image) Global(addr uintptr) GlobalRef {
	var g GlobalRef
	if im.loadELF() != nil {
		return g
	}
	im.globalsMu.Lock()
	g, ok := im.globalCache[addr]
	im.globalsMu.Unlock()
	if ok {
		return g
	}
	g = im.global(addr)
	im.globalsMu.Lock()
	if len(im.globalCache) < maxGlobalCache {
		if im.globalCache == nil {
			im.globalCache = make(map[uintptr]GlobalRef)
		}
		im.globalCache[addr] = g
	}
	im.globalsMu.Unlock()
	return g
}

// maxGlobalCache bounds the names kept for root words. Roots are the same
// addresses capture after capture (the pointer words of data and bss: about
// 5,000 in a gRPC service), so naming each once makes later captures cheap;
// the bound keeps an odd program from growing it without limit.
const maxGlobalCache = 1 << 16

func (im *Image) global(addr uintptr) GlobalRef {
	var g GlobalRef
	for _, seg := range im.elf.segs.rootSegments() {
		if seg.Contains(addr) {
			g.Segment, g.SegOffset = seg.Name, addr-seg.Start
		}
	}
	gs := im.elf.globals
	i := im.symbolAt(addr)
	if i < 0 {
		if s, ok := im.staticAt(addr); ok {
			g.Var, g.VarOffset, g.Typed = s.owner, addr-s.start, true
			g.Type = im.dwarfType(s.elem)
			g.Word = im.dwarfWord(s.elem, g.VarOffset)
			g.Path = g.Word.Path
		}
		return g
	}
	g.Var, g.VarOffset = gs[i].name, addr-gs[i].start
	if dw := im.loadDWARF(); dw != nil {
		if typ, ok := dw.globalAt(uint64(gs[i].start - im.elf.slide)); ok {
			g.Typed = true
			g.Type = im.dwarfType(typ)
			g.Word = im.dwarfWord(typ, g.VarOffset)
			g.Path = g.Word.Path
		}
	}
	return g
}
