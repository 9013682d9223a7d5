package symbols

import (
	"debug/dwarf"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// The index of globals and functions is built by reading .debug_info's
// bytes directly rather than through debug/dwarf's Reader. It needs only
// the top level of each compile unit, but the Reader decodes every entry it
// passes, children included, into an Entry with its fields boxed (Go's
// linker writes no DW_AT_sibling to skip by): that was 70 % of the DWARF
// load, the part of a process's first capture that later ones do not pay
// (BENCHMARKS.md, "symbols"). Here an entry nobody needs is skipped by the
// sizes of its attributes' forms, read from its abbreviation. Everything
// else (types, a function's variables) still goes through debug/dwarf,
// lazily, by the offsets this index keeps: they are the same offsets.

// DWARF 5 constants this walk reads (DWARF 5 §7.5).
const (
	tagCompileUnit = 0x11
	tagVariable    = 0x34
	tagSubprogram  = 0x2e

	atLocation = 0x02
	atLowPC    = 0x11
	atHighPC   = 0x12
	atType     = 0x49
	atAddrBase = 0x73

	formImplicitConst = 0x21
)

// abbrev is one abbreviation: a DIE's tag, whether children follow it, and
// its attributes' names and forms.
type abbrev struct {
	tag      uint64
	children bool
	attrs    []abbrevAttr
}

type abbrevAttr struct {
	name, form uint64
}

// dieReader is a cursor over DWARF bytes; a read past the end sets err and
// yields zeros, so callers check err once per entry.
type dieReader struct {
	b   []byte
	off int
	err error
}

func (r *dieReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%s at offset %#x", what, r.off)
	}
	r.off = len(r.b)
}

func (r *dieReader) bytes(n uint64) []byte {
	if n > uint64(len(r.b)-r.off) {
		r.fail("truncated")
		return nil
	}
	p := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return p
}

func (r *dieReader) u8() uint64 {
	if p := r.bytes(1); p != nil {
		return uint64(p[0])
	}
	return 0
}

func (r *dieReader) u16() uint64 {
	if p := r.bytes(2); p != nil {
		return uint64(binary.LittleEndian.Uint16(p))
	}
	return 0
}

func (r *dieReader) u32() uint64 {
	if p := r.bytes(4); p != nil {
		return uint64(binary.LittleEndian.Uint32(p))
	}
	return 0
}

