package naming

import (
	"reflect"

	"github.com/heaptop/heaptop/agent/symbols"
)

// TypeID numbers the layouts objects are typed with, interned per Names:
// 1..NumTypes()-1; Untyped (0) is no type.
type TypeID uint32

// Untyped is the TypeID of an object nothing could type.
const Untyped TypeID = 0

// Source says how an object's type was learnt (see the package overview).
type Source uint8

const (
	SourceNone       Source = iota // untyped
	SourceHeader                   // the malloc header word
	SourceInterface                // an interface's type word
	SourceFinalizer                // the pointer a finalizer was set on
	SourceGlobal                   // a global's DWARF type
	SourceLocal                    // a stack slot's DWARF type
	SourcePropagated               // a typed holder's pointer field
	// SourceSite is a guess: the one type the other objects of the same
	// allocation stack have (or propagated from such a guess).
	SourceSite
	numSources
)

var sourceNames = [...]string{
	SourceNone: "untyped", SourceHeader: "header", SourceInterface: "interface",
	SourceFinalizer: "finalizer", SourceGlobal: "global", SourceLocal: "local", SourcePropagated: "propagated",
	SourceSite: "site",
}

func (s Source) String() string {
	if s < numSources {
		return sourceNames[s]
	}
	return "unknown source"
}

// layoutKey identifies a layout for interning: symbols.Layout without its
// closure variables, which follow from the code pointer.
type layoutKey struct {
	kind  symbols.LayoutKind
	typ   reflect.Type
	array bool
	code  uintptr
}

// typeInfo is one interned layout and what the conflict rule needs of it.
type typeInfo struct {
	layout symbols.Layout
	name   string
	// unit is the size of one value (one element of an array); 0 when
	// unknown (runtime structures whose size this package does not
	// mirror), and then the fit check is skipped.
	unit uint64
	// ptrs: 1 the layout has pointer words, 0 it has none, -1 unknown
	// (a channel's header or a closure can be either).
	ptrs int8
}

// typeTable interns layouts. Written only while Name runs.
type typeTable struct {
	infos  []typeInfo // by TypeID; infos[0] is Untyped
	ids    map[layoutKey]TypeID
	hasPtr map[reflect.Type]bool
}

func newTypeTable() *typeTable {
	return &typeTable{infos: []typeInfo{{name: "untyped"}}, ids: map[layoutKey]TypeID{}, hasPtr: map[reflect.Type]bool{}}
}

// intern returns the TypeID of l, adding it if new. An untyped layout (or
// an unresolved map directory-or-group, which only ever leads to one of
// the two) is Untyped.
func (tt *typeTable) intern(l symbols.Layout) TypeID {
	if l.Kind == symbols.Untyped || l.Kind == symbols.MapDirOrGroup || (l.Type == nil && l.Kind != symbols.StringBytes) {
		return Untyped
	}
	k := layoutKey{l.Kind, l.Type, l.Array, l.Code}
	if id, ok := tt.ids[k]; ok {
		return id
	}
	info := typeInfo{layout: l, name: l.String(), ptrs: -1}
	switch l.Kind {
	case symbols.Value, symbols.MapGroups:
		info.unit = uint64(l.Type.Size())
		info.ptrs = b2i(tt.pointers(l.Type))
	case symbols.StringBytes:
		info.unit, info.ptrs = 1, 0
	case symbols.MapDirectory:
		info.unit, info.ptrs = 8, 1
	case symbols.MapHeader, symbols.MapTable:
		info.ptrs = 1
	}
	id := TypeID(len(tt.infos))
	tt.infos = append(tt.infos, info)
	tt.ids[k] = id
	return id
}

func b2i(b bool) int8 {
	if b {
		return 1
	}
	return 0
}

// pointers reports whether values of t hold pointers the GC follows (its
// descriptor's PtrBytes is not 0), from its kind and elements, since
// reflect does not expose PtrBytes. t comes from a proven descriptor.
func (tt *typeTable) pointers(t reflect.Type) bool {
	if p, ok := tt.hasPtr[t]; ok {
		return p
	}
	var p bool
	switch t.Kind() {
	case reflect.Pointer, reflect.UnsafePointer, reflect.Map, reflect.Chan, reflect.Func,
		reflect.Slice, reflect.String, reflect.Interface:
		p = true
	case reflect.Array:
		p = t.Len() > 0 && tt.pointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if tt.pointers(t.Field(i).Type) {
				p = true
				break
			}
		}
	}
	tt.hasPtr[t] = p
	return p
}

// single turns an array layout of t into one value of t when the slot
// holds just one element from start: the allocator's header says "values
// of t", and one of them reads better as t than as a backing array.
func single(l symbols.Layout, start, slot uint64) symbols.Layout {
	if l.Kind == symbols.Value && l.Array && l.Type.Size() > 0 && (slot-start)/uint64(l.Type.Size()) < 2 {
		return symbols.ValueOf(l.Type)
	}
	return l
}
