package symbols

import (
	"reflect"
	"strconv"
	"strings"
)

// Runtime internals that user types point at: swiss-map groups, channel
// headers and closures. Offsets are in abi.go.

// mapGroupType is the group type of map type mt (abi.MapType.Group).
// Precondition: mt is a map type backed by a real descriptor (from TypeAt
// or reflect), so its Group is a real descriptor too.
func mapGroupType(mt reflect.Type) reflect.Type {
	return typeFromProven(descriptor(typeAddr(mt)).word(mapGroupOff))
}

// isMapGroup recognises the compiler's group type for a map
// (reflectdata.MapGroupType): a struct printed "map.group[K]V" with fields
// ctrl uint64 and slots [8]struct{key K'; elem V'}.
func isMapGroup(t reflect.Type) bool {
	if t.Kind() != reflect.Struct || t.NumField() != 2 || !strings.HasPrefix(t.String(), "map.group[") {
		return false
	}
	ctrl, slots := t.Field(0), t.Field(1)
	return ctrl.Name == "ctrl" && ctrl.Offset == 0 && ctrl.Type.Kind() == reflect.Uint64 &&
		slots.Name == "slots" && slots.Offset == mapCtrlWordSize && slots.Type.Kind() == reflect.Array &&
		slots.Type.Len() == mapGroupSlots && slots.Type.Elem().Kind() == reflect.Struct &&
		slots.Type.Elem().NumField() == 2
}

// groupWord names a word in an array of map groups of group type l.Type:
// the ctrl word, or a word of slot i's key or value. An indirect key or
// value (over 128 B) is a pointer to it, so its word reads "map key" with
// the key as the target.
func (l Layout) groupWord(off uintptr) Hop {
	gt := l.Type
	g := off / gt.Size()
	off -= g * gt.Size()
	prefix := ""
	if g > 0 {
		prefix = "(map group " + strconv.FormatUint(uint64(g), 10) + ") "
	}
	if off < mapCtrlWordSize {
		return Hop{Path: prefix + "(map ctrl word)", Internal: true}
	}
	slot := gt.Field(1).Type.Elem()
	off = (off - mapCtrlWordSize) % slot.Size()
	key, elem := slot.Field(0), slot.Field(1)
	label, f := "map key", key
	if off >= elem.Offset {
		label, f = "map value", elem
	}
	h := walkValue(f.Type, off-f.Offset)
	h.Path = label + h.Path
	return h
}

// chanWord names a word of runtime.hchan for chan type ct.
func chanWord(ct reflect.Type, off uintptr) Hop {
	switch off {
	case hchanBufOff:
		return Hop{Path: "(chan buffer)", Pointer: true, Internal: true,
			Target: Layout{Kind: Value, Type: ct.Elem(), Array: true}}
	case hchanTimerOff:
		return Hop{Path: "(chan timer)", Pointer: true, Internal: true}
	case hchanElemTypeOff:
		return Hop{Path: "(chan elemtype)", Pointer: true, Internal: true}
	case hchanRecvqOff, hchanRecvqOff + ptrSize:
		return Hop{Path: "(chan receiver)", Pointer: true, Internal: true}
	case hchanSendqOff, hchanSendqOff + ptrSize:
		return Hop{Path: "(chan sender)", Pointer: true, Internal: true}
	case hchanBubbleOff:
		return Hop{Path: "(chan synctest bubble)", Pointer: true, Internal: true}
	}
	if off >= hchanSize {
		// Elements without pointers share the header's allocation.
		return Hop{Path: "(chan buffer)", Part: hexOff(off - hchanSize), Internal: true}
	}
	return Hop{Path: "(chan header)", Part: hexOff(off), Internal: true}
}

// A ClosureVar is a variable a closure captured, at Offset in the closure
// object (the code pointer is at 0). Name is "x", or "&x" when the closure
// holds the address of a variable moved to the heap.
type ClosureVar struct {
	Offset uintptr
	Name   string
	Type   reflect.Type // nil if the variable's type has no runtime descriptor
	size   uintptr      // from DWARF
	word   func(off uintptr) Hop
}

// closureWord names a word of a closure object.
func (l Layout) closureWord(off uintptr) Hop {
	if off == 0 {
		return Hop{Path: "(closure code)"}
	}
	for _, v := range l.Vars {
		if off >= v.Offset && off-v.Offset < v.size {
			h := v.word(off - v.Offset)
			h.Path = "." + v.Name + h.Path
			return h
		}
	}
	return Hop{Path: "(closure var)", Part: hexOff(off)}
}

// ClosureLayout is the layout of a closure object of func type ft whose code
// pointer (its first word) is code: with DWARF, the captured variables are
// named by DW_AT_go_closure_offset on the variables of the closure's
// function; without, words read "(closure var)+0x8". Which variables DWARF
// lists is the compiler's choice: variables the closure body never reads
// are omitted.
func (im *Image) ClosureLayout(ft reflect.Type, code uintptr) Layout {
	l := Layout{Kind: Closure, Type: ft, Code: code}
	dw := im.loadDWARF()
	if dw == nil || code == 0 || !im.elf.segs.text.Contains(code) {
		return l
	}
	fn, ok := dw.funcAt(uint64(code - im.elf.slide))
	if !ok {
		return l
	}
	for _, v := range im.vars(fn) {
		if v.closureOff > 0 && v.typ != 0 {
			typ := v.typ
			l.Vars = append(l.Vars, ClosureVar{
				Offset: uintptr(v.closureOff), Name: v.name, Type: v.rtype, size: uintptr(v.size),
				word: func(off uintptr) Hop { return im.dwarfWord(typ, off) },
			})
		}
	}
	return l
}
