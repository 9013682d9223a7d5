package symbols

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// Turning a word into a reflect.Type.
//
// reflect trusts its *abi.Type completely. Given a word that is not a type
// descriptor, reflect.Type.String() calls the runtime's resolveNameOff, which
// throws ("runtime: name offset out of range", "name offset base pointer out
// of range") — a fatal error no recover catches — or reads through a wild
// pointer and faults. So the proof comes first, inside TypeAt, and covers
// everything the reflect methods this package uses can reach:
//
//  1. Range: every byte read lies in the main module's type data
//     [runtime.types, runtime.etypes), which is mapped read-only memory. It
//     is also the range resolveNameOff searches, so names resolve without a
//     throw. Heap, stack, code and other modules' addresses fail here.
//  2. Alignment: descriptors are 8-byte aligned.
//  3. The abi.Type header (offsets in abi.go): Kind_ in 1..26 with no other
//     bits; only known TFlag bits; Align_ == FieldAlign_, a power of two
//     <= 8, dividing Size_; PtrBytes <= Size_ and word-aligned; Size_ and
//     PtrBytes fixed for kinds whose size is fixed; TFlagDirectIface only on
//     one-pointer types; Equal nil or a static func value (a pointer to
//     a funcval in the image whose code pointer is in text); GCData nil or in rodata/types
//     (in noptrdata/noptrbss when TFlagGCMaskOnDemand: the compiler emits a
//     NOPTR word there, reflectdata.dgcptrmaskOnDemand); Str a positive
//     offset to a well-formed name (flags, varint length, UTF-8 text, tag,
//     package path offset) inside the range, starting with '*' when
//     TFlagExtraStar; PtrToThis 0 or a pointer type whose Elem is this one.
//  4. The kind-specific part: element, key, group, slice, field, parameter
//     and method types are pointers into the range and are proven the same
//     way (transitively, with a worklist; a cycle is fine); array length
//     times element size equals the size; struct fields have well-formed
//     names and lie inside the struct in offset order; a map's group size,
//     slot size and element offset are consistent with its group type; the
//     uncommon section (package path, method table bounds) lies in range.
//
// A word passes only if every type it reaches passes; proven descriptors
// are remembered, so each type is proven once per process. Methods of the
// returned types that stay within that proof: String, Name, PkgPath, Kind,
// Size, Align, Elem, Key, Len, ChanDir, NumField, Field, NumIn, In, NumOut,
// Out, IsVariadic, Comparable. Method, Implements, ConvertibleTo and the
// reflect.Value machinery are outside it; do not call them on these types.

// ErrNotType is wrapped by every refusal of TypeAt.
var ErrNotType = errors.New("not a type descriptor")

// typeProofs remembers descriptors proven by TypeAt.
type typeProofs struct {
	mu     sync.Mutex
	proven map[uintptr]struct{} // guarded by mu
}

// TypeAt returns the type whose runtime descriptor (*abi.Type) is at addr.
//
// Precondition: none — any word may be passed. TypeAt proves that addr is a
// type descriptor of the main module before it converts (see the file
// comment above); anything else is refused with an error wrapping
// ErrNotType, never a crash.
func (im *Image) TypeAt(addr uintptr) (reflect.Type, error) {
	if err := im.loadELF(); err != nil {
		return nil, err
	}
	if err := im.proveType(addr); err != nil {
		return nil, err
	}
	return typeFromProven(addr), nil
}

