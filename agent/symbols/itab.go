package symbols

import (
	"fmt"
	"reflect"
)

// Itabs. A non-empty interface's first word is an *abi.ITab, not a type:
// compiler-generated itabs live in the image (listed in the .itablink
// section, read by the runtime's itabsinit), itabs made at run time (a type
// asserted to an interface the compiler never paired it with) live in
// persistentalloc memory that nothing here can bound. So an itab word is
// accepted only if it is in a set the caller supplies: the heap dump's Itab
// records (itab address → concrete type word, written by dumpitabs for
// every entry of the runtime's itabTable), or ModuleItabs for the
// compiler-generated ones. The concrete type word is then proven by TypeAt
// like any other word.

// An ItabSet maps itab addresses to the concrete type word of each.
type ItabSet map[uintptr]uintptr

// ModuleItabs reads the compiler-generated itabs of the main module from the
// .itablink section (.data.rel.ro.itablink in PIE builds): an array of itab
// pointers, read from the process's memory so that PIE relocations are
// applied, each itab in the image with its Type at offset 8.
func (im *Image) ModuleItabs() (ItabSet, error) {
	sec, err := im.section(".itablink", ".data.rel.ro.itablink")
	if err != nil {
		return nil, err
	}
	segs := &im.elf.segs
	set := make(ItabSet, sec.Size()/ptrSize)
	for a := sec.Start; a+ptrSize <= sec.End; a += ptrSize {
		itab := descriptor(a).word(0) // the section is mapped read-only image memory
		inImage := func(s Segment) bool { return itab >= s.Start && itab+itabTypeOff+ptrSize <= s.End }
		if itab%ptrSize != 0 || !(inImage(segs.rodata) || inImage(segs.types)) {
			return nil, fmt.Errorf("symbols: .itablink entry %#x is not in the image", itab)
		}
		set[itab] = descriptor(itab).word(itabTypeOff)
	}
	return set, nil
}

// InterfaceType types an interface's first word: an itab word if it is in
// itabs (pass nil for an empty interface, whose first word is always a
// type), otherwise a type word. Either way the type is proven by TypeAt.
func (im *Image) InterfaceType(word uintptr, itabs ItabSet) (reflect.Type, error) {
	if t, ok := itabs[word]; ok {
		return im.TypeAt(t)
	}
	return im.TypeAt(word)
}
