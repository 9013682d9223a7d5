// Package testprog builds and runs the test programs under
// agent/testdata/progs (and the examples): real Go programs that plant
// known structures and print marker lines with what the tests check.
package testprog

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Build compiles testdata/progs/<name> (with the extra go build flags)
// into a temporary directory and returns the binary's path. A name
// starting with "./" is a package of the agent module instead
// ("./examples/demo").
func Build(t testing.TB, name string, flags ...string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	agent := filepath.Join(filepath.Dir(file), "..", "..")
	pkg := name
	if !strings.HasPrefix(name, "./") {
		pkg = "./testdata/progs/" + name
	}
	bin := filepath.Join(t.TempDir(), filepath.Base(name))
	args := append([]string{"build", "-o", bin}, flags...)
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = agent
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", name, err, out)
	}
	return bin
}

// Marker returns the fields key=value of the first output line that starts
// with prefix.
func Marker(t testing.TB, out []byte, prefix string) map[string]string {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, prefix+" "); ok {
			return fields(rest)
		}
	}
	t.Fatalf("no %q line in the output:\n%s", prefix, out)
	return nil
}

// fields parses "key=value key=value" (words without "=" are skipped).
func fields(s string) map[string]string {
	m := map[string]string{}
	for _, f := range strings.Fields(s) {
		if k, v, ok := strings.Cut(f, "="); ok {
			m[k] = v
		}
	}
	return m
}
