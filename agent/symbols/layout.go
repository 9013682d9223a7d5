package symbols

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// The layout walker: given what an object is (a Layout) and a byte offset in
// it, say how a Go engineer names that word (Hop.Path) and, when the word is
// a pointer, what the garbage collector knows the target to be (Hop.Target),
// which is how types propagate from typed roots and headers over the graph.
//
// Pointer words and their targets, by the type of the field that holds them:
//
//	*T                 → one T
//	[]T                → the backing array: T repeated ([i] paths)
//	string             → the string's bytes (no pointers)
//	map[K]V            → internal/runtime/maps.Map (48 B), whose dirPtr holds
//	                     either the single group of a small map (dirLen == 0)
//	                     or a directory [dirLen]*table; a table's groups.data
//	                     holds the groups array: each group is a ctrl word and
//	                     8 slots {key K; elem V} (K or V replaced by *K or *V
//	                     when over 128 B, MapIndirectKey/Elem); words in the
//	                     slots read "map key" and "map value".
//	chan T             → runtime.hchan (112 B); hchan.buf holds the ring
//	                     buffer, a separate object only if T has pointers
//	                     (makechan allocates one noscan object otherwise)
//	func               → the closure object (funcval): a code pointer, then
//	                     the captured variables, named from DWARF
//	                     (DW_AT_go_closure_offset) when the code pointer is
//	                     known, else by offset
//	interface          → word 0 is the type or itab word (type data, not heap),
//	                     word 1 the data, typed by word 0: see InterfaceTarget
//	unsafe.Pointer     → untyped
//
// Map and channel layouts are go1.26.8's (abi.go; checked against DWARF by
// TestImageRuntimeLayoutsMatchDWARF).

// LayoutKind says what kind of memory a Layout describes.
type LayoutKind uint8

const (
	Untyped       LayoutKind = iota // nothing known
	Value                           // values of Type (an array of them when Array)
	StringBytes                     // the bytes of a string
	MapHeader                       // maps.Map of map type Type
	MapDirOrGroup                   // Map.dirPtr's target: a directory or a small map's group; see ResolveMapDir
	MapDirectory                    // [dirLen]*maps.table of map type Type
	MapTable                        // maps.table of map type Type
	MapGroups                       // groups of a map; Type is the group type (map.group[K]V), Array is true
	ChanHeader                      // runtime.hchan of chan type Type
	Closure                         // funcval of func type Type
)

var layoutKindNames = [...]string{
	Untyped: "untyped", Value: "value", StringBytes: "string bytes", MapHeader: "map header",
	MapDirOrGroup: "map directory or group", MapDirectory: "map directory", MapTable: "map table",
	MapGroups: "map groups", ChanHeader: "chan header", Closure: "closure",
}

func (k LayoutKind) String() string {
	if int(k) < len(layoutKindNames) {
		return layoutKindNames[k]
	}
	return "LayoutKind(" + strconv.Itoa(int(k)) + ")"
}

// A Layout is what the walker knows about a piece of memory.
type Layout struct {
	Kind  LayoutKind
	Type  reflect.Type // see LayoutKind; nil when Untyped
	Array bool         // Value or MapGroups repeated from offset 0: [i] prefixes
	// Closure only: the closure's code pointer (0 if unknown) and the
	// captured variables DWARF names for it.
	Code uintptr
	Vars []ClosureVar
}

// ValueOf is the layout of one value of t.
func ValueOf(t reflect.Type) Layout { return Layout{Kind: Value, Type: t} }

// HeaderLayout is the layout of a heap object whose malloc header (or whose
// allocation) says it holds values of t: an array of t, or the groups of a
// map when t is a map group type.
func HeaderLayout(t reflect.Type) Layout {
	if isMapGroup(t) {
		return Layout{Kind: MapGroups, Type: t, Array: true}
	}
	return Layout{Kind: Value, Type: t, Array: true}
}

// String names the memory as the UI shows it: a value as its type
// ("main.Session"), an array as "[]main.Session backing array", runtime
// layouts as "map header of map[string]*main.Session" or "closure
// main.main.func1".
func (l Layout) String() string {
	switch l.Kind {
	case Untyped:
		return "untyped"
	case Value:
		if l.Array {
			return "[]" + l.Type.String() + " backing array"
		}
		return l.Type.String()
	case StringBytes:
		return "string bytes"
	case Closure:
		if name := FuncName(l.Code); name != "" {
			return "closure " + name
		}
	}
	if l.Type == nil {
		return l.Kind.String()
	}
	return l.Kind.String() + " of " + l.Type.String()
}

