package symbols

import (
	"bytes"
	"debug/dwarf"
	"errors"
	"io"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"sync"
	"testing"
	"time"
	"unsafe"
)

// typeValues are real values whose reflect.TypeOf TypeAt must accept and
// agree with, one of each kind and shape the walker meets.
func typeValues() []any {
	var n any = &tnode{}
	return []any{
		true, 0, int8(0), int16(0), int32(0), int64(0), uint(0), uint8(0), uint16(0), uint32(0), uint64(0),
		uintptr(0), float32(0), float64(0), complex64(0), complex128(0), "", unsafe.Pointer(nil),
		[]byte(nil), []string(nil), [3]tnode{}, [0]int{}, &tnode{}, tnode{}, tregistry{}, &tregistry{},
		map[string]*tsession{}, map[[200]byte]int{}, map[int]tsession{}, make(chan *tsession), make(<-chan int),
		func() {}, func(int, ...string) (bool, error) { return false, nil }, n, &n, errors.New("x"),
		&bytes.Buffer{}, time.Time{}, &sync.Mutex{}, netip.Addr{}, struct{ p *tnode }{},
		struct {
			a int    `heaptop:"a"`
			B string `json:"b,omitempty"`
			tnode
		}{},
		reflect.TypeFor[io.Reader](), reflect.TypeFor[any](), reflect.TypeFor[error](),
		hugePointers{}, // GC mask built on demand: GCData points into noptrdata
	}
}

// hugePointers has more pointer words than a precomputed GC mask covers
// (abi.MaxPtrmaskBytes*8 = 16384), so its descriptor has
// TFlagGCMaskOnDemand.
type hugePointers struct{ p [20000]*tnode }

func segs(im *Image) *segments {
	im.loadELF()
	return &im.elf.segs
}

// moduleTypes lists every type descriptor the module itself names: the
// .typelink section (int32 offsets from runtime.types), the concrete types
// of the compiler's itabs, and every DW_AT_go_runtime_type in DWARF.
func moduleTypes(t *testing.T, im *Image) map[uintptr]string {
	t.Helper()
	out := map[uintptr]string{}
	sec, err := im.section(".typelink", ".data.rel.ro.typelink")
	if err != nil {
		t.Fatal(err)
	}
	types := im.elf.segs.types.Start
	for a := sec.Start; a+4 <= sec.End; a += 4 {
		out[types+uintptr(descriptor(a).i32(0))] = "typelink"
	}
	itabs, err := im.ModuleItabs()
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range itabs {
		out[typ] = "itab"
	}
	if dw := im.loadDWARF(); dw != nil {
		r := dw.data.Reader()
		for {
			e, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			if e == nil {
				break
			}
			if rt, _ := e.Val(attrGoRuntimeType).(uint64); rt != 0 {
				name, _ := e.Val(dwarf.AttrName).(string)
				out[types+uintptr(rt)] = "DWARF " + name
			}
		}
	}
	return out
}

