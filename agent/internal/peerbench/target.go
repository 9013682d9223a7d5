package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/heaptop/heaptop/agent/internal/heapgenwire"
)

// target is one running heapgen process: the heap every tool is asked
// about. Its stdout carries the ready line and, on SIGUSR1, gap lines.
type target struct {
	cmd   *exec.Cmd
	ready heapgenwire.Ready
	bin   string // heapgen's executable, for tools that need it
	lines chan string
	// stderrTail keeps heapgen's last output on stderr for error messages.
	stderr *tailBuffer
}

// startTarget starts heapgen, its agent in heaptopDir, and waits until its
// heap is built; bytes 0 leaves heapgen's default.
func startTarget(ctx context.Context, bin, heaptopDir string, objects, bytes uint64, readyTimeout time.Duration) (*target, error) {
	args := []string{"-objects", strconv.FormatUint(objects, 10)}
	if bytes > 0 {
		args = append(args, "-bytes", strconv.FormatUint(bytes, 10))
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HEAPTOP_DIR="+heaptopDir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	t := &target{cmd: cmd, bin: bin, lines: make(chan string, 16), stderr: &tailBuffer{max: 4096}}
	cmd.Stderr = t.stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		defer close(t.lines)
		s := bufio.NewScanner(out)
		s.Buffer(make([]byte, 1<<16), 1<<20)
		for s.Scan() {
			t.lines <- s.Text()
		}
		io.Copy(io.Discard, out)
	}()
	line, err := t.next(ctx, readyTimeout)
	if err == nil {
		var ok bool
		ok, err = heapgenwire.Parse(line, heapgenwire.ReadyPrefix, &t.ready)
		if err == nil && !ok {
			err = fmt.Errorf("heapgen printed %q, want its ready line", line)
		}
	}
	if err != nil {
		t.stop()
		return nil, err
	}
	return t, nil
}

func (t *target) pid() int { return t.cmd.Process.Pid }

// next returns heapgen's next stdout line.
func (t *target) next(ctx context.Context, timeout time.Duration) (string, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case line, ok := <-t.lines:
		if !ok {
			return "", fmt.Errorf("heapgen exited (%v): %s", t.cmd.Wait(), strings.TrimSpace(t.stderr.String()))
		}
		return line, nil
	case <-timer.C:
		return "", fmt.Errorf("heapgen said nothing for %v", timeout)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// gap asks heapgen's probe for the longest stop since the previous call.
func (t *target) gap(ctx context.Context) (heapgenwire.Gap, error) {
	var g heapgenwire.Gap
	if err := t.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		return g, fmt.Errorf("heapgen: %w", err)
	}
	line, err := t.next(ctx, time.Minute)
	if err != nil {
		return g, err
	}
	ok, err := heapgenwire.Parse(line, heapgenwire.GapPrefix, &g)
	if err == nil && !ok {
		err = fmt.Errorf("heapgen printed %q, want a gap line", line)
	}
	return g, err
}

// stop ends heapgen: SIGTERM, then SIGKILL if it has not exited in 10 s.
func (t *target) stop() {
	p := t.cmd.Process
	p.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for range t.lines { // drain, so heapgen never blocks on a full pipe
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.Kill()
		<-done
	}
	t.cmd.Wait()
}

// memory is a process's resident memory, from /proc/<pid>/status.
type memory struct {
	RSS, HWM uint64 // VmRSS and VmHWM (peak), bytes
}

func readMemory(pid int) (memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	var m memory
	for _, line := range strings.Split(string(b), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("/proc/%d/status: %q: %w", pid, line, err)
		}
		if name == "VmRSS" {
			m.RSS = kb << 10
		} else {
			m.HWM = kb << 10
		}
	}
	return m, nil
}

// resetPeak sets the process's VmHWM back to its VmRSS (proc(5),
// clear_refs "5"), so the next reading is the peak of what follows.
func resetPeak(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	b   []byte
}

func (w *tailBuffer) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	if over := len(w.b) - w.max; over > 0 {
		w.b = append(w.b[:0], w.b[over:]...)
	}
	return len(p), nil
}

func (w *tailBuffer) String() string { return string(w.b) }
