package agent_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/heaptop/heaptop/agent"
	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/internal/agenttest"
	"github.com/heaptop/heaptop/agent/internal/discovery"
)

// startIn starts an agent whose directory is found the way production finds
// it, from $HEAPTOP_DIR (set to a fresh directory), with o otherwise as given.
// The agent is closed when the test ends.
func startIn(t *testing.T, o agent.Options) (*agent.Agent, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ht")
	t.Setenv("HEAPTOP_DIR", dir)
	a, err := agent.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, dir
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()
}

func gone(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s still exists (%v)", path, err)
	}
}

// TestStartAnnounces checks the zero Options: the directory, socket and
// discovery file with their modes and contents, and that Close removes them.
func TestStartAnnounces(t *testing.T) {
	before := time.Now()
	a, dir := startIn(t, agent.Options{})
	pid := os.Getpid()
	sock := filepath.Join(dir, strconv.Itoa(pid)+".sock")
	file := filepath.Join(dir, strconv.Itoa(pid)+".json")

	if got, want := a.Address(), "unix://"+sock; got != want {
		t.Errorf("Address() = %q, want %q", got, want)
	}
	modes := []struct {
		path string
		want fs.FileMode
	}{
		{dir, fs.ModeDir | 0o700},
		{sock, fs.ModeSocket | 0o600},
		{file, 0o600},
	}
	for _, m := range modes {
		if got := mode(t, m.path); got != m.want {
			t.Errorf("%s: mode %v, want %v", m.path, got, m.want)
		}
	}

	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	want := map[string]any{
		"pid":          float64(pid),
		"address":      "unix://" + sock,
		"executable":   exe,
		"goVersion":    runtime.Version(),
		"agentVersion": agent.Version,
	}
	started, err := time.Parse(time.RFC3339Nano, rec["startTime"].(string))
	if err != nil || started.Before(before) || started.After(time.Now()) {
		t.Errorf("startTime %v (%v), want a time during Start", rec["startTime"], err)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$`).MatchString(rec["startTime"].(string)) {
		t.Errorf("startTime %q is not RFC 3339 UTC with nine fractional digits", rec["startTime"])
	}
	delete(rec, "startTime")
	if len(rec) != len(want) {
		t.Errorf("discovery file has fields %v, want exactly %v + startTime", rec, want)
	}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("discovery %s = %v, want %v", k, rec[k], v)
		}
	}
	listed, err := discovery.List(dir)
	if err != nil || len(listed) != 1 || listed[0].Address != a.Address() {
		t.Errorf("discovery.List = %+v, %v; want this agent", listed, err)
	}

	hello := agenttest.Watch(t, agenttest.Dial(t, a.Address())).Hello
	target := &heaptopv1.Target{
		Pid:           int64(pid),
		Executable:    exe,
		GoVersion:     runtime.Version(),
		StartUnixNano: started.UnixNano(),
		Address:       a.Address(),
		Hostname:      must(os.Hostname()),
		Platform:      runtime.GOOS + "/" + runtime.GOARCH,
		AgentVersion:  agent.Version,
		Args:          os.Args,
	}
	if !proto.Equal(hello.Target, target) {
		t.Errorf("Hello.Target =\n%v\nwant\n%v", hello.Target, target)
	}
	if hello.TickIntervalNs != uint64(time.Second) || hello.SchemaVersion != 1 {
		t.Errorf("Hello: tick interval %d ns, schema %d; want 1e9 ns, 1", hello.TickIntervalNs, hello.SchemaVersion)
	}

	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	gone(t, sock)
	gone(t, file)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestStartRemovesStale plants what a killed agent leaves behind and checks
// that Start, as a reader of the directory, removes it.
func TestStartRemovesStale(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ht")
	if err := discovery.Prepare(dir); err != nil {
		t.Fatal(err)
	}
	dead := agenttest.ExitedPid(t)
	if err := discovery.Write(dir, discovery.Record{PID: dead, Address: "unix:///gone"}); err != nil {
		t.Fatal(err)
	}
	deadSock := filepath.Join(dir, strconv.Itoa(dead)+".sock")
	if err := os.WriteFile(deadSock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := agent.Start(agent.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	gone(t, deadSock)
	gone(t, discovery.FilePath(dir, dead))
}

func TestStartTwice(t *testing.T) {
	a, _ := startIn(t, agent.Options{})
	b, err := agent.Start(agent.Options{Dir: t.TempDir()})
	if want := "heaptop agent: already running at " + a.Address(); err == nil || err.Error() != want {
		t.Errorf("second Start: %v, %v; want error %q", b, err, want)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := agent.Start(agent.Options{Dir: filepath.Join(t.TempDir(), "again")})
	if err != nil {
		t.Fatalf("Start after Close: %v", err)
	}
	c.Close()
}

func TestCloseRepeatedly(t *testing.T) {
	a, _ := startIn(t, agent.Options{})
	for i := range 4 {
		if err := a.Close(); err != nil {
			t.Errorf("Close #%d: %v", i+1, err)
		}
	}
	var none *agent.Agent
	if err := none.Close(); err != nil {
		t.Errorf("Close of a nil agent: %v", err)
	}
}

func TestStartRefuses(t *testing.T) {
	base := t.TempDir()
	link := filepath.Join(base, "link")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	long := filepath.Join(base, strings.Repeat("x", 120))
	tests := []struct {
		name, dir, wantErr string
	}{
		{"symlink", link, "heaptop agent: discovery directory " + link + " is a symlink; refusing to use it"},
		{"socket_path_too_long", long, "heaptop agent: socket path " + long + "/" + strconv.Itoa(os.Getpid()) +
			".sock is " + strconv.Itoa(len(long)+len("/.sock")+len(strconv.Itoa(os.Getpid()))) +
			" bytes, longer than the 107 a unix socket allows; set HEAPTOP_DIR to a shorter directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := agent.Start(agent.Options{Dir: tt.dir})
			if err == nil {
				a.Close()
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Start: %v\nwant: %s", err, tt.wantErr)
			}
		})
	}
}

// TestServesWithoutDiscoveryFile blocks the discovery file's name with a
// directory: the agent must keep serving and say why there is no file.
func TestServesWithoutDiscoveryFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ht")
	if err := discovery.Prepare(dir); err != nil {
		t.Fatal(err)
	}
	blocker := discovery.FilePath(dir, os.Getpid())
	if err := os.Mkdir(blocker, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(blocker, "keep"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var logs agenttest.Log
	a, err := agent.Start(agent.Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	want := `level=WARN msg="heaptop agent: serving without a discovery file; heaptop will not list this process, give it the socket path" address=` + a.Address()
	if !strings.Contains(logs.String(), want) || !strings.Contains(logs.String(), "file exists") {
		t.Errorf("log:\n%s\nwant a line containing\n%s\nand the reason (file exists)", logs.String(), want)
	}
	agenttest.Watch(t, agenttest.Dial(t, a.Address())) // still serving
}

func TestSchemaMismatch(t *testing.T) {
	a, _ := startIn(t, agent.Options{})
	err := agenttest.WatchErr(t, agenttest.Dial(t, a.Address()), 2)
	want := "rpc error: code = FailedPrecondition desc = schema version mismatch: the agent speaks heaptop schema 1, the client speaks 2"
	if err == nil || err.Error() != want {
		t.Errorf("Watch with schema 2: %v\nwant: %s", err, want)
	}
}

// TestTwoClients lets two clients watch a fast-ticking agent while the test
// forces GCs, and checks that they see the same ticks and the same pauses.
func TestTwoClients(t *testing.T) {
	a, _ := startIn(t, agent.Options{TickInterval: 100 * time.Millisecond})
	conn := agenttest.Dial(t, a.Address())
	streams := []*agenttest.Stream{agenttest.Watch(t, conn), agenttest.Watch(t, agenttest.Dial(t, a.Address()))}
	const ticks = 20
	got := make([][]*heaptopv1.Tick, len(streams))
	errs := make([]error, len(streams))
	var wg sync.WaitGroup
	for i, s := range streams {
		wg.Go(func() {
			for range ticks {
				tk, err := s.Next()
				if err != nil {
					errs[i] = err
					return
				}
				got[i] = append(got[i], tk)
			}
		})
	}
	for range ticks / 2 {
		runtime.GC()
		time.Sleep(50 * time.Millisecond) // not for ordering: spreads the GCs over several ticks
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	compareStreams(t, got[0], got[1])
}

// compareStreams fails unless two clients' ticks agree. Normally they are
// identical; a client delayed by more than a tick gets the delayed ticks
// coalesced into one (server.coalesce), so the comparison is: ticks with the
// same timestamp have the same gauges, and between the first and the last
// timestamp both received, both got the same pauses.
func compareStreams(t *testing.T, a, b []*heaptopv1.Tick) {
	t.Helper()
	byTime := map[int64]*heaptopv1.Tick{}
	for _, tk := range b {
		byTime[tk.UnixNano] = tk
	}
	common, first, last := 0, int64(0), int64(0)
	for _, ta := range a {
		tb, ok := byTime[ta.UnixNano]
		if !ok {
			continue
		}
		if common == 0 {
			first = ta.UnixNano
		}
		common++
		last = ta.UnixNano
		ga, gb := proto.CloneOf(ta), proto.CloneOf(tb)
		ga.Pauses, gb.Pauses, ga.PausesMissed, gb.PausesMissed = nil, nil, 0, 0
		if !proto.Equal(ga, gb) {
			t.Errorf("tick at %d differs:\n%v\n%v", ta.UnixNano, ta, tb)
		}
	}
	if common < len(a)/2 {
		t.Fatalf("only %d of %d ticks in common", common, len(a))
	}
	pa, pb := pausesBetween(a, first, last), pausesBetween(b, first, last)
	if !slices.EqualFunc(pa, pb, func(x, y *heaptopv1.GcPause) bool { return proto.Equal(x, y) }) {
		t.Errorf("pauses differ:\n%v\n%v", pa, pb)
	}
	if len(pa) == 0 {
		t.Error("no pauses seen, though the test forced GCs")
	}
}

// pausesBetween returns the pauses of the ticks after first up to last.
func pausesBetween(ticks []*heaptopv1.Tick, first, last int64) []*heaptopv1.GcPause {
	var out []*heaptopv1.GcPause
	for _, tk := range ticks {
		if first < tk.UnixNano && tk.UnixNano <= last {
			out = append(out, tk.Pauses...)
		}
	}
	return out
}

// TestRelativeDir starts an agent with a relative Dir: its address must
// still be absolute, as gRPC reads "unix://rel/x" as host "rel".
func TestRelativeDir(t *testing.T) {
	t.Chdir(t.TempDir())
	a, err := agent.Start(agent.Options{Dir: "ht"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	wd, _ := os.Getwd()
	if want := "unix://" + filepath.Join(wd, "ht", strconv.Itoa(os.Getpid())+".sock"); a.Address() != want {
		t.Errorf("Address() = %q, want %q", a.Address(), want)
	}
	agenttest.Watch(t, agenttest.Dial(t, a.Address()))
}

// TestTickInterval checks the interval the agent announces (and ticks at)
// for what Options asks.
func TestTickInterval(t *testing.T) {
	tests := []struct {
		asked time.Duration
		want  uint64 // Hello.tick_interval_ns
	}{
		{0, 1_000_000_000},                    // default
		{-time.Second, 1_000_000_000},         // default
		{50 * time.Millisecond, 100_000_000},  // raised to the minimum
		{250 * time.Millisecond, 250_000_000}, // as asked
		{time.Minute, 60_000_000_000},         // as asked
	}
	for _, tt := range tests {
		a, _ := startIn(t, agent.Options{TickInterval: tt.asked})
		hello := agenttest.Watch(t, agenttest.Dial(t, a.Address())).Hello
		if hello.TickIntervalNs != tt.want {
			t.Errorf("TickInterval %v: Hello says %d ns, want %d", tt.asked, hello.TickIntervalNs, tt.want)
		}
		a.Close()
	}
}