// TestImageTypeWords: TypeAt accepts every type descriptor of the module and
// agrees with reflect on each, and refuses — without crashing the process —
// every other word: random words, heap, stack and code addresses, itabs,
// misaligned descriptor addresses, copies of descriptors outside the type
// data, every word stored in the image, and every aligned address in the type
// data that is not a descriptor the module names.
func TestImageTypeWords(t *testing.T) {
	b := imageBuild(t)
	im := Self()
	if d := descriptor(typeAddr(reflect.TypeFor[hugePointers]())); d.tflag()&tflagGCMaskOnDemand == 0 ||
		!segs(im).noptrdata.Contains(d.word(typeGCDataOff)) {
		t.Errorf("hugePointers: tflag %#x, gcdata %#x: not an on-demand mask in noptrdata", d.tflag(), d.word(typeGCDataOff))
	}
	for _, v := range typeValues() {
		want := reflect.TypeOf(v)
		got, err := im.TypeAt(typeAddr(want))
		if err != nil || got != want || got.String() != want.String() {
			t.Errorf("TypeAt(%v) = %v, %v", want, got, err)
		}
	}

	known := moduleTypes(t, im)
	for a, from := range known {
		if _, err := im.TypeAt(a); err != nil {
			t.Errorf("%s type at %#x refused: %v", from, a, err)
		}
	}
	// Every descriptor reached while proving the known ones is known too.
	im.proofs.mu.Lock()
	for a := range im.proofs.proven {
		if _, ok := known[a]; !ok {
			known[a] = "reached"
		}
	}
	im.proofs.mu.Unlock()
	if hasDWARF(b) && len(known) < 1000 {
		t.Errorf("only %d module types known", len(known))
	}

	// Descriptors no table above lists (closure context structs, interface
	// types used only in assertions) are real if the compiler's code takes
	// their address or the image stores a pointer to them: an accepted word
	// outside known must be one of those.
	loaded := referencedTypeData(im)
	refused, byCode := 0, 0
	refuse := func(what string, w uintptr) {
		if _, ok := known[w]; ok {
			return
		}
		if typ, err := im.TypeAt(w); err == nil {
			if !loaded[w] {
				t.Errorf("%s %#x accepted as %v, but no code loads its address", what, w, typ)
			}
			known[w] = "code"
			byCode++
			return
		} else if !errors.Is(err, ErrNotType) {
			t.Errorf("%s %#x: error %v does not wrap ErrNotType", what, w, err)
		}
		refused++
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		refuse("random word", uintptr(rng.Uint64()))
		refuse("random small word", uintptr(rng.Uint32()))
	}
	segs := im.elf.segs
	for range 100_000 {
		refuse("random type-data word", segs.types.Start+uintptr(rng.Uint64N(uint64(segs.types.Size()))))
	}
	var heap []*tnode
	for range 1000 {
		heap = append(heap, &tnode{})
		refuse("heap address", uintptr(unsafe.Pointer(heap[len(heap)-1])))
	}
	var local [64]byte
	refuse("stack address", uintptr(unsafe.Pointer(&local)))
	refuse("code address", reflect.ValueOf(TestImageTypeWords).Pointer())
	refuse("nil", 0)
	refuse("top of memory", ^uintptr(7))
	refuse("end of type data", segs.types.End)
	refuse("last word of type data", segs.types.End-8)
	for a := range known {
		for d := uintptr(1); d < 8; d++ {
			refuse("misaligned type", a+d)
		}
		// A byte-for-byte copy of a descriptor on the heap is not one.
		cp := make([]byte, typeHeaderSize+64)
		for i := range uintptr(typeHeaderSize) {
			cp[i] = descriptor(a).u8(i)
		}
		refuse("heap copy of a type", uintptr(unsafe.Pointer(&cp[0])))
	}
	itabs, _ := im.ModuleItabs()
	for itab := range itabs {
		refuse("itab", itab)
	}
	// Every word the image holds, as a value.
	for _, s := range []Segment{segs.rodata, segs.types, segs.noptrdata, segs.data, segs.bss} {
		for a := (s.Start + 7) &^ 7; a+8 <= s.End; a += 8 {
			refuse("word stored in "+s.Name, descriptor(a).word(0))
		}
	}
	// Every aligned address in the type data.
	accepted := 0
	for a := segs.types.Start; a+typeHeaderSize <= segs.types.End; a += 8 {
		if _, ok := known[a]; ok {
			accepted++
			continue
		}
		refuse("type-data address", a)
	}
	t.Logf("%s build: %d module types accepted (%d found only through references), %d words refused", b, accepted, byCode, refused)
}