// HeaderType types a heap object from its malloc header word: the first
// word of a small scan object whose user size is over 512 B, in a slot of
// slotSize bytes (the dumped object size). Beyond TypeAt it requires what
// the allocator guarantees (mallocgcSmallScanHeader, heapBitsInSpan in
// go1.26.8): the slot is a small-object slot with a header (user size over
// gc.MinSizeForMallocHeader = 512, slot at most 32 KiB; large objects keep
// their type in the span instead), the type has pointers (only scan objects
// carry a header), is not an interface (the header holds a concrete type,
// the element type for an array), and one value fits after the header.
func (im *Image) HeaderType(word, slotSize uintptr) (reflect.Type, error) {
	if slotSize <= minSizeForMallocHeader+mallocHeaderSize || slotSize > maxSmallSize {
		return nil, fmt.Errorf("header word %#x: a %d B slot has no malloc header: %w", word, slotSize, ErrNotType)
	}
	t, err := im.TypeAt(word)
	if err != nil {
		return nil, err
	}
	d := descriptor(word)
	switch {
	case d.ptrBytes() == 0:
		return nil, fmt.Errorf("header word %#x: %s has no pointers, so no header: %w", word, t, ErrNotType)
	case d.kind() == kindInterface:
		return nil, fmt.Errorf("header word %#x: interface type %s: %w", word, t, ErrNotType)
	case d.size() > slotSize-mallocHeaderSize:
		return nil, fmt.Errorf("header word %#x: %s of %d B does not fit a %d B slot after its header: %w",
			word, t, d.size(), slotSize, ErrNotType)
	}
	return t, nil
}

// typeFromProven converts a proven descriptor address into a reflect.Type.
// The data word of the interface is nil: reflect.TypeOf reads only the type
// word. Precondition: proveType(addr) returned nil.
func typeFromProven(addr uintptr) reflect.Type {
	e := struct{ typ, data unsafe.Pointer }{typ: ptrAt(addr)}
	return reflect.TypeOf(*(*any)(unsafe.Pointer(&e)))
}

// typeAddr is the descriptor address behind a reflect.Type made by reflect
// from a real descriptor (*rtype is the interface's data word).
func typeAddr(t reflect.Type) uintptr {
	return (*[2]uintptr)(unsafe.Pointer(&t))[1]
}

// descriptor reads fields of a descriptor. Every method reads only bytes
// already proven to be in the types range.
type descriptor uintptr

func (d descriptor) u8(off uintptr) uint8     { return *(*uint8)(ptrAt(uintptr(d) + off)) }
func (d descriptor) u16(off uintptr) uint16   { return *(*uint16)(ptrAt(uintptr(d) + off)) }
func (d descriptor) i32(off uintptr) int32    { return *(*int32)(ptrAt(uintptr(d) + off)) }
func (d descriptor) u32(off uintptr) uint32   { return *(*uint32)(ptrAt(uintptr(d) + off)) }
func (d descriptor) word(off uintptr) uintptr { return *(*uintptr)(ptrAt(uintptr(d) + off)) }
func (d descriptor) size() uintptr            { return d.word(typeSizeOff) }
func (d descriptor) ptrBytes() uintptr        { return d.word(typePtrBytesOff) }
func (d descriptor) kind() uint8              { return d.u8(typeKindOff) }
func (d descriptor) tflag() uint8             { return d.u8(typeTFlagOff) }

// proveType runs the proof for addr and everything it reaches.
func (im *Image) proveType(addr uintptr) error {
	p := &im.proofs
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.proven[addr]; ok {
		return nil
	}
	pr := prover{segs: &im.elf.segs, proven: p.proven, seen: map[uintptr]struct{}{addr: {}}, todo: []uintptr{addr}}
	for len(pr.todo) > 0 {
		t := pr.todo[len(pr.todo)-1]
		pr.todo = pr.todo[:len(pr.todo)-1]
		if err := pr.proveOne(t); err != nil {
			if t != addr {
				err = fmt.Errorf("reaches %#x: %w", t, err)
			}
			return fmt.Errorf("type word %#x: %w: %w", addr, err, ErrNotType)
		}
	}
	if p.proven == nil {
		p.proven = make(map[uintptr]struct{})
	}
	for t := range pr.seen {
		p.proven[t] = struct{}{}
	}
	return nil
}

// prover is one proof in progress: proven holds descriptors proven by
// earlier proofs (read-only here), seen every descriptor reached so far, todo
// those not yet checked.
type prover struct {
	segs   *segments
	proven map[uintptr]struct{}
	seen   map[uintptr]struct{}
	todo   []uintptr
}

