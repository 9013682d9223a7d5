package agent_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/heaptop/heaptop/agent"
	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/internal/agenttest"
	"github.com/heaptop/heaptop/agent/internal/testprog"
)

// BenchmarkAgentTick is the agent's own cost per tick, measured inside this
// process while its clients run as separate processes (testdata/progs/watch)
// that print a line per tick into a pipe this process reads only at the end.
// The agent ticks every 100 ms and this process does nothing else while it
// measures (one sleep of b.N ticks), so the figures include the scheduler
// waking up for each tick, as in an idle service. Reported per tick:
//
//	cpu-µs/tick     this process's user+system CPU (rusage)
//	B/tick, allocs/tick  exact (MemStats, as -benchmem counts)
//
// Ticks are counted from the first client's lines, by their timestamps
// inside the measured window (with no client, b.N is taken: ±1 tick over the
// run). Run it with -benchtime=Nx.
func BenchmarkAgentTick(b *testing.B) {
	const every = 100 * time.Millisecond
	for _, clients := range []int{0, 1, 4} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			b.Setenv("HEAPTOP_DIR", filepath.Join(b.TempDir(), "ht"))
			a, err := agent.Start(agent.Options{TickInterval: every})
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			var outs []*bufio.Scanner
			for range clients {
				cmd := exec.Command(bin["./testdata/progs/watch"], a.Address())
				out, err := cmd.StdoutPipe()
				if err != nil {
					b.Fatal(err)
				}
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				defer func() { cmd.Process.Kill(); cmd.Wait() }()
				sc := bufio.NewScanner(out)
				if !sc.Scan() || sc.Text() != "hello" {
					b.Fatalf("watch: %q, %v", sc.Text(), sc.Err())
				}
				outs = append(outs, sc)
			}
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			cpu0, t0 := processCPU(), time.Now().UnixNano()
			b.ResetTimer()
			time.Sleep(time.Duration(b.N) * every)
			b.StopTimer()
			cpu1, t1 := processCPU(), time.Now().UnixNano()
			runtime.ReadMemStats(&ms1)

			ticks := b.N
			if clients > 0 {
				a.Close() // ends the clients' output
				ticks = 0
				for outs[0].Scan() {
					var ns int64
					if _, err := fmt.Sscanf(outs[0].Text(), "tick %d", &ns); err == nil && t0 <= ns && ns <= t1 {
						ticks++
					}
				}
			}
			b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(ticks), "cpu-µs/tick")
			b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(ticks), "B/tick")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(ticks), "allocs/tick")
			b.ReportMetric(float64(ticks), "ticks")
		})
	}
}

// processCPU returns this process's user+system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// demoRun is how long BenchmarkDemoCost runs the demo per configuration.
const demoRun = 15 * time.Second

// BenchmarkDemoCost measures what the metrics tier costs the demo process
// (BENCHMARKS.md): the demo runs for demoRun, idle (-rate 0) or busy
// (-rate 200), without the agent or with it at 1 Hz or 10 Hz and zero or one
// client watching; then SIGTERM. Reported per configuration:
//
//	cpu-%      the process's user+system CPU (rusage, after exit) over its
//	           wall time, in % of one core
//	rss-KiB    VmRSS just before SIGTERM
//	wire-B/tick   with a client: proto.Size of the WatchEvent carrying a
//	           tick (add 5 bytes of gRPC framing and 9 of HTTP/2 frame
//	           header per message)
//
// (Allocation per tick is BenchmarkAgentTick's: the ticks' own
// total_alloc_bytes counts small objects a span at a time, too coarse for a
// few hundred bytes.)
//
// One iteration is one run: use -benchtime=1x.
func BenchmarkDemoCost(b *testing.B) {
	configs := []struct {
		name    string
		args    []string
		clients int
	}{
		{"idle/agent=off", []string{"-rate=0", "-agent=false"}, 0},
		{"idle/tick=1s/clients=0", []string{"-rate=0", "-tick=1s"}, 0},
		{"idle/tick=1s/clients=1", []string{"-rate=0", "-tick=1s"}, 1},
		{"idle/tick=100ms/clients=0", []string{"-rate=0", "-tick=100ms"}, 0},
		{"idle/tick=100ms/clients=1", []string{"-rate=0", "-tick=100ms"}, 1},
		{"busy/agent=off", []string{"-rate=200", "-agent=false"}, 0},
		{"busy/tick=1s/clients=1", []string{"-rate=200", "-tick=1s"}, 1},
		{"busy/tick=100ms/clients=1", []string{"-rate=200", "-tick=100ms"}, 1},
	}
	for _, c := range configs {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				demoCost(b, c.args, c.clients)
			}
		})
	}
}

func demoCost(b *testing.B, args []string, clients int) {
	start := time.Now()
	p := testprog.Start(b, bin["./examples/demo"], nil, args...)
	cmd := p.Cmd

	var ticks []*heaptopv1.Tick
	done := make(chan struct{})
	if clients > 0 {
		s := agenttest.Watch(b, agenttest.Dial(b, p.Agent))
		go func() {
			defer close(done)
			for {
				tk, err := s.Next()
				if err != nil || tk == nil {
					return
				}
				ticks = append(ticks, tk)
			}
		}()
	} else {
		close(done)
	}

	time.Sleep(time.Until(start.Add(demoRun))) // the measurement window, not synchronisation
	rss := vmRSS(b, cmd.Process.Pid)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		b.Fatalf("demo: %v", err)
	}
	wall := time.Since(start)
	<-done

	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu-%")
	b.ReportMetric(float64(rss), "rss-KiB")
	if len(ticks) > 1 {
		// Skip the first tick: it carries the pauses from before the
		// client connected.
		wire := 0
		for _, tk := range ticks[1:] {
			wire += proto.Size(&heaptopv1.WatchEvent{Event: &heaptopv1.WatchEvent_Tick{Tick: tk}})
		}
		b.ReportMetric(float64(wire)/float64(len(ticks)-1), "wire-B/tick")
	}
}

// vmRSS returns a process's resident set size in KiB.
func vmRSS(b *testing.B, pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for l := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				b.Fatal(err)
			}
			return kb
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