// A Hop is one word of a layout, as a reference from it.
type Hop struct {
	// Path names the word from the start of the layout: ".sessions",
	// "[3].next", "map value", "map key.name", "(chan buffer)". Internal
	// runtime words are in parentheses.
	Path string
	// Part says which word of a multi-word value this is: "" for a
	// one-word value or the pointer word of a slice or string; "len" and
	// "cap" for their other words; "type" and "data" for an interface's
	// words; "+0x8"-style offsets inside a scalar or an unnamed region.
	Part string
	// Pointer: the GC treats the word as a pointer (an interface's type word
	// included, though it points at type data, never the heap).
	Pointer bool
	// Target is what the pointer points at, as the GC would type it; Untyped
	// when the word is no pointer or nothing is known.
	Target Layout
	// IfaceData: the word is an interface's data word; type it with
	// InterfaceTarget from the interface's type word (the word 8 bytes
	// before) instead of Target.
	IfaceData bool
	// Internal: the hop is runtime machinery (map directory, table, groups,
	// chan buffer) that a path view may fold into the user-level hop.
	Internal bool
	// Scalar is the kind of the non-pointer value that holds the word
	// (reflect.Uintptr for a uintptr field, reflect.Uint8 inside a [16]byte);
	// reflect.Invalid for pointer words and when the type is not known
	// there. Package analysis judges hidden references by it: only a
	// pointer-sized integer can be an address the program kept.
	Scalar reflect.Kind
	// OwnerPkg is the import path of the innermost named struct type whose
	// field holds the word ("runtime" for a runtime.Cleanup's ptr field),
	// skipping sync/atomic's types, which box a value for the struct that
	// holds them; "" when no named struct holds it.
	OwnerPkg string
}

// Word names the word at byte offset off in memory laid out as l.
func (l Layout) Word(off uintptr) Hop {
	if l.Type == nil && l.Kind != StringBytes {
		return Hop{Path: hexOff(off)} // untyped, or a kind whose type is missing
	}
	switch l.Kind {
	case Value:
		return l.valueWord(off)
	case StringBytes:
		return Hop{Path: "[" + strconv.FormatUint(uint64(off), 10) + "]"}
	case MapHeader:
		if off == mapHdrDirPtrOff {
			return Hop{Path: "(map directory)", Pointer: true, Internal: true, Target: Layout{Kind: MapDirOrGroup, Type: l.Type}}
		}
		return Hop{Path: "(map header)", Part: hexOff(off), Internal: true}
	case MapDirOrGroup:
		return Hop{Path: "(map directory or group)", Part: hexOff(off), Internal: true}
	case MapDirectory:
		return Hop{Path: "(map table " + strconv.FormatUint(uint64(off/ptrSize), 10) + ")", Pointer: true, Internal: true,
			Target: Layout{Kind: MapTable, Type: l.Type}}
	case MapTable:
		if off == mapTableGroupsOff {
			return Hop{Path: "(map groups)", Pointer: true, Internal: true,
				Target: Layout{Kind: MapGroups, Type: mapGroupType(l.Type), Array: true}}
		}
		return Hop{Path: "(map table)", Part: hexOff(off), Internal: true}
	case MapGroups:
		return l.groupWord(off)
	case ChanHeader:
		return chanWord(l.Type, off)
	case Closure:
		return l.closureWord(off)
	}
	return Hop{Path: hexOff(off)}
}

// ResolveMapDir decides what Map.dirPtr points at. The wiring decides from
// the target object: a directory's first word is a pointer to a table
// (every directory entry is set), a group's first word is its ctrl word,
// never a pointer. So isDirectory = "the target has a pointer at offset 0".
func (l Layout) ResolveMapDir(isDirectory bool) Layout {
	if l.Kind != MapDirOrGroup {
		return l
	}
	if isDirectory {
		return Layout{Kind: MapDirectory, Type: l.Type, Array: true}
	}
	return Layout{Kind: MapGroups, Type: mapGroupType(l.Type), Array: true}
}

