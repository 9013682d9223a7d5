package graph

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/heaptop/heaptop/agent/internal/testprog"
)

// TestNoptrSegments_hold_hidden_words runs testdata/progs/noptr, a program
// with a symbol table (go test binaries have none), which keeps an object
// through a pointer global and its address in a uintptr global and in a
// runtime.Cleanup, both in noptrbss, which the dump leaves out (and of
// which capture copies only the pages the program wrote, in parts).
func TestNoptrSegments_hold_hidden_words(t *testing.T) {
	bin := testprog.Build(t, "noptr")
	dir := t.TempDir()
	out, err := exec.Command(bin, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("noptr: %v\n%s", err, out)
	}
	m := testprog.Marker(t, out, "HEAPTOP")
	num := func(s string) uint64 {
		v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
		if err != nil {
			t.Fatalf("marker field %q: %v", s, err)
		}
		return v
	}
	obj, hidden, cleanup := num(m["obj"]), num(m["hidden"]), num(m["cleanup"])
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var segs []Segment
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "SEGMENT" {
			segs = append(segs, Segment{Name: f[1], Addr: num(f[2]), Bytes: read(f[1] + "-" + f[2])})
		}
	}
	g, err := Build(Input{Dump: read("dump"), Segments: segs})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := g.checkInvariants(); err != nil {
		t.Fatal(err)
	}
	o, ok := g.FindObject(obj)
	if base, _ := g.Object(o); !ok || base != obj {
		t.Fatalf("the planted object %#x is not an object of the dump", obj)
	}
	root, off := rootHolding(t, g, uintptr(hidden))
	if g.Root(root).Kind != RootNoptrBSS {
		t.Fatalf("the uintptr global is in a %s root, want noptrbss", g.Root(root).Kind)
	}
	found := map[uint64]bool{}
	for _, w := range g.Hidden {
		if w.Holder == g.RootVertex(root) && w.Value == obj {
			found[uint64(w.Offset)] = true
		}
	}
	// runtime.Cleanup is {id uint64; ptr uintptr}: ptr at +8.
	if !found[off] || !found[cleanup+8-g.Root(root).Addr] {
		t.Fatalf("hidden words of noptrbss with the object's address at %v; want the uintptr global at %#x and Cleanup.ptr at %#x",
			found, off, cleanup+8-g.Root(root).Addr)
	}
}
