package symbols

import (
	"debug/dwarf"
	"reflect"
)

// Naming stack slots. A frame record of the heap dump gives the frame's sp,
// its contents [sp, fp) and the function's entry and pc. On amd64 fp is the
// canonical frame address (CFA: the runtime's unwinder sets fp = sp +
// spdelta + the return-address word, traceback.go), and Go's DWARF frame
// base is DW_OP_call_frame_cfa, so a slot at sp+off is at CFA offset
// off - (fp - sp), a negative number. The slots of the callee's incoming
// arguments (register-ABI spill slots and stack arguments) are in the
// caller's frame at non-negative CFA offsets of the callee: for a slot in
// frame F, ask F's own function with cfaOff = addr - F.fp, then F's callee
// with cfaOff = addr - F.sp.
//
// Covered: variables and parameters with an exprloc (DW_OP_fbreg or
// DW_OP_call_frame_cfa), and location lists whose entry at the pc puts the
// variable, or pieces of it, on the stack (fbreg pieces), including those of
// inlined calls and lexical blocks whose ranges hold the pc. Not covered:
// values only in registers at that pc (a parked goroutine has spilled what
// it needs, but a frame interrupted by async preemption may hold pointers
// only in registers: the asyncPreempt frame's spill area, which this
// package does not name), generic functions' shape-typed variables (named,
// but untyped), and locals of non-Go code.

// A Local names a stack slot: the variable or parameter that holds it.
type Local struct {
	Function string // the subprogram the variable belongs to, "main.worker"
	Name     string // "buf"; "&x" for a variable moved to the heap; "~r0" for an unnamed result
	Param    bool
	DeclLine int
	// Path is the field path inside the variable ("[2]", ".items") and Type
	// its type, both from DWARF's runtime type; Word is the slot as that
	// type lays it out. Type is nil when DWARF gives no runtime type.
	Path string
	Type reflect.Type
	Word Hop
	// Ambiguous: more than one variable claims the slot at this pc (the
	// compiler reuses a slot for variables whose lifetimes do not overlap);
	// Name is the first in DWARF order.
	Ambiguous bool
}

// String is "buf" or "cfg.items[2]".
func (l Local) String() string { return l.Name + l.Path }

// dwarfVar is a variable or parameter of a subprogram, with its scope and
// its type resolved once.
type dwarfVar struct {
	name       string
	typ        dwarf.Offset
	rtype      reflect.Type // proven runtime type, nil if none
	size       int64        // from rtype, else DWARF
	param      bool
	declLine   int
	closureOff int64
	loc        any         // []byte exprloc, int64 location list offset, or nil
	scope      [][2]uint64 // link-time pc ranges of the enclosing block or inlined call; nil = the whole function
}

// Local names the stack slot at cfaOff (an offset from the frame's CFA; see
// above) of a frame of the function entered at entry, stopped at pc (a pc of
// the given kind, as from FramePCKind). ok is false without DWARF or when no
// variable is known to live there at that pc.
func (im *Image) Local(entry, pc uintptr, kind PCKind, cfaOff int64) (Local, bool) {
	dw := im.loadDWARF()
	if dw == nil {
		return Local{}, false
	}
	slide := im.elf.slide
	fn, ok := dw.funcAt(uint64(entry - slide))
	if !ok || fn.low != uint64(entry-slide) {
		return Local{}, false
	}
	lpc := uint64(pc - slide)
	if kind == ReturnPC && pc > entry {
		lpc-- // the call instruction, where the locations were recorded
	}
	var best Local
	found := false
	for _, v := range im.vars(fn) {
		if v.scope != nil && !inRanges(v.scope, lpc) {
			continue
		}
		var expr []byte
		switch loc := v.loc.(type) {
		case []byte:
			expr = loc
		case int64:
			expr = dw.locListExpr(loc, fn.addrBase, lpc)
		}
		pieces, ok := parseLocExpr(expr)
		if !ok {
			continue
		}
		for _, p := range pieces {
			n := p.size
			if n == 0 {
				n = v.size - p.varOff
			}
			if !p.onStack || cfaOff < p.cfaOff || cfaOff >= p.cfaOff+n {
				continue
			}
			if found {
				best.Ambiguous = true
				break
			}
			found = true
			best = Local{Function: FuncName(entry), Name: v.name, Param: v.param, DeclLine: v.declLine, Type: v.rtype}
			if v.typ != 0 {
				best.Word = im.dwarfWord(v.typ, uintptr(p.varOff+cfaOff-p.cfaOff))
				best.Path = best.Word.Path
			}
			break
		}
	}
	return best, found
}