// in reports whether [a, a+n) lies in the types range (without overflow).
func (pr *prover) in(a, n uintptr) bool {
	t := pr.segs.types
	return a >= t.Start && a <= t.End && n <= t.End-a
}

// reach queues a referenced descriptor for proof.
func (pr *prover) reach(t uintptr) error {
	if t == 0 {
		return errors.New("nil type pointer")
	}
	if _, ok := pr.seen[t]; ok {
		return nil
	}
	if _, ok := pr.proven[t]; ok {
		return nil
	}
	if len(pr.seen) >= maxTypesPerProof {
		return fmt.Errorf("reaches more than %d types", maxTypesPerProof)
	}
	pr.seen[t] = struct{}{}
	pr.todo = append(pr.todo, t)
	return nil
}

// proveOne checks the descriptor at a on its own and queues what it reaches.
func (pr *prover) proveOne(a uintptr) error {
	if a%8 != 0 {
		return errors.New("misaligned")
	}
	if !pr.in(a, typeHeaderSize) {
		return errors.New("outside the module's type data")
	}
	d := descriptor(a)
	kind, tflag := d.kind(), d.tflag()
	size, ptrBytes := d.size(), d.ptrBytes()
	align, fieldAlign := d.u8(typeAlignOff), d.u8(typeFieldAlignOff)
	switch {
	case kind == 0 || kind > kindUnsafePointer:
		return fmt.Errorf("kind %d", kind)
	case tflag&^tflagKnown != 0:
		return fmt.Errorf("tflag %#x", tflag)
	case align == 0 || align&(align-1) != 0 || align > 8 || fieldAlign != align:
		return fmt.Errorf("align %d/%d", align, fieldAlign)
	case size%uintptr(align) != 0:
		return fmt.Errorf("size %d not a multiple of align %d", size, align)
	case ptrBytes > size || ptrBytes%ptrSize != 0:
		return fmt.Errorf("ptrbytes %d, size %d", ptrBytes, size)
	case int(kind) < len(basicSizes) && basicSizes[kind] != 0 && size != basicSizes[kind]:
		return fmt.Errorf("kind %d with size %d", kind, size)
	case tflag&tflagDirectIface != 0 && (size != ptrSize || ptrBytes != ptrSize):
		return errors.New("direct-iface type is not one pointer")
	}
	if err := pr.checkPtrBytes(kind, ptrBytes); err != nil {
		return err
	}
	if eq := d.word(typeEqualOff); eq != 0 {
		if err := pr.funcValue(eq); err != nil {
			return fmt.Errorf("equal func: %w", err)
		}
	}
	if err := pr.checkGCData(d.word(typeGCDataOff), tflag, ptrBytes); err != nil {
		return err
	}
	str, err := pr.nameOff(d.i32(typeStrOff))
	if err != nil {
		return fmt.Errorf("type string: %w", err)
	}
	if tflag&tflagExtraStar != 0 && (len(str) < 2 || str[0] != '*') {
		return fmt.Errorf("extra-star name %q", str)
	}
	if err := pr.checkPtrToThis(a, d.i32(typePtrToThisOff)); err != nil {
		return err
	}
	end, err := pr.proveKind(d, kind, size)
	if err != nil {
		return err
	}
	if tflag&tflagUncommon != 0 {
		return pr.checkUncommon(a + end)
	}
	return nil
}

func (pr *prover) checkPtrBytes(kind uint8, ptrBytes uintptr) error {
	var ok bool
	switch kind {
	case kindString, kindChan, kindFunc, kindMap, kindUnsafePointer:
		ok = ptrBytes == ptrSize
	case kindPointer, kindSlice: // 0 when the element is not in the heap
		ok = ptrBytes == 0 || ptrBytes == ptrSize
	case kindInterface:
		ok = ptrBytes == 2*ptrSize
	case kindArray, kindStruct:
		ok = true
	default: // bool and numeric kinds
		ok = ptrBytes == 0
	}
	if !ok {
		return fmt.Errorf("kind %d with ptrbytes %d", kind, ptrBytes)
	}
	return nil
}

