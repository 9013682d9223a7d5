package agent

import (
	"os/exec"
	"runtime"
	"strconv"
	"testing"

	"github.com/heaptop/heaptop/agent/internal/testprog"
)

// TestDefaultSamplingSurvivesTheLinker builds real programs, as users do
// (go test links its own binary differently): one that never reaches
// runtime.MemProfile, where the linker's trap turns sampling off, and one
// that starts the agent, whose sampling must stay at the runtime's default
// so that captures carry allocation sites; with FullAllocSites the rate is
// 1 until Close, which restores it.
func TestDefaultSamplingSurvivesTheLinker(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the agent serves on Linux")
	}
	const defaultRate = 512 * 1024 // runtime.MemProfileRate's initial value
	rate := func(name string, want map[string]int, args ...string) {
		t.Helper()
		out, err := exec.Command(testprog.Build(t, name), args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
		m := testprog.Marker(t, out, "RATE")
		for k, w := range want {
			if got, err := strconv.Atoi(m[k]); err != nil || got != w {
				t.Errorf("%s: MemProfileRate %s=%s, want %d", name, k, m[k], w)
			}
		}
	}
	rate("sampling/control", map[string]int{"start": 0})
	rate("sampling", map[string]int{"start": defaultRate, "full": 1, "closed": defaultRate}, "-full", t.TempDir())
}
