package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// step is one command a tool ran to answer, with what it cost.
type step struct {
	Command string `json:"command"`
	WallNs  uint64 `json:"wall_ns"`
	// MaxRSS is the command's peak resident memory, with every child it
	// waited for (wait4's rusage: ru_maxrss); gcore's includes gdb's.
	MaxRSS   uint64 `json:"max_rss"`
	CPUNs    uint64 `json:"cpu_ns"` // user + system, children included
	ExitCode int    `json:"exit_code"`
	// Output is the command's stdout, kept when small (the answer), and
	// Stderr the tail of its stderr.
	Output string `json:"output,omitempty"`
	Stderr string `json:"stderr,omitempty"`
}

// maxKeptOutput bounds what a step keeps of stdout in the results.
const maxKeptOutput = 64 << 10

// runStep runs argv in dir with env added, and returns its step and full
// stdout. A non-zero exit is an error naming the command and the tail of
// its stderr; the step is filled in either way.
func runStep(ctx context.Context, dir string, env []string, argv ...string) (step, []byte, error) {
	s := step{Command: strings.Join(argv, " ")}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout bytes.Buffer
	stderr := &tailBuffer{max: 4096}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	// A tool killed on timeout takes its children (gdb under gcore) along.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	err := cmd.Run()
	s.WallNs = uint64(time.Since(start))
	if st := cmd.ProcessState; st != nil {
		s.ExitCode = st.ExitCode()
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			s.MaxRSS = uint64(ru.Maxrss) << 10
			s.CPUNs = uint64(time.Duration(ru.Utime.Nano() + ru.Stime.Nano()))
		}
	}
	if stdout.Len() <= maxKeptOutput {
		s.Output = stdout.String()
	}
	s.Stderr = strings.TrimSpace(stderr.String())
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) || ctx.Err() != nil {
			err = fmt.Errorf("%s: %v: %s", s.Command, err, lastLines(s.Stderr, 5))
		}
		return s, stdout.Bytes(), err
	}
	return s, stdout.Bytes(), nil
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