func (pr *prover) checkGCData(gc uintptr, tflag uint8, ptrBytes uintptr) error {
	s := pr.segs
	switch {
	case tflag&tflagGCMaskOnDemand != 0:
		if ptrBytes == 0 || !(s.noptrdata.Contains(gc) || s.noptrbss.Contains(gc)) {
			return fmt.Errorf("on-demand gcdata %#x", gc)
		}
	case gc == 0:
		if ptrBytes != 0 {
			return errors.New("pointers but no gcdata")
		}
	case !s.rodata.Contains(gc) && !s.types.Contains(gc):
		return fmt.Errorf("gcdata %#x outside rodata", gc)
	}
	return nil
}

// funcValue checks a func field of a descriptor (Equal, Hasher): a pointer
// to a static funcval ("·f" symbol, in rodata, or in .data.rel.ro with the
// type data in PIE builds) whose first word is code.
func (pr *prover) funcValue(fv uintptr) error {
	s := pr.segs
	if fv%ptrSize != 0 || !(pr.in(fv, ptrSize) || s.rodata.Contains(fv) && fv+ptrSize <= s.rodata.End) {
		return fmt.Errorf("func value %#x outside the image's read-only data", fv)
	}
	if pc := descriptor(fv).word(0); !s.text.Contains(pc) {
		return fmt.Errorf("func value %#x holds %#x, not code", fv, pc)
	}
	return nil
}

// checkPtrToThis checks that a non-zero PtrToThis names a pointer type whose
// element is a. It reads that descriptor's kind and elem only; the pointer
// type itself is proven if it is ever used.
func (pr *prover) checkPtrToThis(a uintptr, off int32) error {
	if off == 0 {
		return nil
	}
	p := pr.segs.types.Start + uintptr(off)
	if off < 0 || p%8 != 0 || !pr.in(p, ptrTypeSize) {
		return fmt.Errorf("ptrToThis offset %#x", off)
	}
	pd := descriptor(p)
	if pd.kind() != kindPointer || pd.word(ptrElemOff) != a {
		return errors.New("ptrToThis is not a pointer to this type")
	}
	return nil
}

// proveKind checks the kind-specific part of the descriptor and returns its
// size (where the uncommon section starts).
func (pr *prover) proveKind(d descriptor, kind uint8, size uintptr) (uintptr, error) {
	a := uintptr(d)
	ext := map[uint8]uintptr{
		kindPointer: ptrTypeSize, kindSlice: ptrTypeSize, kindArray: arrayTypeSize,
		kindChan: chanTypeSize, kindFunc: funcTypeSize, kindInterface: ifaceTypeSize,
		kindMap: mapTypeSize, kindStruct: structTypeSize,
	}[kind]
	if ext == 0 {
		return basicTypeSize, nil
	}
	if !pr.in(a, ext) {
		return 0, errors.New("descriptor runs past the type data")
	}
	switch kind {
	case kindPointer, kindSlice:
		return ext, pr.reach(d.word(ptrElemOff))
	case kindChan:
		if dir := d.word(chanDirOff); dir == 0 || dir > chanDirBoth {
			return 0, fmt.Errorf("chan dir %d", dir)
		}
		return ext, pr.reach(d.word(ptrElemOff))
	case kindArray:
		return ext, pr.proveArray(d, size)
	case kindMap:
		return ext, pr.proveMap(d)
	case kindFunc:
		return ext, pr.proveFunc(d)
	case kindInterface:
		return ext, pr.proveInterface(d)
	default:
		return ext, pr.proveStruct(d, size)
	}
}

func (pr *prover) proveArray(d descriptor, size uintptr) error {
	elem, slice, n := d.word(ptrElemOff), d.word(arraySliceOff), d.word(arrayLenOff)
	if !pr.in(elem, typeHeaderSize) || !pr.in(slice, ptrTypeSize) {
		return errors.New("array elem or slice type outside the type data")
	}
	es := descriptor(elem).size()
	if es != 0 && n > size/es || es*n != size {
		return fmt.Errorf("array len %d of %d B elements in %d B", n, es, size)
	}
	if descriptor(slice).word(ptrElemOff) != elem {
		return errors.New("array's slice type has another element")
	}
	if err := pr.reach(elem); err != nil {
		return err
	}
	return pr.reach(slice)
}

