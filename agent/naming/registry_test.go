package naming_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/heaptop/heaptop/agent/internal/testprog"
	"github.com/heaptop/heaptop/agent/naming"
)

// The registry program (testdata/progs/registry) plants issue 4's
// structures, captures itself in-process through capture, graph and
// naming, and prints a JSON report; these types mirror its Report.
type report struct {
	Chain      []hop
	Queued     []hop
	Closure    []hop
	Objects    map[string]object
	BigReflect string
	Worker     frameRoot
	WorkerGoid uint64
	Degraded   []string
	Coverage   naming.Coverage
}

type hop struct {
	Via, Label string
	Internal   bool
	Degraded   []string
	object
}

type object struct {
	Type, Source, Site, SiteFunc string
	SiteInlined                  bool
	Bytes                        uint32
}

type frameRoot struct {
	Name, Label, Via, Func, At, CreatedByFunc, CreatedByAt, WaitReason string
	Goroutine                                                          uint64
}

// runRegistry builds the registry program with the given go build flags,
// runs it and returns its report.
func runRegistry(t *testing.T, flags ...string) report {
	t.Helper()
	bin := testprog.Build(t, "registry", flags...)
	out, err := exec.Command(bin, t.TempDir()).Output()
	if err != nil {
		t.Fatalf("registry %v: %v\n%s", flags, err, out)
	}
	var r report
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("registry %v printed %q: %v", flags, out, err)
	}
	return r
}

// marker is "main.go:N" for the line of the registry program carrying
// "// marker:name".
func marker(t *testing.T, name string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	f, err := os.Open(filepath.Join(filepath.Dir(file), "..", "testdata", "progs", "registry", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if strings.Contains(sc.Text(), "// marker:"+name) {
			return fmt.Sprintf("main.go:%d", n)
		}
	}
	t.Fatalf("no marker %q in the registry program", name)
	return ""
}

// sessionChain is the chain from main.registry to a session's buffer, as
// naming must label it with DWARF: global → field → (map internals) → map
// value → field. The map of 20 sessions has a directory, one table and a
// groups array (over 512 B: typed from its malloc header).
func sessionChain(t *testing.T) []hop {
	const sessions = "map[string]*main.Session"
	return []hop{
		{Via: "VIA_GLOBAL", Label: "main.registry", object: object{Type: "bss"}},
		{Via: "VIA_FIELD", Label: ".sessions", object: object{Type: "main.Registry", Source: "global", Site: marker(t, "registry")}},
		{Via: "VIA_RUNTIME", Label: "(map directory)", Internal: true, object: object{Type: "map header of " + sessions, Source: "propagated", Site: marker(t, "registry")}},
		{Via: "VIA_RUNTIME", Label: "(map table 0)", Internal: true, object: object{Type: "map directory of " + sessions, Source: "propagated", Site: marker(t, "put")}},
		{Via: "VIA_RUNTIME", Label: "(map groups)", Internal: true, object: object{Type: "map table of " + sessions, Source: "propagated", Site: marker(t, "put")}},
		{Via: "VIA_MAP_VALUE", Label: "map value", object: object{Type: "map groups of map.group[string]*main.Session", Source: "header", Site: marker(t, "put")}},
		{Via: "VIA_FIELD", Label: ".buf", object: object{Type: "main.Session", Source: "propagated", Site: marker(t, "session")}},
		{object: object{Type: "[]uint8 backing array", Source: "propagated", Site: marker(t, "buf")}},
	}
}

// queuedChain is the chain from the Extras object to the *Small queued in
// its channel: a field, the channel's buffer (runtime), an element.
func queuedChain(t *testing.T) []hop {
	return []hop{
		{Via: "VIA_FIELD", Label: ".notify", object: object{Type: "main.Extras", Source: "propagated", Site: marker(t, "extras")}},
		{Via: "VIA_RUNTIME", Label: "(chan buffer)", Internal: true, object: object{Type: "chan header of chan *main.Small", Source: "propagated", Site: marker(t, "chan")}},
		{Via: "VIA_INDEX", Label: "[0]", object: object{Type: "[]*main.Small backing array", Source: "propagated", Site: marker(t, "chan")}},
		{object: object{Type: "main.Small", Source: "propagated", Site: marker(t, "queued")}},
	}
}

// closureChain is the chain from the Extras object to the session its
// closure captured: a field, a closure variable named from DWARF.
func closureChain(t *testing.T) []hop {
	return []hop{
		{Via: "VIA_FIELD", Label: ".onClose", object: object{Type: "main.Extras", Source: "propagated", Site: marker(t, "extras")}},
		{Via: "VIA_CLOSURE", Label: ".s3", object: object{Type: "closure main.plant.func1", Source: "propagated", Site: marker(t, "closure")}},
		{object: object{Type: "main.Session", Source: "propagated", Site: marker(t, "session")}},
	}
}

// sameHop compares hops without what the tests do not pin (sizes, the
// site's function name, a root's degradation).
func sameHop(got, want hop) bool {
	got.Bytes, got.SiteFunc, got.SiteInlined, got.Degraded = 0, "", false, nil
	return fmt.Sprint(got) == fmt.Sprint(want)
}

func checkChain(t *testing.T, name string, got, want []hop, match func(got, want hop) bool) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = match(got[i], want[i])
	}
	if !ok {
		var b strings.Builder
		for _, h := range got {
			fmt.Fprintf(&b, "\n\t%s %q internal=%v | %s (%s) at %s", h.Via, h.Label, h.Internal, h.Type, h.Source, h.Site)
		}
		t.Errorf("%s:%s", name, b.String())
	}
}

