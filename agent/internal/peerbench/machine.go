package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// machine is what the figures were measured on.
type machine struct {
	CPUs      int    `json:"cpus"`
	Model     string `json:"model"`
	MemTotal  string `json:"mem_total"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go_version"`
	GDB       string `json:"gdb"`
}

func describeMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	m.Model = procField("/proc/cpuinfo", "model name")
	m.MemTotal = procField("/proc/meminfo", "MemTotal")
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("gdb", "--version").Output(); err == nil {
		m.GDB, _, _ = strings.Cut(string(out), "\n")
	} else {
		m.GDB = "not found: " + err.Error()
	}
	return m
}

// procField returns the first "name: value" line's value in a /proc file.
func procField(path, name string) string {
	b, _ := os.ReadFile(path)
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// loadavg is /proc/loadavg's three load averages.
func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// awaitLoad waits, up to loadLimit, for the 1-minute load average to fall
// under waitLoad (the machine is shared: big sizes go when it is quiet).
func (b *bench) awaitLoad(ctx context.Context) {
	if b.waitLoad <= 0 {
		return
	}
	for end := time.Now().Add(b.loadLimit); time.Now().Before(end) && ctx.Err() == nil; {
		one, err := strconv.ParseFloat(strings.Fields(loadavg() + " x")[0], 64)
		if err != nil || one < b.waitLoad {
			return
		}
		fmt.Fprintf(os.Stderr, "peerbench: load %s, waiting for < %.1f\n", loadavg(), b.waitLoad)
		select {
		case <-ctx.Done():
		case <-time.After(30 * time.Second):
		}
	}
}
