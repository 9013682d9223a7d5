//go:build linux

package capture

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// procsRestorer undoes GOMAXPROCS(1) with one more stop-the-world. It is
// prepared before GOMAXPROCS(1): while the capture holds the only P, a
// system call (reading the cgroup files) could hand that P to another
// goroutine and leave the capture waiting for it behind the whole run
// queue, the host on one P all that time.
//
// runtime.GOMAXPROCS also turns off the runtime's automatic GOMAXPROCS
// updates (go1.25+), and nothing reports whether they were on. They were on
// if the environment did not set GOMAXPROCS and the program did not call
// runtime.GOMAXPROCS. The first is known; for the second, capture compares
// the program's value with the default the runtime computes (the CPUs of
// the affinity mask, lowered to the CPU cgroup limit rounded up and at
// least 2; runtime/cgroup_linux.go defaultGOMAXPROCS): equal, it hands the
// choice back to the runtime with SetDefaultGOMAXPROCS; otherwise it puts
// the value back with GOMAXPROCS. If the runtime's default turns out not to
// be the program's value after all, that value is put back (one more
// stop-the-world). A program that set exactly the default value by hand
// ends up with automatic updates on, its value unchanged.
func (c *Capturer) procsRestorer() func(prev int) {
	useDefault := !c.envProcs && runtime.GOMAXPROCS(0) == defaultProcs()
	return func(prev int) {
		if !useDefault {
			runtime.GOMAXPROCS(prev)
			return
		}
		runtime.SetDefaultGOMAXPROCS()
		if runtime.GOMAXPROCS(0) != prev {
			runtime.GOMAXPROCS(prev)
		}
	}
}

// defaultProcs mirrors the runtime's default GOMAXPROCS, or returns 0 when
// GODEBUG turns the cgroup rule off or the limit cannot be read.
func defaultProcs() int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return 0
	}
	procs := set.Count()
	if strings.Contains(os.Getenv("GODEBUG"), "containermaxprocs=0") {
		return procs
	}
	limit, ok := cgroupCPULimit()
	if !ok {
		return procs
	}
	limit = max(math.Ceil(limit), 2)
	if int(limit) < procs {
		procs = int(limit)
	}
	return procs
}

// cgroupCPULimit reads this process's CPU cgroup quota/period (cgroup v2
// cpu.max, v1 cpu.cfs_quota_us and cpu.cfs_period_us), at the usual mount
// points; ok is false without a limit.
func cgroupCPULimit() (float64, bool) {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", parts[2], "cpu.max"))
			if err != nil {
				continue
			}
			f := strings.Fields(string(b))
			if len(f) != 2 || f[0] == "max" {
				return 0, false
			}
			q, err1 := strconv.ParseFloat(f[0], 64)
			p, err2 := strconv.ParseFloat(f[1], 64)
			if err1 != nil || err2 != nil || p <= 0 {
				return 0, false
			}
			return q / p, true
		}
		if strings.Contains(","+parts[1]+",", ",cpu,") {
			for _, mount := range []string{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"} {
				q, err1 := readCgroupInt(filepath.Join(mount, parts[2], "cpu.cfs_quota_us"))
				p, err2 := readCgroupInt(filepath.Join(mount, parts[2], "cpu.cfs_period_us"))
				if err1 == nil && err2 == nil {
					if q < 0 || p <= 0 {
						return 0, false
					}
					return float64(q) / float64(p), true
				}
			}
		}
	}
	return 0, false
}