func checkObject(t *testing.T, r report, name string, want object) {
	t.Helper()
	got := r.Objects[name]
	got.Bytes, got.SiteFunc, got.SiteInlined = 0, "", false
	if got != want {
		t.Errorf("%s: %+v, want %+v", name, got, want)
	}
}

// TestRegistry runs the registry program built as users build services,
// default and PIE, and asserts every name issue 4 lists: the chain to a
// session's buffer with its types and allocation sites, header, propagated
// and interface types, and the goroutine blocked in worker; and the labels
// of a channel's buffer and a closure's variable.
func TestRegistry(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("capture runs on Linux")
	}
	builds := []struct {
		name  string
		flags []string
	}{{"default", nil}, {"pie", []string{"-buildmode=pie"}}}
	if testing.Short() {
		builds = builds[:1]
	}
	for _, b := range builds {
		t.Run(b.name, func(t *testing.T) {
			r := runRegistry(t, b.flags...)
			checkChain(t, "chain to a session's buffer", r.Chain, sessionChain(t), sameHop)
			checkChain(t, "chain to the *Small in a channel", r.Queued, queuedChain(t), sameHop)
			checkChain(t, "chain to the session of a closure", r.Closure, closureChain(t), sameHop)
			if len(r.Degraded) != 0 {
				t.Errorf("degraded names in a build with symbols and DWARF: %q", r.Degraded)
			}
			if r.BigReflect != "main.Big" {
				t.Errorf("reflect.TypeOf(Big{}) is %q", r.BigReflect)
			}
			checkObject(t, r, "big", object{Type: r.BigReflect, Source: "header", Site: marker(t, "big")})
			checkObject(t, r, "small", object{Type: "main.Small", Source: "propagated", Site: marker(t, "small")})
			checkObject(t, r, "payload", object{Type: "main.Payload", Source: "interface", Site: marker(t, "payload")})
			checkObject(t, r, "point", object{Type: "main.Point", Source: "interface", Site: marker(t, "point")})
			checkObject(t, r, "failure", object{Type: "main.Failure", Source: "interface", Site: marker(t, "failure")})
			checkObject(t, r, "workerbuf", object{Type: "[]uint8 backing array", Source: "local", Site: marker(t, "workerbuf")})
			// The conflict rule: whole beats part, an array beats its
			// first element; a part alone names the part and where it is.
			checkObject(t, r, "whole", object{Type: "main.Outer", Source: "global", Site: marker(t, "whole")})
			checkObject(t, r, "part", object{Type: "main.Inner at +0x8", Source: "global", Site: marker(t, "part")})
			checkObject(t, r, "elems", object{Type: "[]main.Inner backing array", Source: "global", Site: marker(t, "elems")})
			want := frameRoot{
				Name: fmt.Sprintf("goroutine %d frame main.worker", r.WorkerGoid), Label: "buf", Via: "VIA_FRAME",
				Func: "main.worker", At: marker(t, "block"), CreatedByFunc: "main.main", CreatedByAt: marker(t, "go"),
				WaitReason: "chan receive", Goroutine: r.WorkerGoid,
			}
			if r.Worker != want {
				t.Errorf("the frame holding the worker's buffer: %+v\nwant %+v", r.Worker, want)
			}
			t.Logf("coverage: %d of %d objects typed (%d of %d bytes), %d sited", r.Coverage.TypedObjects, r.Coverage.Objects,
				r.Coverage.TypedBytes, r.Coverage.Bytes, r.Coverage.SitedObjects)
		})
	}
}

// TestRegistry_stripped runs the registry program built with -ldflags="-s
// -w": no symbols, no DWARF. Globals are named by segment offset with the
// reason, untyped holders' words by offset, frame slots by sp offset; what
// needs no DWARF (header and interface types, propagation from them,
// allocation sites, frame functions, creation sites) is still right.
func TestRegistry_stripped(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("capture runs on Linux")
	}
	if testing.Short() {
		t.Skip("a third build of the registry program; TestRegistry covers the default build")
	}
	r := runRegistry(t, "-ldflags=-s -w")
	offset := regexp.MustCompile(`^\+0x[0-9a-f]+$`)
	untyped := regexp.MustCompile(`^untyped \d+ B$`)
	want := sessionChain(t)
	checkChain(t, "chain to a session's buffer", r.Chain, want, func(got, want hop) bool {
		switch {
		case want.Via == "VIA_GLOBAL":
			return got.Via == want.Via && regexp.MustCompile(`^bss\+0x[0-9a-f]+$`).MatchString(got.Label) &&
				len(got.Degraded) == 1 && strings.Contains(got.Degraded[0], "stripped")
		case want.Source == "global" || want.Source == "propagated" && want.Internal:
			// Reached from the untyped global only: untyped, words by offset.
			return got.Via == "VIA_POINTER" && offset.MatchString(got.Label) && untyped.MatchString(got.Type) &&
				got.Source == "untyped" && got.Site == want.Site
		}
		return sameHop(got, want)
	})
	checkObject(t, r, "big", object{Type: "main.Big", Source: "header", Site: marker(t, "big")})
	checkObject(t, r, "small", object{Type: "untyped 16 B", Source: "untyped", Site: marker(t, "small")})
	checkObject(t, r, "payload", object{Type: "main.Payload", Source: "interface", Site: marker(t, "payload")})
	checkObject(t, r, "workerbuf", object{Type: "untyped 131072 B", Source: "untyped", Site: marker(t, "workerbuf")})
	w := r.Worker
	if w.Func != "main.worker" || w.At != marker(t, "block") || w.CreatedByAt != marker(t, "go") || w.Goroutine != r.WorkerGoid ||
		!regexp.MustCompile(`^sp\+0x[0-9a-f]+$`).MatchString(w.Label) {
		t.Errorf("the frame holding the worker's buffer: %+v", w)
	}
}