func (pr *prover) proveMap(d descriptor) error {
	key, elem, group := d.word(mapKeyOff), d.word(mapElemOff), d.word(mapGroupOff)
	if !pr.in(group, structTypeSize) {
		return errors.New("map group type outside the type data")
	}
	groupSize, slotSize, elemOff := d.word(mapGroupSizeOff), d.word(mapSlotSizeOff), d.word(mapElemOffOff)
	switch {
	case pr.funcValue(d.word(mapHasherOff)) != nil:
		return errors.New("map hasher is not a static func value")
	case descriptor(group).size() != groupSize:
		return fmt.Errorf("map group size %d != group type size %d", groupSize, descriptor(group).size())
	case slotSize > 1<<20 || elemOff > slotSize || groupSize < mapCtrlWordSize+mapGroupSlots*slotSize:
		return fmt.Errorf("map slot size %d, elem offset %d, group size %d", slotSize, elemOff, groupSize)
	case d.u32(mapFlagsOff)&^mapFlagsKnown != 0:
		return fmt.Errorf("map flags %#x", d.u32(mapFlagsOff))
	}
	for _, t := range []uintptr{key, elem, group} {
		if err := pr.reach(t); err != nil {
			return err
		}
	}
	return nil
}

func (pr *prover) proveFunc(d descriptor) error {
	in, out := uintptr(d.u16(funcInCountOff)), uintptr(d.u16(funcOutCountOff)&^funcOutCountVariadic)
	if in+out > maxFuncParams {
		return fmt.Errorf("func with %d params", in+out)
	}
	params := uintptr(d) + funcTypeSize
	if d.tflag()&tflagUncommon != 0 {
		params += uncommonSize
	}
	if !pr.in(params, (in+out)*ptrSize) {
		return errors.New("func params outside the type data")
	}
	for i := range in + out {
		if err := pr.reach(descriptor(params).word(i * ptrSize)); err != nil {
			return err
		}
	}
	return nil
}

func (pr *prover) proveInterface(d descriptor) error {
	if err := pr.namePtr(d.word(ifacePkgPathOff), true); err != nil {
		return fmt.Errorf("interface pkgpath: %w", err)
	}
	ms, n, c := d.word(ifaceMethodsOff), d.word(ifaceMethodsOff+8), d.word(ifaceMethodsOff+16)
	if n != c || n > maxInterfaceMethods || n > 0 && (ms%4 != 0 || !pr.in(ms, n*imethodSize)) {
		return fmt.Errorf("interface methods %#x len %d cap %d", ms, n, c)
	}
	for i := range n {
		m := descriptor(ms + i*imethodSize)
		if _, err := pr.nameOff(m.i32(0)); err != nil {
			return fmt.Errorf("interface method name: %w", err)
		}
		off := m.i32(4)
		if off <= 0 {
			return fmt.Errorf("interface method type offset %d", off)
		}
		if err := pr.reach(pr.segs.types.Start + uintptr(off)); err != nil {
			return err
		}
	}
	return nil
}

func (pr *prover) proveStruct(d descriptor, size uintptr) error {
	if err := pr.namePtr(d.word(structPkgPathOff), true); err != nil {
		return fmt.Errorf("struct pkgpath: %w", err)
	}
	fs, n, c := d.word(structFieldsOff), d.word(structFieldsOff+8), d.word(structFieldsOff+16)
	if n != c || n > maxStructFields || n > 0 && (fs%8 != 0 || !pr.in(fs, n*structFieldSize)) {
		return fmt.Errorf("struct fields %#x len %d cap %d", fs, n, c)
	}
	var last uintptr
	for i := range n {
		f := descriptor(fs + i*structFieldSize)
		if err := pr.namePtr(f.word(sfNameOff), false); err != nil {
			return fmt.Errorf("field %d name: %w", i, err)
		}
		ft, off := f.word(sfTypOff), f.word(sfOffsetOff)
		if !pr.in(ft, typeHeaderSize) {
			return fmt.Errorf("field %d type outside the type data", i)
		}
		if fsz := descriptor(ft).size(); off < last || off > size || fsz > size-off {
			return fmt.Errorf("field %d at %d of %d B in %d B struct", i, off, fsz, size)
		}
		last = off
		if err := pr.reach(ft); err != nil {
			return err
		}
	}
	return nil
}

