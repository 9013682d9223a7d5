package symbols

import (
	"debug/dwarf"
	"debug/elf"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Go's DWARF extensions (cmd/internal/dwarf/dwarf.go in go1.26.8).
const (
	attrGoKind          dwarf.Attr = 0x2900 // on type DIEs: the abi.Kind
	attrGoElem          dwarf.Attr = 0x2902 // on slice, chan, map DIEs: the element type
	attrGoRuntimeType   dwarf.Attr = 0x2904 // on type DIEs: link-time address of the runtime type descriptor (DW_FORM_addr)
	attrGoClosureOffset dwarf.Attr = 0x2907 // on closure variables: offset of the captured variable in the closure object
)

// maxDWARFBytes bounds the DWARF this package will hold in memory (the
// decompressed .debug_info, abbrev, str, addr, rnglists and loclists). A
// program importing net/http holds about 6 MiB (BENCHMARKS.md); past this
// bound the agent names without DWARF and says so rather than grow the
// target's memory without limit.
const maxDWARFBytes = 256 << 20

// debugInfo is the DWARF of the image, indexed once, read-only afterwards
// except for the caches, which mu guards.
type debugInfo struct {
	data     *dwarf.Data
	loclists []byte // .debug_loclists; debug/dwarf has no API for location lists
	addr     []byte // .debug_addr, for DW_LLE_base_addressx
	globals  []dwarfGlobal
	funcs    []dwarfFunc
	held     int // bytes of section data held

	mu       sync.Mutex
	rtypes   map[dwarf.Offset]uint64     // type DIE → runtime type offset from runtime.types (0: none)
	varCache map[dwarf.Offset][]dwarfVar // subprogram DIE → its variables
}

// dwarfGlobal is a package-level variable with a fixed address.
type dwarfGlobal struct {
	addr uint64 // link-time
	typ  dwarf.Offset
}

// dwarfFunc is a subprogram with code (inlined-only abstract subprograms have
// none).
type dwarfFunc struct {
	low, high uint64 // link-time [low, high)
	off       dwarf.Offset
	addrBase  uint64 // the compile unit's DW_AT_addr_base, for location lists
}

// loadDWARF reads and indexes the DWARF once; nil (with dwarfWhy set) when
// there is none or it cannot be used.
func (im *Image) loadDWARF() *debugInfo {
	return im.loadDWARFUntil(nil)
}

// errStopped is readDWARF giving up because its stop channel closed.
var errStopped = errors.New("DWARF load stopped")

// loadDWARFUntil is loadDWARF giving up, without a result, once stop is
// closed; a later call reads the DWARF again.
func (im *Image) loadDWARFUntil(stop <-chan struct{}) *debugInfo {
	// Naming asks for every global and frame: once loaded, no lock.
	if im.dwarfDone.Load() {
		return im.dwarf
	}
	im.dwarfMu.Lock()
	defer im.dwarfMu.Unlock()
	if im.dwarfDone.Load() {
		return im.dwarf
	}
	// debug/dwarf reads the executable as it finds it; a panic there
	// leaves naming without DWARF, not the program without its capture.
	defer func() {
		if r := recover(); r != nil {
			im.dwarf, im.dwarfWhy = nil, fmt.Sprintf("DWARF unreadable: %v", r)
			im.dwarfDone.Store(true)
		}
	}()
	if im.loadELF() != nil {
		im.dwarfWhy = "executable unreadable"
		im.dwarfDone.Store(true)
		return nil
	}
	dw, err := readDWARF(im.path, stop)
	if errors.Is(err, errStopped) {
		return nil
	}
	if err != nil {
		im.dwarfWhy = err.Error()
	}
	im.dwarf = dw
	im.dwarfDone.Store(true)
	return dw
}

// readDWARF reads the sections naming needs and indexes them; it checks
// stop (nil: never) before each step.
func readDWARF(path string, stop <-chan struct{}) (*debugInfo, error) {
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if f.Section(".debug_info") == nil {
		return nil, fmt.Errorf("%s", reasonNoDWARF)
	}
	dw := &debugInfo{rtypes: make(map[dwarf.Offset]uint64), varCache: make(map[dwarf.Offset][]dwarfVar)}
	sec := func(name string) ([]byte, error) {
		if stopped() {
			return nil, errStopped
		}
		s := f.Section(name)
		if s == nil {
			return nil, nil
		}
		if s.Size > maxDWARFBytes || dw.held+int(s.Size) > maxDWARFBytes {
			return nil, fmt.Errorf("DWARF larger than %d MiB: frames and globals are named without DWARF", maxDWARFBytes>>20)
		}
		b, err := s.Data() // decompresses SHF_COMPRESSED sections
		if err != nil {
			return nil, fmt.Errorf("DWARF section %s: %w", name, err)
		}
		dw.held += len(b)
		return b, nil
	}
	var abbrev, info, str, addr, rng, loc []byte
	for _, x := range []struct {
		dst  *[]byte
		name string
	}{
		{&abbrev, ".debug_abbrev"}, {&info, ".debug_info"}, {&str, ".debug_str"},
		{&addr, ".debug_addr"}, {&rng, ".debug_rnglists"}, {&loc, ".debug_loclists"},
	} {
		if *x.dst, err = sec(x.name); err != nil {
			return nil, err
		}
	}
	// .debug_line is not loaded: file:line comes from the runtime's pclntab.
	dw.data, err = dwarf.New(abbrev, nil, nil, info, nil, nil, nil, str)
	if err != nil {
		return nil, fmt.Errorf("DWARF: %w", err)
	}
	dw.data.AddSection(".debug_addr", addr)
	dw.data.AddSection(".debug_rnglists", rng)
	dw.addr, dw.loclists = addr, loc
	if stopped() {
		return nil, errStopped
	}
	if err := dw.indexUnits(info, abbrev); err != nil {
		return nil, fmt.Errorf("DWARF: %w", err)
	}
	return dw, nil
}

// memory is an estimate of the bytes this index keeps alive: section data
// plus the index slices (debug/dwarf's own unit table is small and ignored).
func (dw *debugInfo) memory() int {
	return dw.held + len(dw.globals)*16 + len(dw.funcs)*32
}

// globalAt is the DWARF type of the global that starts at addr (link-time).
func (dw *debugInfo) globalAt(addr uint64) (dwarf.Offset, bool) {
	i := sort.Search(len(dw.globals), func(i int) bool { return dw.globals[i].addr >= addr })
	if i == len(dw.globals) || dw.globals[i].addr != addr {
		return 0, false
	}
	return dw.globals[i].typ, true
}

// runtimeType is the runtime type descriptor of the type DIE at off, as an
// offset from runtime.types; 0 if it has none.
//
// In go1.26.8 DW_AT_go_runtime_type is written as an R_ADDROFF relocation
// (cmd/internal/dwarf putattr, DW_CLS_GO_TYPEREF → AddSectionOffset), so it
// holds the descriptor's offset from the start of the section holding type
// descriptors, which is runtime.types — not an address (older Go and the
// reference notes say address). The linker attaches it only to types whose
// descriptor is reachable (cmd/link dwarf.go newtype), and about half the
// DIEs carrying it hold 0: their descriptor was not kept, e.g. an array
// type no code converts to an interface. TestImageTypeWords checks the
// offsets against reflect.
func (dw *debugInfo) runtimeType(off dwarf.Offset) uint64 {
	dw.mu.Lock()
	defer dw.mu.Unlock()
	if rt, ok := dw.rtypes[off]; ok {
		return rt
	}
	var rt uint64
	if e := dw.entryAt(off); e != nil {
		rt, _ = e.Val(attrGoRuntimeType).(uint64)
	}
	dw.rtypes[off] = rt
	return rt
}

// byteSize is DW_AT_byte_size of the type at off, following typedefs; 8
// for pointer types (Go's DWARF gives them no size); 0 if unknown.
func (dw *debugInfo) byteSize(off dwarf.Offset) int64 {
	for range 8 {
		e := dw.entryAt(off)
		if e == nil {
			return 0
		}
		if n, ok := e.Val(dwarf.AttrByteSize).(int64); ok {
			return n
		}
		switch e.Tag {
		case dwarf.TagPointerType:
			return ptrSize
		case dwarf.TagTypedef:
			off, _ = e.Val(dwarf.AttrType).(dwarf.Offset)
		default:
			return 0
		}
	}
	return 0
}

func (dw *debugInfo) entryAt(off dwarf.Offset) *dwarf.Entry {
	r := dw.data.Reader()
	r.Seek(off)
	e, err := r.Next()
	if err != nil {
		return nil
	}
	return e
}

// funcAt is the subprogram whose code contains pc (link-time).
func (dw *debugInfo) funcAt(pc uint64) (dwarfFunc, bool) {
	i := sort.Search(len(dw.funcs), func(i int) bool { return dw.funcs[i].low > pc }) - 1
	if i < 0 || pc >= dw.funcs[i].high {
		return dwarfFunc{}, false
	}
	return dw.funcs[i], true
}

func le64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// dwarfWord names the word at off inside a value of the DWARF type at typ:
// through DWARF while the types have no runtime descriptor (array and
// struct members from DW_TAG_subrange_type / DW_TAG_member; slices,
// strings, interfaces, maps, chans and funcs by DW_AT_go_kind, since the
// linker describes them as synthetic structs and typedefs), then through
// reflect from the first type that has one.
func (im *Image) dwarfWord(typ dwarf.Offset, off uintptr) Hop {
	dw := im.dwarf
	var path strings.Builder
	owner := "" // the innermost named struct walked through DWARF
	leaf := func(h Hop) Hop {
		h.Path = path.String() + h.Path
		if h.OwnerPkg == "" {
			h.OwnerPkg = owner
		}
		return h
	}
	for range 64 {
		if t := im.dwarfType(typ); t != nil {
			return leaf(ValueOf(t).Word(off))
		}
		r := dw.data.Reader()
		r.Seek(typ)
		e, err := r.Next()
		if err != nil || e == nil {
			break
		}
		next, _ := e.Val(dwarf.AttrType).(dwarf.Offset)
		elem, _ := e.Val(attrGoElem).(dwarf.Offset)
		kind, _ := e.Val(attrGoKind).(int64)
		word := off / ptrSize
		switch {
		case kind == kindSlice:
			if word == 0 {
				return leaf(Hop{Pointer: true, Target: im.arrayOf(elem)})
			}
			return leaf(Hop{Part: [...]string{"", "len", "cap"}[min(word, 2)]})
		case kind == kindString:
			if word == 0 {
				return leaf(Hop{Pointer: true, Target: Layout{Kind: StringBytes}})
			}
			return leaf(Hop{Part: "len"})
		case kind == kindInterface:
			if word == 0 {
				return leaf(Hop{Pointer: true, Part: "type"})
			}
			return leaf(Hop{Pointer: true, Part: "data", IfaceData: true})
		case kind == kindMap || kind == kindChan || kind == kindFunc || kind == kindUnsafePointer:
			// Always one pointer; its target needs the type's descriptor,
			// which this type does not have.
			return leaf(Hop{Pointer: true})
		case e.Tag == dwarf.TagTypedef:
			typ = next
			continue
		case e.Tag == dwarf.TagArrayType:
			es := uintptr(dw.byteSize(next))
			if es == 0 {
				break
			}
			i := off / es
			path.WriteString("[" + strconv.FormatUint(uint64(i), 10) + "]")
			typ, off = next, off-i*es
			continue
		case e.Tag == dwarf.TagStructType:
			if pkg := dwarfTypePkg(e); pkg != "" && pkg != "sync/atomic" {
				owner = pkg
			}
			name, ftyp, foff, ok := dw.memberAt(r, e, off)
			if !ok {
				path.WriteString("(padding)")
				break
			}
			path.WriteString("." + name)
			typ, off = ftyp, off-foff
			continue
		case e.Tag == dwarf.TagPointerType:
			h := Hop{Pointer: true}
			if t := im.dwarfType(next); t != nil {
				h.Target = ValueOf(t)
			}
			return leaf(h)
		}
		break
	}
	return leaf(Hop{Part: hexOffNonZero(off)})
}

// dwarfTypePkg is the import path of the package of a named DWARF type:
// the Go linker names types by path ("net/http.Client",
// "main.Box[main.T]"); "" for unnamed types.
func dwarfTypePkg(e *dwarf.Entry) string {
	name, _ := e.Val(dwarf.AttrName).(string)
	if i := strings.IndexByte(name, '['); i >= 0 {
		name = name[:i]
	}
	slash := strings.LastIndexByte(name, '/')
	if dot := strings.IndexByte(name[slash+1:], '.'); dot > 0 {
		return name[:slash+1+dot]
	}
	return ""
}

// arrayOf is the layout of an array of the DWARF type at elem.
func (im *Image) arrayOf(elem dwarf.Offset) Layout {
	if t := im.dwarfType(elem); t != nil {
		return Layout{Kind: Value, Type: t, Array: true}
	}
	return Layout{}
}

// memberAt is the member of the struct DIE e (just read from r) whose bytes
// hold off.
func (dw *debugInfo) memberAt(r *dwarf.Reader, e *dwarf.Entry, off uintptr) (string, dwarf.Offset, uintptr, bool) {
	if !e.Children {
		return "", 0, 0, false
	}
	var name string
	var typ dwarf.Offset
	var start uintptr
	found := false
	for {
		m, err := r.Next()
		if err != nil || m == nil || m.Tag == 0 {
			break
		}
		if m.Tag != dwarf.TagMember {
			if m.Children {
				r.SkipChildren()
			}
			continue
		}
		loc, _ := m.Val(dwarf.AttrDataMemberLoc).(int64)
		mt, _ := m.Val(dwarf.AttrType).(dwarf.Offset)
		size := dw.byteSize(mt)
		if loc >= 0 && uintptr(loc) <= off && off-uintptr(loc) < uintptr(size) {
			name, _ = m.Val(dwarf.AttrName).(string)
			typ, start, found = mt, uintptr(loc), true
		}
	}
	return name, typ, start, found
}