// referencedTypeData lists the addresses in the type data that the code
// loads with a RIP-relative LEAQ (REX.W 8D /r, mod 00 r/m 101, disp32; how
// amd64 Go code takes the address of a type descriptor) or that a word of
// the image's data holds.
func referencedTypeData(im *Image) map[uintptr]bool {
	out := map[uintptr]bool{}
	segs := im.elf.segs
	text, types := segs.text, segs.types
	for _, s := range []Segment{segs.rodata, segs.types, segs.noptrdata, segs.data, segs.bss} {
		for a := (s.Start + 7) &^ 7; a+8 <= s.End; a += 8 {
			if w := descriptor(a).word(0); types.Contains(w) {
				out[w] = true
			}
		}
	}
	code := unsafe.Slice((*byte)(ptrAt(text.Start)), text.Size())
	for i := 0; i+7 <= len(code); i++ {
		if (code[i] == 0x48 || code[i] == 0x4c) && code[i+1] == 0x8d && code[i+2]&0xc7 == 0x05 {
			disp := int32(uint32(code[i+3]) | uint32(code[i+4])<<8 | uint32(code[i+5])<<16 | uint32(code[i+6])<<24)
			if a := text.Start + uintptr(i+7) + uintptr(disp); types.Contains(a) {
				out[a] = true
			}
		}
	}
	return out
}

// bigObj is a scan object over 512 B: it carries a malloc header.
type bigObj struct {
	ptrs [70]*tnode
}

// TestImageHeaderTypes reads real malloc headers: a small scan object whose
// size is over 512 B starts with its type, the user pointer is base+8, and
// a slice's backing array carries the element type.
func TestImageHeaderTypes(t *testing.T) {
	imageBuild(t)
	im := Self()
	header := func(p unsafe.Pointer) uintptr { return descriptor(uintptr(p) - 8).word(0) }
	obj := &bigObj{}
	arr := make([]*tnode, 100)
	str := make([]tsession, 30) // 30 × 32 B = 960 B
	for _, c := range []struct {
		p    unsafe.Pointer
		slot uintptr
		want reflect.Type
	}{
		{unsafe.Pointer(obj), 576, reflect.TypeFor[bigObj]()},
		{unsafe.Pointer(&arr[0]), 896, reflect.TypeFor[*tnode]()},
		{unsafe.Pointer(&str[0]), 1024, reflect.TypeFor[tsession]()},
	} {
		w := header(c.p)
		got, err := im.HeaderType(w, c.slot)
		if err != nil || got != c.want {
			t.Errorf("header of %v: %v, %v", c.want, got, err)
		}
		if _, err := im.HeaderType(w, 512); err == nil {
			t.Errorf("header %v accepted in a 512 B slot, which has no header", c.want)
		}
	}
	if _, err := im.HeaderType(typeAddr(reflect.TypeFor[[80]*tnode]()), 576); err == nil {
		t.Error("a 640 B type accepted as the header of a 576 B slot")
	}
	if _, err := im.HeaderType(typeAddr(reflect.TypeFor[[1000]int]()), 16384); err == nil {
		t.Error("a type without pointers accepted as a header")
	}
	// A map's groups array over 512 B carries the group type.
	m := map[int]*tnode{}
	for i := range 100 {
		m[i] = &tnode{val: i}
	}
	tab := mapTables(m)[0]
	groups := descriptor(tab).word(mapTableGroupsOff)
	gt, err := im.HeaderType(header(ptrAt(groups)), 32768)
	if err != nil || !isMapGroup(gt) || gt.String() != "map.group[int]*symbols.tnode" || HeaderLayout(gt).Kind != MapGroups {
		t.Errorf("groups header: %v, %v", gt, err)
	}
	runtimeKeepAlive(obj, arr, str, m)
}

var sink []any

func runtimeKeepAlive(v ...any) { sink = append(sink[:0], v...) }

// mapTables returns the table addresses of a map that has a directory.
func mapTables[K comparable, V any](m map[K]V) []uintptr {
	hdr := *(*uintptr)(unsafe.Pointer(&m))
	dir, n := descriptor(hdr).word(mapHdrDirPtrOff), descriptor(hdr).word(mapHdrDirLenOff)
	var out []uintptr
	for i := range n {
		out = append(out, descriptor(dir).word(i*ptrSize))
	}
	return out
}