// checkUncommon checks the uncommon section at u: the package path name and
// the bounds of the method table (methods themselves are outside the proof;
// see the file comment).
func (pr *prover) checkUncommon(u uintptr) error {
	if !pr.in(u, uncommonSize) {
		return errors.New("uncommon section outside the type data")
	}
	d := descriptor(u)
	if off := d.i32(uncommonPkgOff); off != 0 {
		if _, err := pr.nameOff(off); err != nil {
			return fmt.Errorf("pkgpath: %w", err)
		}
	}
	mc, xc, moff := uintptr(d.u16(uncommonMcountOff)), uintptr(d.u16(uncommonXcountOff)), uintptr(d.u32(uncommonMoffOff))
	if xc > mc || mc > 0 && !pr.in(u+moff, mc*methodSize) {
		return fmt.Errorf("method table mcount %d xcount %d moff %d", mc, xc, moff)
	}
	return nil
}

// nameOff checks the name at a NameOff (an offset from runtime.types) and
// returns its text.
func (pr *prover) nameOff(off int32) (string, error) {
	if off <= 0 {
		return "", fmt.Errorf("name offset %d", off)
	}
	return pr.name(pr.segs.types.Start+uintptr(off), true)
}

// namePtr checks a Name held as a pointer (struct field names, package
// paths); nil is allowed where the runtime allows it.
func (pr *prover) namePtr(a uintptr, nilOK bool) error {
	if a == 0 {
		if nilOK {
			return nil
		}
		return errors.New("nil name")
	}
	_, err := pr.name(a, true)
	return err
}

// name checks an encoded abi.Name at a: flags byte (exported, tag, package
// path follows, embedded), varint length, text, optional varint-prefixed tag,
// optional 4-byte package-path NameOff.
func (pr *prover) name(a uintptr, followPkg bool) (string, error) {
	if !pr.in(a, 1) {
		return "", errors.New("name outside the type data")
	}
	flags := descriptor(a).u8(0)
	if flags&^0x0f != 0 {
		return "", fmt.Errorf("name flags %#x", flags)
	}
	text, next, err := pr.varString(a + 1)
	if err != nil {
		return "", err
	}
	if !utf8.ValidString(text) {
		return "", errors.New("name is not UTF-8")
	}
	for _, r := range text {
		if r < ' ' || r == 0x7f {
			return "", errors.New("control character in name")
		}
	}
	if flags&(1<<1) != 0 {
		if _, next, err = pr.varString(next); err != nil {
			return "", fmt.Errorf("tag: %w", err)
		}
	}
	if flags&(1<<2) != 0 {
		if !pr.in(next, 4) {
			return "", errors.New("name's package path outside the type data")
		}
		if followPkg {
			if _, err := pr.nameOff(descriptor(next).i32(0)); err != nil {
				return "", fmt.Errorf("name's package path: %w", err)
			}
		}
	}
	return text, nil
}

// varString reads a varint length and that many bytes at a.
func (pr *prover) varString(a uintptr) (string, uintptr, error) {
	var n uintptr
	for i := uintptr(0); ; i++ {
		if i == 4 || !pr.in(a+i, 1) {
			return "", 0, errors.New("bad name length")
		}
		c := descriptor(a + i).u8(0)
		n |= uintptr(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			a += i + 1
			break
		}
	}
	if n > maxNameLen || !pr.in(a, n) {
		return "", 0, fmt.Errorf("name of %d B outside the type data", n)
	}
	return unsafe.String((*byte)(ptrAt(a)), n), a + n, nil
}