func (r *dieReader) u64() uint64 {
	if p := r.bytes(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

// uleb reads an unsigned LEB128; sleb has the same length, so skipping a
// signed one reads it as unsigned.
func (r *dieReader) uleb() uint64 {
	var v uint64
	for shift := uint(0); r.off < len(r.b); shift += 7 {
		c := r.b[r.off]
		r.off++
		if shift < 64 {
			v |= uint64(c&0x7f) << shift
		}
		if c < 0x80 {
			return v
		}
	}
	r.fail("truncated LEB128")
	return 0
}

func (r *dieReader) cstring() {
	for r.off < len(r.b) {
		r.off++
		if r.b[r.off-1] == 0 {
			return
		}
	}
	r.fail("unterminated string")
}

// parseAbbrevs reads the abbreviation table at off in .debug_abbrev.
func parseAbbrevs(b []byte, off uint64) (map[uint64]abbrev, error) {
	if off > uint64(len(b)) {
		return nil, fmt.Errorf("abbreviation table offset %#x out of range", off)
	}
	r := dieReader{b: b, off: int(off)}
	table := make(map[uint64]abbrev)
	for r.err == nil {
		code := r.uleb()
		if code == 0 {
			break
		}
		a := abbrev{tag: r.uleb(), children: r.u8() != 0}
		for r.err == nil {
			at := abbrevAttr{name: r.uleb(), form: r.uleb()}
			if at.form == formImplicitConst {
				r.uleb() // the value lives in the abbreviation; nothing to skip in a DIE
			}
			if at.name == 0 && at.form == 0 {
				break
			}
			a.attrs = append(a.attrs, at)
		}
		table[code] = a
	}
	return table, r.err
}

// attrValue is what the index needs of one attribute: an integer (addresses,
// offsets, constants, references made absolute) or a block (expressions).
type attrValue struct {
	n     uint64
	block []byte
}

// readForm reads or skips (the value is then unused) one attribute value of
// form in a unit of DWARF 32-bit format whose header starts at unit; a
// reference within the unit is made absolute, as debug/dwarf gives it.
func (r *dieReader) readForm(form uint64, unit uint64) attrValue {
	var v attrValue
	switch form {
	case 0x0b, 0x11, 0x0c, 0x25, 0x29: // data1, ref1, flag, strx1, addrx1
		v.n = r.u8()
	case 0x05, 0x12, 0x26, 0x2a: // data2, ref2, strx2, addrx2
		v.n = r.u16()
	case 0x27, 0x2b: // strx3, addrx3
		if p := r.bytes(3); p != nil {
			v.n = uint64(p[0]) | uint64(p[1])<<8 | uint64(p[2])<<16
		}
	case 0x06, 0x13, 0x0e, 0x10, 0x17, 0x1d, 0x1f, 0x28, 0x2c, 0x1c: // data4, ref4, strp, ref_addr, sec_offset, strp_sup, line_strp, strx4, addrx4, ref_sup4
		v.n = r.u32()
	case 0x01, 0x07, 0x14, 0x20, 0x24: // addr (8-byte addresses only: see indexUnits), data8, ref8, ref_sig8, ref_sup8
		v.n = r.u64()
	case 0x0f, 0x15, 0x1a, 0x1b, 0x22, 0x23, 0x0d: // udata, ref_udata, strx, addrx, loclistx, rnglistx, sdata (its sign is not needed)
		v.n = r.uleb()
	case 0x1e: // data16
		r.bytes(16)
	case 0x08: // string
		r.cstring()
	case 0x0a: // block1
		v.block = r.bytes(r.u8())
	case 0x03: // block2
		v.block = r.bytes(r.u16())
	case 0x04: // block4
		v.block = r.bytes(r.u32())
	case 0x09, 0x18: // block, exprloc
		v.block = r.bytes(r.uleb())
	case 0x19, formImplicitConst: // flag_present, implicit_const: no bytes
	default:
		r.fail(fmt.Sprintf("DWARF form %#x", form))
	}
	switch form {
	case 0x11, 0x12, 0x13, 0x14, 0x15: // ref1, ref2, ref4, ref8, ref_udata: unit-relative
		v.n += unit
	}
	return v
}

var errDWARFLayout = errors.New("DWARF is not 32-bit DWARF 5 with 8-byte addresses")

// indexUnits walks the compile units of info (.debug_info) and keeps, at
// the top level of each, package-level variables with a DW_OP_addr location
// and subprograms with code, as the Reader-based walk it replaced did: the
// same entries, offsets and values (TestDWARFIndex compares them).
func (dw *debugInfo) indexUnits(info, abbrevs []byte) error {
	tables := make(map[uint64]map[uint64]abbrev) // Go's linker writes one table; units share it
	r := dieReader{b: info}
	for r.off < len(info) && r.err == nil {
		unit := uint64(r.off)
		length := r.u32()
		if length >= 0xfffffff0 {
			return errDWARFLayout // 64-bit DWARF
		}
		end := r.off + int(length)
		if end > len(info) || length < 8 {
			return fmt.Errorf("unit at %#x: length %d out of range", unit, length)
		}
		version, unitType := r.u16(), r.u8()
		addrSize, abbrevOff := r.u8(), r.u32()
		if version != 5 || addrSize != 8 {
			return errDWARFLayout
		}
		if unitType != 0x01 { // not DW_UT_compile: nothing the index keeps
			r.off = end
			continue
		}
		table, ok := tables[abbrevOff]
		if !ok {
			var err error
			if table, err = parseAbbrevs(abbrevs, abbrevOff); err != nil {
				return err
			}
			tables[abbrevOff] = table
		}
		u := dieReader{b: info[:end], off: r.off}
		if err := dw.indexUnit(&u, table, unit); err != nil {
			return err
		}
		r.off = end
	}
	if r.err != nil {
		return r.err
	}
	sort.Slice(dw.globals, func(i, j int) bool { return dw.globals[i].addr < dw.globals[j].addr })
	sort.Slice(dw.funcs, func(i, j int) bool { return dw.funcs[i].low < dw.funcs[j].low })
	return nil
}

// indexUnit reads one compile unit's DIEs from r (positioned after the
// unit header at unit).
func (dw *debugInfo) indexUnit(r *dieReader, table map[uint64]abbrev, unit uint64) error {
	var addrBase uint64
	depth := 0
	for r.off < len(r.b) && r.err == nil {
		die := uint64(r.off)
		code := r.uleb()
		if code == 0 { // the end of a list of children
			depth--
			if depth <= 0 {
				return r.err
			}
			continue
		}
		a, ok := table[code]
		if !ok {
			return fmt.Errorf("DIE at %#x: unknown abbreviation %d", die, code)
		}
		// What the index keeps: the unit's address base, and of its
		// top-level entries the variables' location and type and the
		// subprograms' code range.
		if depth == 0 && a.tag != tagCompileUnit {
			return r.err // a unit of another kind: nothing the index keeps
		}
		keep := depth == 0 || (depth == 1 && (a.tag == tagVariable || a.tag == tagSubprogram))
		var loc []byte
		var typ, low, high uint64
		var hasType, hasLow, lowIndexed, hasHigh, highOffset bool
		for _, at := range a.attrs {
			v := r.readForm(at.form, unit)
			if !keep {
				continue
			}
			switch at.name {
			case atAddrBase:
				addrBase = v.n
			case atLocation:
				loc = v.block
			case atType:
				typ, hasType = v.n, isReference(at.form)
			case atLowPC:
				low, hasLow, lowIndexed = v.n, at.form == 0x01 || isAddrx(at.form), isAddrx(at.form)
			case atHighPC:
				high, hasHigh, highOffset = v.n, true, at.form != 0x01 && !isAddrx(at.form)
			}
		}
		if r.err != nil {
			return r.err
		}
		if keep && depth == 1 {
			switch a.tag {
			case tagVariable:
				if hasType && len(loc) == 9 && loc[0] == opAddr {
					dw.globals = append(dw.globals, dwarfGlobal{addr: le64(loc[1:]), typ: dwarf.Offset(typ)})
				}
			case tagSubprogram:
				if hasLow {
					if lowIndexed {
						var ok bool
						if low, ok = dw.addrAt(addrBase, low); !ok {
							return fmt.Errorf("DIE at %#x: low_pc index %d out of .debug_addr", die, low)
						}
					}
					switch {
					case !hasHigh:
						high = low
					case highOffset:
						high += low
					}
					dw.funcs = append(dw.funcs, dwarfFunc{low: low, high: high, off: dwarf.Offset(die), addrBase: addrBase})
				}
			}
		}
		if a.children {
			depth++
		} else if depth == 0 {
			return r.err // a unit entry without children
		}
	}
	return r.err
}

func isReference(form uint64) bool {
	switch form {
	case 0x10, 0x11, 0x12, 0x13, 0x14, 0x15:
		return true
	}
	return false
}

func isAddrx(form uint64) bool {
	switch form {
	case 0x1b, 0x29, 0x2a, 0x2b, 0x2c:
		return true
	}
	return false
}

// addrAt is entry i of .debug_addr's table at base.
func (dw *debugInfo) addrAt(base, i uint64) (uint64, bool) {
	off := base + 8*i
	if off < base || off+8 > uint64(len(dw.addr)) {
		return 0, false
	}
	return le64(dw.addr[off:]), true
}