func (l Layout) valueWord(off uintptr) Hop {
	t := l.Type
	size := t.Size()
	var prefix string
	if l.Array && size > 0 {
		i := off / size
		prefix, off = "["+strconv.FormatUint(uint64(i), 10)+"]", off-i*size
	} else if off >= size {
		return Hop{Path: "(past " + t.String() + ")", Part: hexOff(off)}
	}
	h := walkValue(t, off)
	h.Path = prefix + h.Path
	return h
}

// walkValue descends through structs and arrays to the field holding off,
// then names the word in that field.
func walkValue(t reflect.Type, off uintptr) Hop {
	var path strings.Builder
	owner := ""
	for {
		switch t.Kind() {
		case reflect.Struct:
			if t.Name() != "" && t.PkgPath() != "sync/atomic" {
				owner = t.PkgPath()
			}
			f, ok := fieldAt(t, off)
			if !ok {
				path.WriteString("(padding)")
				return Hop{Path: path.String(), Part: hexOff(off), OwnerPkg: owner}
			}
			path.WriteString(".")
			path.WriteString(f.Name)
			t, off = f.Type, off-f.Offset
			continue
		case reflect.Array:
			es := t.Elem().Size()
			if es == 0 {
				return Hop{Path: path.String()}
			}
			i := off / es
			path.WriteString("[" + strconv.FormatUint(uint64(i), 10) + "]")
			t, off = t.Elem(), off-i*es
			continue
		}
		h := leafWord(t, off)
		h.Path = path.String()
		h.OwnerPkg = owner
		return h
	}
}

// fieldAt is the field of struct t whose bytes hold off.
func fieldAt(t reflect.Type, off uintptr) (reflect.StructField, bool) {
	for i := t.NumField() - 1; i >= 0; i-- {
		f := t.Field(i)
		if f.Offset <= off && off-f.Offset < f.Type.Size() {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// leafWord names the word at off inside a value of t, a type that is not a
// struct or array.
func leafWord(t reflect.Type, off uintptr) Hop {
	word := off / ptrSize
	switch t.Kind() {
	case reflect.Pointer:
		return Hop{Pointer: true, Target: ValueOf(t.Elem())}
	case reflect.UnsafePointer:
		return Hop{Pointer: true}
	case reflect.Map:
		return Hop{Pointer: true, Target: Layout{Kind: MapHeader, Type: t}}
	case reflect.Chan:
		return Hop{Pointer: true, Target: Layout{Kind: ChanHeader, Type: t}}
	case reflect.Func:
		return Hop{Pointer: true, Target: Layout{Kind: Closure, Type: t}}
	case reflect.Slice:
		if word == 0 {
			return Hop{Pointer: true, Target: Layout{Kind: Value, Type: t.Elem(), Array: true}}
		}
		return Hop{Part: [...]string{"", "len", "cap"}[word], Scalar: reflect.Int}
	case reflect.String:
		if word == 0 {
			return Hop{Pointer: true, Target: Layout{Kind: StringBytes}}
		}
		return Hop{Part: "len", Scalar: reflect.Int}
	case reflect.Interface:
		if word == 0 {
			return Hop{Pointer: true, Part: "type"}
		}
		return Hop{Pointer: true, Part: "data", IfaceData: true}
	}
	return Hop{Part: hexOffNonZero(off), Scalar: t.Kind()}
}

// InterfaceTarget is what an interface's data word points at when its type
// word says the dynamic type is concrete. A pointer-shaped type (a pointer,
// map, chan, func, or a struct or array holding just one such) is stored in
// the data word itself, so the target is what that pointer points at;
// anything else is boxed: the data word points at a concrete value.
// concrete must come from TypeAt, InterfaceType or reflect (a real
// descriptor: its flags are read).
func InterfaceTarget(concrete reflect.Type) Layout {
	if descriptor(typeAddr(concrete)).tflag()&tflagDirectIface != 0 {
		return walkValue(concrete, 0).Target
	}
	return ValueOf(concrete)
}

func hexOff(off uintptr) string { return fmt.Sprintf("+%#x", off) }

func hexOffNonZero(off uintptr) string {
	if off == 0 {
		return ""
	}
	return fmt.Sprintf("+%#x", off)
}
