package symbols

import "unsafe"

// Offsets and sizes of the runtime's type descriptors and of the runtime
// structures this package labels, for 64-bit platforms in go1.26.8. They
// mirror, field by field:
//
//   - internal/abi.Type (src/internal/abi/type.go) and the kind-specific
//     descriptors that embed it: PtrType, SliceType, ArrayType, ChanType,
//     FuncType, InterfaceType, StructType, StructField, UncommonType, Imethod;
//   - internal/abi.MapType (src/internal/abi/map.go) and abi.ITab (iface.go);
//   - internal/runtime/maps.Map (map.go) and maps.table (table.go);
//   - runtime.hchan (src/runtime/chan.go).
//
// TestImageRuntimeLayoutsMatchDWARF reads the DWARF the compiler emitted for each
// of these types in the test binary and fails on any difference.
const (
	// abi.Type, 48 bytes.
	typeSizeOff       = 0  // Size_ uintptr
	typePtrBytesOff   = 8  // PtrBytes uintptr
	typeHashOff       = 16 // Hash uint32
	typeTFlagOff      = 20 // TFlag uint8
	typeAlignOff      = 21 // Align_ uint8
	typeFieldAlignOff = 22 // FieldAlign_ uint8
	typeKindOff       = 23 // Kind_ uint8 (no flag bits since Go 1.26: TFlagDirectIface moved to TFlag)
	typeEqualOff      = 24 // Equal func
	typeGCDataOff     = 32 // GCData *byte
	typeStrOff        = 40 // Str NameOff (int32, from moduledata.types)
	typePtrToThisOff  = 44 // PtrToThis TypeOff (int32)
	typeHeaderSize    = 48

	// Kind-specific descriptors: the abi.Type header, then these fields.
	ptrElemOff        = 48 // PtrType.Elem, SliceType.Elem, ArrayType.Elem, ChanType.Elem
	ptrTypeSize       = 56 // PtrType, SliceType
	arraySliceOff     = 56 // ArrayType.Slice
	arrayLenOff       = 64 // ArrayType.Len
	arrayTypeSize     = 72
	chanDirOff        = 56 // ChanType.Dir (int)
	chanTypeSize      = 64
	funcInCountOff    = 48 // FuncType.InCount uint16
	funcOutCountOff   = 50 // FuncType.OutCount uint16, top bit = variadic
	funcTypeSize      = 56 // then UncommonType if TFlagUncommon, then In+Out *Type
	ifacePkgPathOff   = 48 // InterfaceType.PkgPath Name (a *byte)
	ifaceMethodsOff   = 56 // InterfaceType.Methods []Imethod
	ifaceTypeSize     = 80
	structPkgPathOff  = 48 // StructType.PkgPath Name
	structFieldsOff   = 56 // StructType.Fields []StructField
	structTypeSize    = 80
	mapKeyOff         = 48 // MapType.Key
	mapElemOff        = 56 // MapType.Elem
	mapGroupOff       = 64 // MapType.Group
	mapHasherOff      = 72 // MapType.Hasher func
	mapGroupSizeOff   = 80 // MapType.GroupSize
	mapSlotSizeOff    = 88 // MapType.SlotSize
	mapElemOffOff     = 96 // MapType.ElemOff
	mapFlagsOff       = 104
	mapTypeSize       = 112
	basicTypeSize     = typeHeaderSize // kinds with no extension: bool, numbers, string, unsafe.Pointer
	structFieldSize   = 24             // StructField{Name, Typ, Offset}
	sfNameOff         = 0
	sfTypOff          = 8
	sfOffsetOff       = 16
	uncommonSize      = 16 // UncommonType{PkgPath int32, Mcount, Xcount uint16, Moff uint32, _ uint32}
	uncommonPkgOff    = 0
	uncommonMcountOff = 4
	uncommonXcountOff = 6
	uncommonMoffOff   = 8
	methodSize        = 16 // abi.Method
	imethodSize       = 8  // abi.Imethod{Name NameOff, Typ TypeOff}
	itabTypeOff       = 8  // abi.ITab.Type

	// abi.TFlag bits.
	tflagUncommon        = 1 << 0
	tflagExtraStar       = 1 << 1
	tflagGCMaskOnDemand  = 1 << 4
	tflagDirectIface     = 1 << 5
	tflagKnown           = 1<<6 - 1
	mapFlagsKnown        = 1<<4 - 1 // NeedKeyUpdate, HashMightPanic, IndirectKey, IndirectElem
	mapGroupSlots        = 8        // abi.MapGroupSlots
	mapCtrlWordSize      = 8        // the group's ctrl word before its slots
	maxNameLen           = 1 << 16
	maxFuncParams        = 1 << 10
	maxStructFields      = 1 << 14
	maxInterfaceMethods  = 1 << 12
	maxTypesPerProof     = 1 << 18 // more descriptors than any binary has; bounds the cost of one proof
	ptrSize              = 8
	chanDirBoth          = 3
	funcOutCountVariadic = 1 << 15

	// Malloc headers (internal/runtime/gc, malloc.go).
	mallocHeaderSize       = 8
	minSizeForMallocHeader = 512   // gc.MinSizeForMallocHeader: user sizes above it get a header
	maxSmallSize           = 32768 // gc.MaxSmallSize: larger objects have their own span and no header

	// internal/runtime/maps.Map, 48 bytes.
	mapHdrDirPtrOff = 16 // dirPtr: a group (dirLen == 0) or a directory [dirLen]*table
	mapHdrDirLenOff = 24
	mapHdrSize      = 48
	// internal/runtime/maps.table, 32 bytes.
	mapTableGroupsOff = 16 // groups.data: [lengthMask+1]group
	mapTableSize      = 32
	// runtime.hchan, 112 bytes without lock ranking.
	hchanBufOff      = 16 // buf: the ring buffer, its own object only if elements hold pointers
	hchanTimerOff    = 32
	hchanElemTypeOff = 40
	hchanRecvqOff    = 64 // waitq{first, last *sudog}
	hchanSendqOff    = 80
	hchanBubbleOff   = 96
	hchanSize        = 112
)

// Kinds of internal/abi.Kind, the same numbering as reflect.Kind.
const (
	kindArray         = 17
	kindChan          = 18
	kindFunc          = 19
	kindInterface     = 20
	kindMap           = 21
	kindPointer       = 22
	kindSlice         = 23
	kindString        = 24
	kindStruct        = 25
	kindUnsafePointer = 26
)

// basicSizes gives Size_ for kinds whose size is fixed on 64-bit platforms
// (kinds 1..16 and the one-word reference kinds); 0 means "not fixed".
var basicSizes = [...]uintptr{
	1: 1, 2: 8, 3: 1, 4: 2, 5: 4, 6: 8, 7: 8, 8: 1, 9: 2, 10: 4, 11: 8, 12: 8,
	13: 4, 14: 8, 15: 8, 16: 16,
	kindChan: 8, kindFunc: 8, kindInterface: 16, kindMap: 8, kindPointer: 8,
	kindSlice: 24, kindString: 16, kindUnsafePointer: 8,
}

// ptrAt turns an address this package has proven to be mapped into a
// pointer. The indirection keeps `go vet` quiet: the address is not a Go
// heap pointer, it is a location in the process's own image.
func ptrAt(a uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&a)) }
