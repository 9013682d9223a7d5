package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// memWatch samples, while a tool runs, the memory the target and the
// processes it forked hold: the heaptop agent dumps the heap in a forked
// child (agent/capture) whose pages copied on write and whose memfds (the
// noptr segments and runtime messages; the dump itself goes through a
// pipe) are memory the target's VmHWM does not show. Every period it reads
//
//   - the target's VmRSS less its RssShmem (shared memory, the memfd
//     among it, is counted once below);
//   - each child of the target: its private resident memory (Private_Clean
//   - Private_Dirty in smaps_rollup: the pages copied on write, by either
//     side, and what it allocated) and its RSS;
//   - every memfd the target or a child holds open, by inode, at the
//     memory it holds (its blocks: the agent's memfds are sparse, sized to
//     a cap and filled by the child).
//
// Peaks are of each figure and of their sum at one instant, less the sum
// before the tool started; a peak shorter than the period can be missed.
// Reading a big process's smaps_rollup walks its page tables (tens of ms
// at a GiB): the watch waits four times a sample's cost between samples,
// at least period, so that it takes at most a fifth of a core from what
// it measures.
type memWatch struct {
	Samples        int    `json:"samples"`
	PeriodNs       uint64 `json:"period_ns"`
	Children       int    `json:"children"`         // distinct children seen
	ChildRSSPeak   uint64 `json:"child_rss_peak"`   // largest child RSS (shared pages included)
	ChildPrivPeak  uint64 `json:"child_priv_peak"`  // largest sum of the children's private memory
	MemfdPeak      uint64 `json:"memfd_peak"`       // largest sum of open memfds' memory
	TotalExtraPeak uint64 `json:"total_extra_peak"` // largest (target private + children private + memfds) − before
	// MemfdByName is each memfd's largest memory, by its name
	// ("heaptop-dump", "heaptop-segments", ...).
	MemfdByName map[string]uint64 `json:"memfd_by_name,omitempty"`

	stop chan struct{}
	done chan struct{}
}

func watchMemory(pid int, period time.Duration) *memWatch {
	w := &memWatch{PeriodNs: uint64(period), stop: make(chan struct{}), done: make(chan struct{})}
	base := sampleMemory(pid, nil)
	go func() {
		defer close(w.done)
		seen := map[int]bool{}
		for {
			start := time.Now()
			s := sampleMemory(pid, seen)
			wait := max(period, 4*time.Since(start))
			w.Samples++
			w.ChildRSSPeak = max(w.ChildRSSPeak, s.childRSS)
			w.ChildPrivPeak = max(w.ChildPrivPeak, s.childPriv)
			w.MemfdPeak = max(w.MemfdPeak, s.memfd)
			for name, size := range s.memfdByName {
				if w.MemfdByName == nil {
					w.MemfdByName = map[string]uint64{}
				}
				w.MemfdByName[name] = max(w.MemfdByName[name], size)
			}
			if total, b := s.total(), base.total(); total > b {
				w.TotalExtraPeak = max(w.TotalExtraPeak, total-b)
			}
			select {
			case <-w.stop:
				w.Children = len(seen)
				return
			case <-time.After(wait):
			}
		}
	}()
	return w
}

// finish takes a last sample and stops the watch.
func (w *memWatch) finish() {
	close(w.stop)
	<-w.done
}

type memSample struct {
	targetPrivate, childPriv, childRSS, memfd uint64
	memfdByName                               map[string]uint64
}

func (s memSample) total() uint64 { return s.targetPrivate + s.childPriv + s.memfd }

func sampleMemory(pid int, seen map[int]bool) memSample {
	var s memSample
	status := procFields(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	s.targetPrivate = status["VmRSS"] - min(status["VmRSS"], status["RssShmem"])
	memfds := map[uint64]memfd{} // by inode
	addMemfds(pid, memfds)
	for _, c := range childrenOf(pid) {
		if seen != nil {
			seen[c] = true
		}
		roll := procFields(filepath.Join("/proc", strconv.Itoa(c), "smaps_rollup"))
		s.childPriv += roll["Private_Clean"] + roll["Private_Dirty"]
		s.childRSS = max(s.childRSS, roll["Rss"])
		addMemfds(c, memfds)
	}
	for _, m := range memfds {
		s.memfd += m.bytes
		if s.memfdByName == nil {
			s.memfdByName = map[string]uint64{}
		}
		s.memfdByName[m.name] += m.bytes
	}
	return s
}

// childrenOf lists the target's child processes (the agent's dump
// children; heapgen starts no other), from every thread's children file.
func childrenOf(pid int) []int {
	tasks, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "children"))
	var out []int
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, field := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(field); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

type memfd struct {
	name  string
	bytes uint64
}

// addMemfds adds the memfds pid holds open to memfds, by inode, with the
// memory each holds.
func addMemfds(pid int, memfds map[uint64]memfd) {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		link, err := os.Readlink(p)
		name, ok := strings.CutPrefix(link, "/memfd:")
		if err != nil || !ok {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat(p, &st) == nil {
			memfds[st.Ino] = memfd{strings.TrimSuffix(name, " (deleted)"), uint64(st.Blocks) * 512}
		}
	}
}

// procFields reads a /proc file of "Name:   123 kB" lines into bytes by name.
func procFields(path string) map[string]uint64 {
	b, _ := os.ReadFile(path)
	out := map[string]uint64{}
	for _, line := range strings.Split(string(b), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(value)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		if kb, err := strconv.ParseUint(f[0], 10, 64); err == nil {
			out[name] = kb << 10
		}
	}
	return out
}
