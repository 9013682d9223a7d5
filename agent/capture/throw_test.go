//go:build linux && (amd64 || arm64)

package capture

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/heaptop/heaptop/agent/internal/testprog"
)

// widenedWindowOverlay writes a go build -overlay file that replaces the
// runtime's proc.go by a copy with debugExtendGrunningNoP on: the runtime's
// own switch that sleeps 10 µs inside the _Grunning-without-P windows of
// entersyscallblock and exitsyscall.
func widenedWindowOverlay(t *testing.T) string {
	dir := t.TempDir()
	orig := filepath.Join(runtime.GOROOT(), "src", "runtime", "proc.go")
	src, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	const off, on = "const debugExtendGrunningNoP = false", "const debugExtendGrunningNoP = true"
	if bytes.Count(src, []byte(off)) != 1 {
		t.Fatalf("%s has no %q: not the go1.26 runtime this test was written for", orig, off)
	}
	patched := filepath.Join(dir, "proc.go")
	if err := os.WriteFile(patched, bytes.Replace(src, []byte(off), []byte(on), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	overlay, _ := json.Marshal(map[string]map[string]string{"Replace": {orig: patched}})
	path := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(path, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestInProcessDump_throws_on_the_exitsyscall_window proves the hazard
// capture exists for: with the window widened by the runtime's own debug
// switch, a process whose goroutines keep returning from system calls is
// killed by its own WriteHeapDump ("dumpgs in STW - bad status"), while the
// same program capturing through this package survives. About 60 s
// (the runtime is rebuilt); skipped with -short.
func TestInProcessDump_throws_on_the_exitsyscall_window(t *testing.T) {
	if testing.Short() {
		t.Skip("rebuilds the runtime; run without -short")
	}
	bin := testprog.Build(t, "dumpthrow", "-overlay", widenedWindowOverlay(t))

	// Up to 400 dumps: it usually throws within a few, but on a loaded
	// machine the sleepers return from nanosleep rarely (100 dumps once
	// survived at load 14).
	out, err := exec.Command(bin, "inprocess", "400", "1000").CombinedOutput()
	if err == nil && strings.Contains(string(out), "SURVIVED") {
		// The window is a race: on a starved machine (CI with other suites
		// running) 400 dumps can all miss it. That proves nothing either way;
		// doc.go proves the throw from the runtime's source.
		t.Skipf("400 in-process dumps missed the window on this machine's load: %s", firstLines(string(out), 1))
	}
	if err == nil || !strings.Contains(string(out), "fatal error: dumpgs in STW - bad status") ||
		!strings.Contains(string(out), "unexpected G.status 0x2") {
		t.Fatalf("in-process dumps: err %v, want the bad-status throw; output:\n%.2000s", err, out)
	}
	t.Logf("in-process: %v: %s", err, firstLines(string(out), 2))

	out, err = exec.Command(bin, "capture", "20", "1000").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SURVIVED") {
		t.Fatalf("captures: %v\n%.2000s", err, out)
	}
	t.Logf("capture: %s", strings.TrimSpace(string(out)))
}
