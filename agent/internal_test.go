package agent

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/internal/agenttest"
	"github.com/heaptop/heaptop/agent/internal/discovery"
)

// TestPanicClosesOnlyTheAgent plants a panic in the sampling loop: the agent
// must report it, close itself and remove its files, and the test process
// (the "program") goes on.
func TestPanicClosesOnlyTheAgent(t *testing.T) {
	var logs agenttest.Log
	o, err := Options{
		Dir:          filepath.Join(t.TempDir(), "ht"),
		TickInterval: minTickInterval,
		Logger:       slog.New(slog.NewTextHandler(&logs, nil)),
	}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	running.mu.Lock()
	a, err := start(o, func() *heaptopv1.Tick { panic("planted in the sampler") })
	if err == nil {
		running.agent = a
	}
	running.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}

	agenttest.WaitFor(t, "the agent to close itself", func() bool {
		running.mu.Lock()
		defer running.mu.Unlock()
		return running.agent == nil
	})
	for _, want := range []string{
		`level=ERROR msg="heaptop agent: panic in the sampling loop; closing the agent, the program goes on" address=` + a.Address(),
		`panic="planted in the sampler"`,
		`TestPanicClosesOnlyTheAgent.func`, // the stack names the panicking function
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log:\n%s\nwant it to contain %s", logs.String(), want)
		}
	}
	for _, p := range []string{strings.TrimPrefix(a.Address(), "unix://"), discovery.FilePath(o.Dir, os.Getpid())} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left behind: %v", p, err)
		}
	}
	if err := a.Close(); err != nil {
		t.Errorf("Close after the agent closed itself: %v", err)
	}
	// And the process can start a healthy agent again.
	b, err := Start(Options{Dir: o.Dir, TickInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
}
