package symbols

import (
	"debug/dwarf"
	"slices"
	"sort"
	"testing"

	"github.com/heaptop/heaptop/agent/internal/testprog"
)

// TestDWARFIndex checks the byte-level index against debug/dwarf's Reader
// on real binaries (the demo, which links the agent and gRPC, and a
// position-independent build of it): the same globals and functions, with
// the same offsets and values.
func TestDWARFIndex(t *testing.T) {
	for name, bin := range map[string]string{
		"demo":     testprog.Build(t, "./examples/demo"),
		"demo PIE": testprog.Build(t, "./examples/demo", "-buildmode=pie"),
	} {
		dw, err := readDWARF(bin, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		globals, funcs, err := readerIndex(dw.data)
		if err != nil {
			t.Fatalf("%s: the Reader: %v", name, err)
		}
		if len(globals) < 100 || len(funcs) < 1000 {
			t.Fatalf("%s: the Reader found %d globals, %d functions: too few for a Go binary", name, len(globals), len(funcs))
		}
		if !slices.Equal(dw.globals, globals) {
			t.Errorf("%s: globals differ: index %d, Reader %d", name, len(dw.globals), len(globals))
		}
		if !slices.Equal(dw.funcs, funcs) {
			t.Errorf("%s: functions differ: index %d, Reader %d", name, len(dw.funcs), len(funcs))
			for i := range min(len(dw.funcs), len(funcs)) {
				if dw.funcs[i] != funcs[i] {
					t.Errorf("first difference at %d: index %+v, Reader %+v", i, dw.funcs[i], funcs[i])
					break
				}
			}
		}
		t.Logf("%s: %d globals, %d functions", name, len(globals), len(funcs))
	}
}

// readerIndex is the index as debug/dwarf's Reader gives it: the top-level
// variables with a DW_OP_addr location and subprograms with code of each
// compile unit.
func readerIndex(d *dwarf.Data) ([]dwarfGlobal, []dwarfFunc, error) {
	var globals []dwarfGlobal
	var funcs []dwarfFunc
	r := d.Reader()
	var addrBase uint64
	for {
		e, err := r.Next()
		if err != nil {
			return nil, nil, err
		}
		if e == nil {
			break
		}
		switch e.Tag {
		case dwarf.TagCompileUnit:
			addrBase = 0
			if v, ok := e.Val(dwarf.AttrAddrBase).(int64); ok {
				addrBase = uint64(v)
			}
			continue // descend into the unit
		case dwarf.TagVariable:
			loc, _ := e.Val(dwarf.AttrLocation).([]byte)
			typ, ok := e.Val(dwarf.AttrType).(dwarf.Offset)
			if ok && len(loc) == 9 && loc[0] == opAddr {
				globals = append(globals, dwarfGlobal{addr: le64(loc[1:]), typ: typ})
			}
		case dwarf.TagSubprogram:
			if low, ok := e.Val(dwarf.AttrLowpc).(uint64); ok {
				high := low
				switch v := e.Val(dwarf.AttrHighpc).(type) {
				case int64:
					high = low + uint64(v)
				case uint64:
					high = v
				}
				funcs = append(funcs, dwarfFunc{low: low, high: high, off: e.Offset, addrBase: addrBase})
			}
		}
		if e.Children {
			r.SkipChildren()
		}
	}
	sort.Slice(globals, func(i, j int) bool { return globals[i].addr < globals[j].addr })
	sort.Slice(funcs, func(i, j int) bool { return funcs[i].low < funcs[j].low })
	return globals, funcs, nil
}

// TestImageLoadUntil_stopped: a load whose stop channel is closed gives up
// without a result, so that the agent closing mid-capture does not wait
// for it; the next load reads the DWARF whole. (A build without DWARF has
// nothing to give up: its first load concludes there is none.)
func TestImageLoadUntil_stopped(t *testing.T) {
	build := imageBuild(t)
	// This test binary's image, a new one: Self's may be loaded already.
	im := &Image{path: "/proc/self/exe", slideFor: slideFromAuxv, self: true}
	stop := make(chan struct{})
	close(stop)
	if err := im.LoadUntil(stop); err != nil {
		t.Fatal(err)
	}
	if hasDWARF(build) && (im.dwarfDone.Load() || im.dwarf != nil) {
		t.Fatalf("a stopped load left DWARF done (%v) or read (%v)", im.dwarfDone.Load(), im.dwarf != nil)
	}
	if err := im.Load(); err != nil {
		t.Fatal(err)
	}
	if !im.dwarfDone.Load() || (im.dwarf != nil) != hasDWARF(build) || (im.dwarf != nil && len(im.dwarf.funcs) == 0) {
		t.Fatalf("the load after a stopped one: done %v, DWARF %v (%s)", im.dwarfDone.Load(), im.dwarf != nil, im.dwarfWhy)
	}
}
