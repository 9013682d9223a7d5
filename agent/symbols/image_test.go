package symbols

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Most tests here need the running binary's symbols, and `go test` links the
// binary it runs with -s -w (cmd/go sets OmitDebug for test binaries unless
// -c or a profile flag is given), so that binary has neither .symtab nor
// DWARF. TestInImage therefore builds this package's test binary the way
// users build services — default, -buildmode=pie, -ldflags=-w (symbols, no
// DWARF) and -ldflags="-s -w" (neither) — and
// runs the TestImage* tests inside each, with $HEAPTOP_SYMBOLS_BUILD naming
// the build so each test knows which names to expect. The structures those
// tests name (globals, goroutines, maps, closures) are planted in this
// package's _test.go files.
const buildEnv = "HEAPTOP_SYMBOLS_BUILD"

type build struct {
	name  string
	flags []string
}

var builds = []build{
	{"default", nil},
	{"pie", []string{"-buildmode=pie"}},
	{"nodwarf", []string{"-ldflags=-w"}},
	{"stripped", []string{"-ldflags=-s -w"}},
}

// hasDWARF reports whether a build keeps DWARF.
func hasDWARF(build string) bool { return build == "default" || build == "pie" }

func TestInImage(t *testing.T) {
	if os.Getenv(buildEnv) != "" {
		t.Skip("already inside a build")
	}
	if runtime.GOOS != "linux" {
		t.Skip("in-process ELF symbols are Linux-only")
	}
	dir := t.TempDir()
	for _, b := range builds {
		t.Run(b.name, func(t *testing.T) {
			bin := filepath.Join(dir, "symbols-"+b.name+".test")
			args := append([]string{"test", "-c", "-o", bin}, b.flags...)
			if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
				t.Fatalf("go %v: %v\n%s", args, err, out)
			}
			cmd := exec.Command(bin, "-test.run=^TestImage", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), buildEnv+"="+b.name)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("tests in the %s build failed: %v\n%s", b.name, err, out)
			}
			passed := strings.Count(string(out), "--- PASS: TestImage")
			if passed == 0 || strings.Contains(string(out), "--- SKIP") {
				t.Fatalf("the %s build ran %d TestImage tests, or skipped some:\n%s", b.name, passed, out)
			}
			t.Logf("%s build: %d tests passed", b.name, passed)
		})
	}
}

// imageBuild returns the build this test binary is (default, pie,
// stripped), skipping the test when it runs outside TestInImage.
func imageBuild(t *testing.T) string {
	t.Helper()
	b := os.Getenv(buildEnv)
	if b == "" {
		t.Skip("runs inside the builds TestInImage makes")
	}
	return b
}

// markerLine is the line of this package's test sources that carries the
// comment "// marker:name", so tests assert exact lines without copying
// numbers.
func markerLine(t *testing.T, name string) (file string, line int) {
	t.Helper()
	files, _ := filepath.Glob("*_test.go")
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for n := 1; sc.Scan(); n++ {
			if strings.HasSuffix(sc.Text(), "// marker:"+name) {
				fh.Close()
				abs, _ := filepath.Abs(f)
				return abs, n
			}
		}
		fh.Close()
	}
	t.Fatalf("no marker %q", name)
	return "", 0
}
