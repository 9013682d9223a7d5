package symbols

import (
	"debug/dwarf"
	"sort"
	"unsafe"
)

// Statically allocated objects. For `var cache = &Cache{...}` the compiler
// lays the Cache out in data or bss itself (a static temporary,
// cmd/compile/internal/staticinit) and the linker gives it no symbol, so
// its words would read as bare segment offsets ("data+0xc5e8"). The global
// pointing at it names it instead: a pointer-typed global (by DWARF) whose
// value, read from this process's memory, lies in a root segment outside
// every symbol owns the object its element type lays out there, and the
// object's words read "main.cache.entries".
//
// The values are read once, on first use: a static temporary is never
// moved, and should the global later point elsewhere, the object is still
// the one it was initialised with. Only the image of this process is read
// (Self); another image has no statics.

// staticObject is a statically allocated object and the global pointing at
// it.
type staticObject struct {
	start, end uintptr
	owner      string       // the pointer global's name
	elem       dwarf.Offset // the object's type: the pointer's element type
}

// statics returns the statically allocated objects, sorted by start.
func (im *Image) statics() []staticObject {
	im.staticsOnce.Do(func() {
		dw := im.loadDWARF()
		if !im.self || dw == nil {
			return
		}
		gs := im.elf.globals
		for _, g := range gs {
			typ, ok := dw.globalAt(uint64(g.start - im.elf.slide))
			if !ok || g.end-g.start != ptrSize || g.start%ptrSize != 0 {
				continue
			}
			e := dw.entryAt(typ)
			if e == nil || e.Tag != dwarf.TagPointerType {
				continue
			}
			elem, _ := e.Val(dwarf.AttrType).(dwarf.Offset)
			size := dw.byteSize(elem)
			if elem == 0 || size <= 0 {
				continue
			}
			v := readWord(g.start)
			if !im.inRootSegment(v) || im.symbolAt(v) >= 0 {
				continue
			}
			im.staticObjs = append(im.staticObjs, staticObject{start: v, end: v + uintptr(size), owner: g.name, elem: elem})
		}
		sort.Slice(im.staticObjs, func(i, j int) bool { return im.staticObjs[i].start < im.staticObjs[j].start })
	})
	return im.staticObjs
}

// staticAt returns the statically allocated object holding addr.
func (im *Image) staticAt(addr uintptr) (staticObject, bool) {
	ss := im.statics()
	i := sort.Search(len(ss), func(i int) bool { return ss[i].start > addr }) - 1
	if i < 0 || addr >= ss[i].end {
		return staticObject{}, false
	}
	return ss[i], true
}

// symbolAt is the index in elf.globals of the symbol holding addr, or -1.
func (im *Image) symbolAt(addr uintptr) int {
	gs := im.elf.globals
	i := sort.Search(len(gs), func(i int) bool { return gs[i].start > addr }) - 1
	if i < 0 || addr >= gs[i].end {
		return -1
	}
	return i
}

func (im *Image) inRootSegment(addr uintptr) bool {
	for _, seg := range im.elf.segs.rootSegments() {
		if seg.Contains(addr) {
			return true
		}
	}
	return false
}

// readWord reads the word at addr, an aligned address inside one of this
// process's data or bss segments (always mapped).
func readWord(addr uintptr) uintptr {
	p := *(*unsafe.Pointer)(unsafe.Pointer(&addr))
	return *(*uintptr)(p)
}
