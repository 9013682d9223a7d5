package symbols

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestLocalsOfParkedGoroutine runs testdata/progs/parked, which parks a
// goroutine in main.worker holding a 1 MiB buffer in `buf` and a heap node
// in `local[2]`, finds the frame slots holding them as the heap dump would
// (words of [sp, cfa) equal to the planted pointers; cfa from the frame
// pointer, pc from the runtime's traceback) and names each with
// Image.Local. Compiler temporaries holding copies of the pointers (the
// struct sent on a channel before parking, the append argument) have no
// DWARF variable and print "none". The program needs amd64 (its frame
// bounds come from an assembly helper reading BP).
func TestLocalsOfParkedGoroutine(t *testing.T) {
	if os.Getenv(buildEnv) != "" {
		t.Skip("already inside a build")
	}
	if runtime.GOARCH != "amd64" || runtime.GOOS != "linux" {
		t.Skip("testdata/progs/parked reads frame pointers on linux/amd64")
	}
	dir := t.TempDir()
	for _, b := range builds {
		t.Run(b.name, func(t *testing.T) {
			bin := filepath.Join(dir, "parked-"+b.name)
			args := append(append([]string{"build", "-o", bin}, b.flags...), "./testdata/progs/parked")
			cmd := exec.Command("go", args...)
			cmd.Dir = ".."
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go %v: %v\n%s", args, err, out)
			}
			out, err := exec.Command(bin).CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", bin, err, out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			want := []string{
				"slot buf buf target=[]uint8 backing array",
				"slot local2 local[2] target=main.node",
			}
			if !hasDWARF(b.name) {
				want = []string{"slot buf none", "slot local2 none"}
			}
			for _, w := range want {
				if !slices.Contains(lines, w) {
					t.Errorf("no line %q in:\n%s", w, out)
				}
			}
			for _, l := range lines {
				if !slices.Contains(want, l) && !strings.HasSuffix(l, " none") {
					t.Errorf("unexpected slot name %q", l)
				}
			}
		})
	}
}
