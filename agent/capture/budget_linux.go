//go:build linux

package capture

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/heaptop/heaptop/agent/metrics"
	"golang.org/x/sys/unix"
)

// heapFigures are read with runtime/metrics, which does not stop the world.
type heapFigures struct {
	objectBytes int64 // allocated slots (MemStats.HeapAlloc)
	objects     int64
	scanBytes   int64 // pointerful part of the heap (/gc/scan/heap)
	stackBytes  int64
	globalBytes int64 // data + bss (/gc/scan/globals)
}

var figureNames = []string{
	"/memory/classes/heap/objects:bytes",
	"/gc/heap/objects:objects",
	"/gc/scan/heap:bytes",
	"/memory/classes/heap/stacks:bytes",
	"/gc/scan/globals:bytes",
}

func readHeapFigures() heapFigures {
	v := metrics.Uint64s(figureNames...)
	return heapFigures{v[0], v[1], v[2], v[3], v[4]}
}

// estimateDumpSize bounds the dump from above. The dump holds every
// allocated slot's bytes (objectBytes), per object a tag, an address, a
// length and a field-list end (at most 16 bytes), per pointer word of the
// pointerful heap at most 6 bytes of field list (kind byte plus an offset
// varint; offsets stay under 2^35), every goroutine's stack once, data and
// bss with their field lists, and at most a few MiB of itabs, threads and
// memory-profile buckets. Measured ratios (BENCHMARKS.md, capture section)
// are 1.0–1.1× objectBytes.
func estimateDumpSize(f heapFigures) int64 {
	const fixed = 4 << 20
	return f.objectBytes + 16*f.objects + f.scanBytes/8*6 + f.stackBytes + 2*f.globalBytes + fixed
}

// memoryHeadroom is the memory the capture may use: MemAvailable, lowered
// to the room left under the tightest memory cgroup limit, if any. The
// reason names the source, for refusals.
func memoryHeadroom() (int64, string) {
	avail, reason := int64(-1), ""
	if v, err := meminfoAvailable(); err == nil {
		avail, reason = v, "MemAvailable"
	}
	if room, where, ok := cgroupRoom(); ok && (avail < 0 || room < avail) {
		avail, reason = room, where
	}
	return avail, reason
}

func meminfoAvailable() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no MemAvailable in /proc/meminfo")
}

// cgroupRoom returns limit − usage for this process's memory cgroup and its
// ancestors (cgroup v2 memory.max/memory.current, or v1
// memory.limit_in_bytes/memory.usage_in_bytes), the smallest one found.
func cgroupRoom() (room int64, where string, ok bool) {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0, "", false
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		var root, limitFile, usageFile string
		switch {
		case parts[0] == "0" && parts[1] == "":
			root, limitFile, usageFile = "/sys/fs/cgroup", "memory.max", "memory.current"
		case strings.Contains(","+parts[1]+",", ",memory,"):
			root, limitFile, usageFile = "/sys/fs/cgroup/memory", "memory.limit_in_bytes", "memory.usage_in_bytes"
		default:
			continue
		}
		for dir := filepath.Join(root, parts[2]); strings.HasPrefix(dir, root); dir = filepath.Dir(dir) {
			limit, err1 := readCgroupInt(filepath.Join(dir, limitFile))
			usage, err2 := readCgroupInt(filepath.Join(dir, usageFile))
			// Unlimited reads "max" (v2) or a number near 2^63 (v1).
			if err1 == nil && err2 == nil && limit < 1<<62 {
				if r := limit - usage; !ok || r < room {
					room, where, ok = r, "memory cgroup "+dir, true
				}
			}
			if dir == root {
				break
			}
		}
	}
	return room, where, ok
}

func readCgroupInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}

// diskRoom is the space an unprivileged user may still write under dir.
func diskRoom(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// sharedWritableMappings lists the process's writable MAP_SHARED mappings
// (perms "rw?s" in /proc/self/maps) except skip: memory other processes
// may see, which the dump child makes read-only.
func sharedWritableMappings(skip uintptr) ([]memRange, error) {
	return mappingsWhere(func(r memRange, perms string) bool {
		return perms[1] == 'w' && perms[3] == 's' && r.addr != skip
	})
}

// mappingsWhere lists the process's mappings, from /proc/self/maps, that
// keep accepts given their permissions ("rw-p").
func mappingsWhere(keep func(r memRange, perms string) bool) ([]memRange, error) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []memRange
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || len(fields[1]) != 4 {
			continue
		}
		lo, hi, found := strings.Cut(fields[0], "-")
		if !found {
			continue
		}
		a, err1 := strconv.ParseUint(lo, 16, 64)
		b, err2 := strconv.ParseUint(hi, 16, 64)
		if r := (memRange{uintptr(a), uintptr(b - a)}); err1 == nil && err2 == nil && b > a && keep(r, fields[1]) {
			out = append(out, r)
		}
	}
	return out, sc.Err()
}

// hostDescriptors sorts this process's open descriptors for the dump
// child: epoll instances (to be replaced by an empty one) and everything
// else except keep and 1 and 2 (to be closed).
func hostDescriptors(keep ...uintptr) (closeFDs, epollFDs []int32, err error) {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, nil, err
	}
next:
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd == 1 || fd == 2 {
			continue
		}
		for _, k := range keep {
			if uintptr(fd) == k {
				continue next
			}
		}
		if target, _ := os.Readlink("/proc/self/fd/" + e.Name()); target == "anon_inode:[eventpoll]" {
			epollFDs = append(epollFDs, int32(fd))
		} else {
			closeFDs = append(closeFDs, int32(fd))
		}
	}
	return closeFDs, epollFDs, nil
}
