package analysis

import (
	"slices"
	"strings"
)

// Growth across snapshots, the Go equivalent of comparing two heap
// snapshots: the live objects of each type and allocation site, counted in
// every capture; a row grew when its live bytes rose from one capture to
// the next.

// growthDepth is how many captures a Memory keeps totals of: this one and
// the eight before (proto GrowthRow.grew_in counts up to 8 intervals).
const growthDepth = 9

// maxGrowthKeys bounds the rows a capture's totals keep (the biggest by
// bytes): at about 100 bytes a row, 9 captures of them hold under 20 MB.
const maxGrowthKeys = 20000

// growthKey is a row across snapshots: types and sites are interned per
// snapshot, so rows are matched by name.
type growthKey struct {
	Type string
	Site Site
}

// liveTotals are the live rows of one capture.
type liveTotals map[growthKey]struct{ Count, Bytes uint64 }

// GrowthRow is how one type and site changed.
type GrowthRow struct {
	Type  string
	Site  Site
	Count uint64 // live now
	Bytes uint64
	// CountDelta and BytesDelta are the change since the previous capture.
	CountDelta, BytesDelta int64
	// GrewIn is in how many of the intervals between the last captures
	// (Analysis.GrowthIntervals of them) the live bytes rose.
	GrewIn int
}

// measureGrowth compares the live rows with the previous captures' and
// records this capture's totals in next (phase 4).
func (a *Analysis) measureGrowth(prev, next *Memory) {
	now := liveTotals{}
	for _, row := range a.TypeSites { // by decreasing bytes
		if row.State != Live {
			continue
		}
		if len(now) == maxGrowthKeys {
			break
		}
		now[growthKey{row.Type, row.Site}] = struct{ Count, Bytes uint64 }{row.Count, row.Bytes}
	}
	var history []liveTotals
	if prev != nil {
		history = prev.history
	}
	if len(history) >= growthDepth {
		history = history[len(history)-growthDepth+1:]
	}
	next.history = append(slices.Clone(history), now)
	if len(history) == 0 {
		return
	}
	a.GrowthIntervals = len(history)
	last := history[len(history)-1]
	keys := map[growthKey]bool{}
	for k := range now {
		keys[k] = true
	}
	for k := range last {
		keys[k] = true
	}
	all := next.history
	for k := range keys {
		cur, before := now[k], last[k]
		row := GrowthRow{Type: k.Type, Site: k.Site, Count: cur.Count, Bytes: cur.Bytes,
			CountDelta: int64(cur.Count) - int64(before.Count), BytesDelta: int64(cur.Bytes) - int64(before.Bytes)}
		for i := 1; i < len(all); i++ {
			if all[i][k].Bytes > all[i-1][k].Bytes {
				row.GrewIn++
			}
		}
		if row.CountDelta != 0 || row.BytesDelta != 0 || row.GrewIn > 0 {
			a.Growth = append(a.Growth, row)
		}
	}
	slices.SortFunc(a.Growth, func(x, y GrowthRow) int {
		switch {
		case x.BytesDelta != y.BytesDelta:
			if x.BytesDelta > y.BytesDelta {
				return -1
			}
			return 1
		case x.Type != y.Type:
			return strings.Compare(x.Type, y.Type)
		}
		return strings.Compare(x.Site.String(), y.Site.String())
	})
}
