package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// printSize prints one size's table: a row per tool.
func printSize(w io.Writer, s sizeResult) {
	fmt.Fprintf(w, "\n== %s objects requested", count(s.Objects))
	if h := s.Heap; h != nil {
		fmt.Fprintf(w, ": built %s objects, %s in %d roots (heap live %s) in %s; pid %d",
			count(h.Objects), mib(h.Bytes), len(h.Roots), mib(h.HeapLive), time.Duration(h.BuildNs).Round(time.Millisecond), h.Pid)
	}
	fmt.Fprintf(w, "\n   load before %s, after %s; probe baseline: longest gap %s over %s\n",
		s.LoadBefore, s.LoadAfter, ms(s.Baseline.MaxNs), time.Duration(s.Baseline.WindowNs).Round(time.Millisecond))
	if s.Error != "" {
		fmt.Fprintf(w, "   FAILED: %s\n", s.Error)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "   tool\tstatus\twall\tCPU\ttarget paused\ttarget +peak\ttarget kept\tfork / tool memory\tchain\tretained ±1%\tnote")
	for _, m := range s.Measurements {
		note := m.Error
		if note == "" && len(m.Notes) > 0 {
			note = strings.Join(m.Notes, "; ")
		}
		fmt.Fprintf(tw, "   %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Tool, m.Status, wall(m), cpu(m), paused(m), memCell(m, m.TargetExtra),
			memCell(m, m.TargetKept), toolMemory(m), chainCell(m.chainCheck), retained(m.Roots), truncate(note, 160))
	}
	tw.Flush()
}

// toolMemory is what the tool held outside the target's own pages: the
// dump child's private memory and the memfd for heaptop (with the peak of
// everything together at one instant), the tool's processes for a peer.
func toolMemory(m measurement) string {
	switch {
	case !ran(m):
		return "—"
	case m.Forked != nil:
		f := m.Forked
		return fmt.Sprintf("child %s + memfd %s (all +%s)", mib(f.ChildPrivPeak), mib(f.MemfdPeak), mib(f.TotalExtraPeak))
	}
	return mib(m.ToolMaxRSS)
}

// ran reports whether the tool did anything to the target worth
// measuring: a tool that could not start did not.
func ran(m measurement) bool {
	return !(m.Status == "unavailable" && len(m.Steps) == 0)
}

func wall(m measurement) string {
	if !ran(m) {
		return "—"
	}
	return time.Duration(m.WallNs).Round(time.Millisecond).String()
}

// cpu is the CPU time the answer took: the tool's processes, or for
// heaptop, which works in the target, the target's and its dump child's
// until it settled after the answer. (A peer's target is stopped or idle;
// what CPU it shows then is the previous tool's aftermath or its own
// probe.)
func cpu(m measurement) string {
	if !ran(m) {
		return "—"
	}
	return time.Duration(cpuNs(m)).Round(10 * time.Millisecond).String()
}

func cpuNs(m measurement) uint64 {
	if m.Tool == "heaptop" {
		return m.TargetCPUNs + m.TargetCPUAfterNs
	}
	return m.ToolCPUNs
}

func paused(m measurement) string {
	if !ran(m) {
		return "—"
	}
	s := ms(m.Pause.MaxNs)
	if m.ReportedPauseNs > 0 {
		s += " (says " + ms(m.ReportedPauseNs) + ")"
	}
	return s
}

// memCell is a memory figure, or a dash for a tool that did not run.
func memCell(m measurement, b uint64) string {
	if !ran(m) {
		return "—"
	}
	return mib(b)
}

func retained(roots []rootCheck) string {
	if len(roots) == 0 {
		return "n/a"
	}
	ok := 0
	for _, r := range roots {
		if r.Within {
			ok++
		}
	}
	return fmt.Sprintf("%d/%d roots", ok, len(roots))
}

// chainCell is "objects, named", "shape, named", "objects, unnamed"...
func chainCell(c chainCheck) string {
	switch {
	case c.ChainMatch == "":
		return "n/a"
	case c.ChainMatch == "no":
		return "NOT found"
	case c.ChainNamed != nil && *c.ChainNamed:
		return c.ChainMatch + ", named"
	}
	return c.ChainMatch + ", unnamed"
}

func ms(ns uint64) string { return fmt.Sprintf("%.1f ms", float64(ns)/1e6) }

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// count writes n with thousands separators.
func count(n uint64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
