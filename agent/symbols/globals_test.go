package symbols

import (
	"debug/elf"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// Planted globals. The test names them through their addresses.
type tnode struct {
	val  int
	next *tnode
}

type tsession struct {
	id  int
	buf []byte
}

type tregistry struct {
	name     string
	sessions map[string]*tsession
	last     any
}

const pkg = "github.com/heaptop/heaptop/agent/symbols."

var (
	registry *tregistry // bss
	table    [8]tnode   // bss
	cfg      struct {   // bss
		name  string
		cache struct {
			hits  int
			items []*tnode
		}
	}
	staticNode = &tnode{val: 7} // data: an initialised pointer
	counters   = [4]int64{1, 2, 3, 4}
	hiddenAddr uintptr // noptrbss
)

func TestImageGlobals(t *testing.T) {
	b := imageBuild(t)
	registry = &tregistry{sessions: map[string]*tsession{"a": {id: 1}}}
	table[3].next = &table[4]
	cfg.cache.items = []*tnode{&table[0]}
	hiddenAddr = uintptr(unsafe.Pointer(registry))
	im := Self()
	segs, err := im.Segments()
	if err != nil {
		t.Fatal(err)
	}
	segStart := map[string]uintptr{}
	for _, s := range segs {
		segStart[s.Name] = s.Start
	}
	slide, _ := im.Slide()
	if (b == "pie") != (slide != 0) {
		t.Errorf("%s build: slide %#x", b, slide)
	}

	addr := func(p unsafe.Pointer) uintptr { return uintptr(p) }
	cases := []struct {
		addr   uintptr
		seg    string
		full   string // default and pie builds (.symtab and DWARF)
		target string // Word.Target of the word, with DWARF
	}{
		{addr(unsafe.Pointer(&registry)), "bss", pkg + "registry", "symbols.tregistry"},
		{addr(unsafe.Pointer(&table[3].next)), "bss", pkg + "table[3].next", "symbols.tnode"},
		{addr(unsafe.Pointer(&table[5].val)), "bss", pkg + "table[5].val", "untyped"},
		{addr(unsafe.Pointer(&cfg.cache.items)), "bss", pkg + "cfg.cache.items", "[]*symbols.tnode backing array"},
		{addr(unsafe.Pointer(&cfg.name)), "bss", pkg + "cfg.name", "string bytes"},
		{addr(unsafe.Pointer(&staticNode)), "data", pkg + "staticNode", "symbols.tnode"},
		{addr(unsafe.Pointer(&counters[2])), "noptrdata", pkg + "counters[2]", "untyped"},
		{addr(unsafe.Pointer(&hiddenAddr)), "noptrbss", pkg + "hiddenAddr", "untyped"},
	}
	for _, c := range cases {
		g := im.Global(c.addr)
		if g.Segment != c.seg || g.SegOffset != c.addr-segStart[c.seg] {
			t.Errorf("%s: segment %s+%#x, want %s+%#x", c.full, g.Segment, g.SegOffset, c.seg, c.addr-segStart[c.seg])
		}
		var want string
		switch b {
		case "stripped":
			want = fmt.Sprintf("%s+%#x", c.seg, c.addr-segStart[c.seg])
		case "nodwarf":
			want = globalNoDWARF(c.full, g.VarOffset)
		default:
			want = c.full
			if got := g.Word.Target.String(); got != c.target {
				t.Errorf("%s: target %q, want %q", c.full, got, c.target)
			}
		}
		if g.String() != want {
			t.Errorf("Global(%#x) = %q, want %q", c.addr, g.String(), want)
		}
	}
	degraded := im.Degraded()
	want := map[string][]string{"stripped": {reasonStripped}, "nodwarf": {reasonNoDWARF}}[b]
	if !slices.Equal(degraded, want) {
		t.Errorf("%s build: Degraded() = %q, want %q", b, degraded, want)
	}
	// Outside every global: the text segment and an unmapped address.
	if g := im.Global(reflect.ValueOf(TestImageGlobals).Pointer()); g.Segment != "" || g.Var != "" {
		t.Errorf("a code address named as a global: %+v", g)
	}
}

// TestImageSegments checks the linker's runtime.* bounds against the section
// headers (the stripped fallback) and against what the process is: its
// globals lie in their segments and its code in text.
func TestImageSegments(t *testing.T) {
	b := imageBuild(t)
	im := Self()
	segs, err := im.Segments()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Segment{}
	for _, s := range segs {
		byName[s.Name] = s
		if s.Start == 0 || s.End <= s.Start {
			t.Errorf("segment %+v empty", s)
		}
	}
	slide, _ := im.Slide()
	f, err := elf.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var fromSections elfIndex
	fromSections.pie, fromSections.slide = f.Type == elf.ET_DYN, slide
	if err := fromSections.segsFromSections(f); err != nil {
		t.Fatal(err)
	}
	// The .text section ends a few bytes after runtime.etext (the linker
	// pads the section; etext is the end of the last function).
	if d := fromSections.segs.text.End - im.elf.segs.text.End; d < 16 {
		fromSections.segs.text.End = im.elf.segs.text.End
	}
	if fromSections.segs != im.elf.segs {
		t.Errorf("%s build: segments from sections\n%+v\ndiffer from runtime.* symbols\n%+v", b, fromSections.segs, im.elf.segs)
	}
	for name, p := range map[string]uintptr{
		"text": reflect.ValueOf(TestImageSegments).Pointer(), "bss": uintptr(unsafe.Pointer(&registry)),
		"data": uintptr(unsafe.Pointer(&staticNode)), "noptrdata": uintptr(unsafe.Pointer(&counters)),
		"noptrbss": uintptr(unsafe.Pointer(&hiddenAddr)), "types": typeAddr(reflect.TypeFor[tnode]()),
	} {
		if !byName[name].Contains(p) {
			t.Errorf("%#x not in %s %+v", p, name, byName[name])
		}
	}
	if b != "stripped" {
		// The slide from auxv agrees with a function's symbol value.
		syms, _ := f.Symbols()
		name := pkg + "TestImageSegments"
		i := slices.IndexFunc(syms, func(s elf.Symbol) bool { return s.Name == name })
		if i < 0 || uintptr(syms[i].Value)+slide != reflect.ValueOf(TestImageSegments).Pointer() {
			t.Errorf("slide %#x does not map %s", slide, name)
		}
	}
	if strings.Contains(b, "pie") != (f.Type == elf.ET_DYN) {
		t.Errorf("%s build is ELF type %v", b, f.Type)
	}
}

// globalNoDWARF is what a global reads as with .symtab but no DWARF: the
// variable, plus the offset when the word is not its first.
func globalNoDWARF(full string, off uintptr) string {
	rest := full[len(pkg):]
	name := pkg + rest[:strings.IndexAny(rest+".", ".[")]
	if off == 0 {
		return name
	}
	return fmt.Sprintf("%s+%#x", name, off)
}
