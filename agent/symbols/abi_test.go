package symbols

import (
	"debug/dwarf"
	"debug/elf"
	"testing"
)

// dwarfStructs reads the struct types with the given names from the DWARF
// of the running test binary.
func dwarfStructs(t *testing.T, names ...string) map[string]*dwarf.StructType {
	t.Helper()
	f, err := elf.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := f.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]*dwarf.StructType{}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e == nil {
			break
		}
		if e.Tag != dwarf.TagStructType {
			continue
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		if !want[name] || out[name] != nil {
			continue
		}
		typ, err := d.Type(e.Offset)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = typ.(*dwarf.StructType)
	}
	return out
}

// TestImageRuntimeLayoutsMatchDWARF checks every offset in abi.go against the
// layout the compiler recorded for the runtime's own types in this binary.
func TestImageRuntimeLayoutsMatchDWARF(t *testing.T) {
	if !hasDWARF(imageBuild(t)) {
		t.Log("no DWARF in this build; checked in the default and pie builds")
		return
	}
	type field struct {
		name string
		off  int64
	}
	want := map[string]struct {
		size   int64
		fields []field
	}{
		"internal/abi.Type": {typeHeaderSize, []field{
			{"Size_", typeSizeOff}, {"PtrBytes", typePtrBytesOff}, {"Hash", typeHashOff},
			{"TFlag", typeTFlagOff}, {"Align_", typeAlignOff}, {"FieldAlign_", typeFieldAlignOff},
			{"Kind_", typeKindOff}, {"Equal", typeEqualOff}, {"GCData", typeGCDataOff},
			{"Str", typeStrOff}, {"PtrToThis", typePtrToThisOff}}},
		"internal/abi.PtrType":   {ptrTypeSize, []field{{"Elem", ptrElemOff}}},
		"internal/abi.SliceType": {ptrTypeSize, []field{{"Elem", ptrElemOff}}},
		"internal/abi.ArrayType": {arrayTypeSize, []field{{"Elem", ptrElemOff}, {"Slice", arraySliceOff}, {"Len", arrayLenOff}}},
		"internal/abi.ChanType":  {chanTypeSize, []field{{"Elem", ptrElemOff}, {"Dir", chanDirOff}}},
		"internal/abi.FuncType":  {funcTypeSize, []field{{"InCount", funcInCountOff}, {"OutCount", funcOutCountOff}}},
		"internal/abi.InterfaceType": {ifaceTypeSize, []field{
			{"PkgPath", ifacePkgPathOff}, {"Methods", ifaceMethodsOff}}},
		"internal/abi.StructType":  {structTypeSize, []field{{"PkgPath", structPkgPathOff}, {"Fields", structFieldsOff}}},
		"internal/abi.StructField": {structFieldSize, []field{{"Name", sfNameOff}, {"Typ", sfTypOff}, {"Offset", sfOffsetOff}}},
		"internal/abi.UncommonType": {uncommonSize, []field{
			{"PkgPath", uncommonPkgOff}, {"Mcount", uncommonMcountOff}, {"Xcount", uncommonXcountOff}, {"Moff", uncommonMoffOff}}},
		"internal/abi.Method":  {methodSize, nil},
		"internal/abi.Imethod": {imethodSize, []field{{"Name", 0}, {"Typ", 4}}},
		"internal/abi.ITab":    {-1, []field{{"Type", itabTypeOff}}},
		"internal/abi.MapType": {mapTypeSize, []field{
			{"Key", mapKeyOff}, {"Elem", mapElemOff}, {"Group", mapGroupOff}, {"Hasher", mapHasherOff},
			{"GroupSize", mapGroupSizeOff}, {"SlotSize", mapSlotSizeOff}, {"ElemOff", mapElemOffOff}, {"Flags", mapFlagsOff}}},
		"internal/runtime/maps.Map":             {mapHdrSize, []field{{"dirPtr", mapHdrDirPtrOff}, {"dirLen", mapHdrDirLenOff}}},
		"internal/runtime/maps.table":           {mapTableSize, []field{{"groups", mapTableGroupsOff}}},
		"internal/runtime/maps.groupsReference": {16, []field{{"data", 0}}},
		"runtime.hchan": {hchanSize, []field{
			{"buf", hchanBufOff}, {"timer", hchanTimerOff}, {"elemtype", hchanElemTypeOff},
			{"recvq", hchanRecvqOff}, {"sendq", hchanSendqOff}, {"bubble", hchanBubbleOff}}},
		"runtime.waitq": {16, []field{{"first", 0}, {"last", 8}}},
	}
	var names []string
	for n := range want {
		names = append(names, n)
	}
	got := dwarfStructs(t, names...)
	for name, w := range want {
		st := got[name]
		if st == nil {
			t.Errorf("%s: not in this binary's DWARF", name)
			continue
		}
		if w.size >= 0 && st.ByteSize != w.size {
			t.Errorf("%s: size %d, abi.go says %d", name, st.ByteSize, w.size)
		}
		offs := map[string]int64{}
		for _, f := range st.Field {
			offs[f.Name] = f.ByteOffset
		}
		for _, f := range w.fields {
			if off, ok := offs[f.name]; !ok || off != f.off {
				t.Errorf("%s.%s: DWARF offset %d (present %v), abi.go says %d", name, f.name, off, ok, f.off)
			}
		}
	}
}