// dwarfType is the proven reflect.Type of the DWARF type at off, or nil
// when it has no runtime descriptor. A named type's descriptor hangs on the
// definition its typedef DIE points at (same name; cmd/link dotypedef).
func (im *Image) dwarfType(off dwarf.Offset) reflect.Type {
	for range 4 {
		if off == 0 {
			return nil
		}
		if rt := im.dwarf.runtimeType(off); rt != 0 {
			t, err := im.TypeAt(im.elf.segs.types.Start + uintptr(rt))
			if err != nil {
				return nil
			}
			return t
		}
		e := im.dwarf.entryAt(off)
		if e == nil || e.Tag != dwarf.TagTypedef {
			return nil
		}
		off, _ = e.Val(dwarf.AttrType).(dwarf.Offset)
	}
	return nil
}

// vars lists the variables and parameters of fn, nested blocks and inlined
// calls included, caching the list per function.
func (im *Image) vars(fn dwarfFunc) []dwarfVar {
	dw := im.dwarf
	dw.mu.Lock()
	if vs, ok := dw.varCache[fn.off]; ok {
		dw.mu.Unlock()
		return vs
	}
	dw.mu.Unlock()

	var out []dwarfVar
	r := dw.data.Reader()
	r.Seek(fn.off)
	e, err := r.Next()
	if err != nil || e == nil || !e.Children {
		return nil
	}
	scopes := [][][2]uint64{nil} // scope of each open DIE with children
	for len(scopes) > 0 {
		e, err := r.Next()
		if err != nil || e == nil {
			break
		}
		switch e.Tag {
		case 0:
			scopes = scopes[:len(scopes)-1]
			continue
		case dwarf.TagVariable, dwarf.TagFormalParameter:
			out = append(out, dw.varOf(e, scopes[len(scopes)-1]))
		}
		if e.Children {
			scope := scopes[len(scopes)-1]
			if e.Tag == dwarf.TagLexDwarfBlock || e.Tag == dwarf.TagInlinedSubroutine {
				if rs, err := dw.data.Ranges(e); err == nil && len(rs) > 0 {
					scope = rs
				}
			}
			scopes = append(scopes, scope)
		}
	}
	for i := range out {
		v := &out[i]
		v.rtype = im.dwarfType(v.typ)
		v.size = dw.byteSize(v.typ)
		if v.rtype != nil {
			v.size = int64(v.rtype.Size())
		}
	}
	dw.mu.Lock()
	dw.varCache[fn.off] = out
	dw.mu.Unlock()
	return out
}

// varOf reads one variable DIE; name, type and line come from its abstract
// origin when it is the concrete instance of an inlined function's variable.
func (dw *debugInfo) varOf(e *dwarf.Entry, scope [][2]uint64) dwarfVar {
	v := dwarfVar{param: e.Tag == dwarf.TagFormalParameter, loc: e.Val(dwarf.AttrLocation), scope: scope}
	src := e
	if ao, ok := e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset); ok {
		if a := dw.entryAt(ao); a != nil {
			src = a
		}
	}
	v.name, _ = src.Val(dwarf.AttrName).(string)
	v.typ, _ = src.Val(dwarf.AttrType).(dwarf.Offset)
	if l, ok := src.Val(dwarf.AttrDeclLine).(int64); ok {
		v.declLine = int(l)
	}
	v.closureOff, _ = src.Val(attrGoClosureOffset).(int64)
	return v
}

func inRanges(rs [][2]uint64, pc uint64) bool {
	for _, r := range rs {
		if pc >= r[0] && pc < r[1] {
			return true
		}
	}
	return false
}
