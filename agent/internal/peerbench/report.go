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
	fmt.Fprintln(tw, "   tool\tstatus\twall\ttarget paused\ttarget +mem\ttool max RSS\tchain\tretained ±1%\tnote")
	for _, m := range s.Measurements {
		note := m.Error
		if note == "" && len(m.Notes) > 0 {
			note = strings.Join(m.Notes, "; ")
		}
		fmt.Fprintf(tw, "   %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Tool, m.Status, wall(m), paused(m), memCell(m, m.TargetExtra),
			memCell(m, m.ToolMaxRSS), yesNo(m.ChainFound), retained(m.Roots), truncate(note, 160))
	}
	tw.Flush()
}

// ran reports whether the tool did anything to the target worth
// measuring: a pending entry or a tool that could not start did not.
func ran(m measurement) bool {
	return m.Status != "pending" && !(m.Status == "unavailable" && len(m.Steps) == 0)
}

func wall(m measurement) string {
	if !ran(m) {
		return "—"
	}
	return time.Duration(m.WallNs).Round(time.Millisecond).String()
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

func yesNo(b *bool) string {
	switch {
	case b == nil:
		return "n/a"
	case *b:
		return "found"
	}
	return "NOT found"
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
