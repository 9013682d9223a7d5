package symbols

// DWARF location expressions and DWARF 5 location lists, limited to what
// the Go compiler emits for variables (cmd/internal/dwarf putvar and
// cmd/compile/internal/ssa/debug.go in go1.26.8):
//
//   - a variable that lives in one stack slot for its whole scope gets an
//     exprloc: DW_OP_call_frame_cfa (offset 0) or DW_OP_fbreg <sleb>, where
//     the frame base is DW_OP_call_frame_cfa, so offsets are from the CFA;
//   - an optimised variable gets a location list (DW_FORM_sec_offset into
//     .debug_loclists): DW_LLE_base_addressx (the function's start, through
//     .debug_addr), then DW_LLE_offset_pair ranges, each with an expression
//     made of pieces: DW_OP_fbreg / DW_OP_call_frame_cfa / DW_OP_reg* /
//     DW_OP_regx, each followed by DW_OP_piece <size> when the variable is
//     split (a slice's pointer, length and capacity in three places).
//
// Anything else (DWARF expressions with arithmetic, DW_OP_addr locals) is not
// decoded and the variable is skipped, never guessed.

const (
	opAddr         = 0x03
	opReg0         = 0x50
	opReg31        = 0x6f
	opRegx         = 0x90
	opFbreg        = 0x91
	opPiece        = 0x93
	opCallFrameCFA = 0x9c

	lleEndOfList    = 0x0
	lleBaseAddressx = 0x1
	lleStartxEndx   = 0x2
	lleStartxLength = 0x3
	lleOffsetPair   = 0x4
	lleDefault      = 0x5
	lleBaseAddress  = 0x6
	lleStartEnd     = 0x7
	lleStartLength  = 0x8
)

// A locPiece is where Size bytes of a variable, starting VarOff bytes into
// it, live. Size 0 means "the rest of the variable" (an expression without
// pieces).
type locPiece struct {
	varOff, size int64
	onStack      bool
	cfaOff       int64 // when onStack: the piece starts at CFA+cfaOff
}

// parseLocExpr decodes a location expression into pieces; ok is false for
// expressions outside the subset above.
func parseLocExpr(b []byte) (pieces []locPiece, ok bool) {
	var cur locPiece
	have := false // cur has a location not yet closed by a piece
	var varOff int64
	for len(b) > 0 {
		op := b[0]
		b = b[1:]
		switch {
		case op == opCallFrameCFA:
			cur, have = locPiece{onStack: true}, true
		case op == opFbreg:
			v, n := sleb(b)
			if n == 0 {
				return nil, false
			}
			b = b[n:]
			cur, have = locPiece{onStack: true, cfaOff: v}, true
		case op >= opReg0 && op <= opReg31:
			cur, have = locPiece{}, true
		case op == opRegx:
			_, n := uleb(b)
			if n == 0 {
				return nil, false
			}
			b = b[n:]
			cur, have = locPiece{}, true
		case op == opPiece:
			size, n := uleb(b)
			if n == 0 || size == 0 || size > 1<<30 {
				return nil, false
			}
			b = b[n:]
			// A piece with no location before it is optimised out.
			cur.varOff, cur.size = varOff, int64(size)
			pieces = append(pieces, cur)
			varOff += int64(size)
			cur, have = locPiece{}, false
		default:
			return nil, false
		}
	}
	if have {
		cur.varOff = varOff
		pieces = append(pieces, cur)
	}
	return pieces, true
}

// locListExpr returns the expression of the location list at off that
// covers pc (link-time), or nil.
func (dw *debugInfo) locListExpr(off int64, addrBase, pc uint64) []byte {
	if off < 0 || off >= int64(len(dw.loclists)) {
		return nil
	}
	b := dw.loclists[off:]
	var base uint64
	addrx := func(idx uint64) (uint64, bool) {
		o := addrBase + idx*8
		if o+8 < o || o+8 > uint64(len(dw.addr)) {
			return 0, false
		}
		return le64(dw.addr[o:]), true
	}
	next := func() (uint64, bool) {
		v, n := uleb(b)
		b = b[n:]
		return v, n > 0
	}
	addr := func() (uint64, bool) {
		if len(b) < 8 {
			return 0, false
		}
		v := le64(b)
		b = b[8:]
		return v, true
	}
	expr := func() ([]byte, bool) {
		n, ok := next()
		if !ok || n > uint64(len(b)) {
			return nil, false
		}
		e := b[:n]
		b = b[n:]
		return e, true
	}
	for len(b) > 0 {
		kind := b[0]
		b = b[1:]
		var lo, hi uint64
		var ok bool
		switch kind {
		case lleEndOfList:
			return nil
		case lleBaseAddressx:
			var i uint64
			if i, ok = next(); ok {
				base, ok = addrx(i)
			}
			if !ok {
				return nil
			}
			continue
		case lleBaseAddress:
			if base, ok = addr(); !ok {
				return nil
			}
			continue
		case lleOffsetPair:
			var a, z uint64
			a, ok = next()
			if ok {
				z, ok = next()
			}
			lo, hi = base+a, base+z
		case lleStartxEndx:
			var a, z uint64
			if a, ok = next(); ok {
				if z, ok = next(); ok {
					if lo, ok = addrx(a); ok {
						hi, ok = addrx(z)
					}
				}
			}
		case lleStartxLength:
			var a, n uint64
			if a, ok = next(); ok {
				if n, ok = next(); ok {
					lo, ok = addrx(a)
					hi = lo + n
				}
			}
		case lleStartEnd:
			if lo, ok = addr(); ok {
				hi, ok = addr()
			}
		case lleStartLength:
			var n uint64
			if lo, ok = addr(); ok {
				n, ok = next()
				hi = lo + n
			}
		case lleDefault:
			ok, lo, hi = true, 0, ^uint64(0)
		default:
			return nil
		}
		if !ok {
			return nil
		}
		e, ok := expr()
		if !ok {
			return nil
		}
		if pc >= lo && pc < hi {
			return e
		}
	}
	return nil
}

// uleb decodes an unsigned LEB128; n is 0 if b ends first or it overflows.
func uleb(b []byte) (v uint64, n int) {
	var shift uint
	for i, c := range b {
		if shift >= 64 {
			return 0, 0
		}
		v |= uint64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

// sleb decodes a signed LEB128; n is 0 if b ends first or it overflows.
func sleb(b []byte) (v int64, n int) {
	var shift uint
	for i, c := range b {
		if shift >= 64 {
			return 0, 0
		}
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v, i + 1
		}
	}
	return 0, 0
}
