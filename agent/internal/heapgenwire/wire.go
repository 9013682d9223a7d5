// Package heapgenwire is what agent/examples/heapgen tells the program that
// started it: the Ready report it prints once its heap is built (pid, the
// planted object and the chain that retains it, each root's exact retained
// bytes) and the Gap report it prints on SIGUSR1 (how long its goroutines
// could not run). The peers benchmark (agent/internal/peerbench) reads both.
// Each report is one line: its prefix, then the JSON of the struct.
package heapgenwire

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Line prefixes, each followed by one JSON document and a newline.
const (
	ReadyPrefix = "heapgen ready: "
	GapPrefix   = "heapgen gap: "
)

// Ready describes the heap heapgen built. Every byte and object figure is
// exact: measured from the runtime's own live-heap accounting after a full
// GC, and cross-checked against slot-size arithmetic where the layout is
// known (see Root).
type Ready struct {
	Pid        int    `json:"pid"`
	Exe        string `json:"exe"`
	GoVersion  string `json:"go_version"`
	Agent      string `json:"agent"` // the heaptop agent's address; "" when started with -agent=false
	AgentError string `json:"agent_error,omitempty"`

	// What was asked for and what was built. Built figures count the
	// roots below only (not the runtime's or the agent's own heap).
	RequestedObjects uint64   `json:"requested_objects"`
	RequestedBytes   uint64   `json:"requested_bytes"`
	Shapes           []string `json:"shapes"`
	Objects          uint64   `json:"objects"`
	Bytes            uint64   `json:"bytes"`
	BuildNs          uint64   `json:"build_ns"`

	// HeapLive is the process's whole live heap after the build
	// (MemStats.HeapAlloc after runtime.GC, before the agent starts).
	HeapLive    uint64 `json:"heap_live"`
	HeapObjects uint64 `json:"heap_objects"`

	Roots []Root `json:"roots"`

	// Target is the planted object; Chain the hops from its global to it,
	// root first, in Go terms (fields, map values, slice elements — not
	// the runtime's internal objects a tool may show between them).
	Target     string `json:"target"` // hex address, "0xc000…"
	TargetType string `json:"target_type"`
	Chain      []Hop  `json:"chain"`
}

// Root is one top-level global heapgen created. Nothing else points into
// what it holds, so its retained bytes are exactly the live bytes it adds.
type Root struct {
	Name  string `json:"name"` // the global, "main.forest"
	Type  string `json:"type"`
	Shape string `json:"shape"` // trees, maps, slices or planted
	// Elements is how many tree nodes, map entries or slice elements it
	// holds; each has a []byte payload of Payload bytes (0: none).
	Elements uint64 `json:"elements"`
	Payload  uint64 `json:"payload"`
	Objects  uint64 `json:"objects"`
	// Retained is the slot bytes of every object reachable from the root
	// and from nothing else: Computed where heapgen knows the layout,
	// else Measured. The harness holds every tool to this figure.
	Retained uint64 `json:"retained"`
	// Measured is the runtime's count: MemStats.HeapAlloc after
	// runtime.GC, after the root was built minus before. It can carry a
	// stray allocation or free of the runtime's own (a few KiB at most;
	// see heapgen's buildHeap).
	Measured uint64 `json:"measured"`
	// Computed is the figure from size-class arithmetic (objects' sizes,
	// malloc headers, size classes, pages), for the roots whose layout
	// heapgen knows: trees, slices and the planted chain (its map is a
	// small one-group Swiss map); 0 for the big map, whose tables and
	// groups are the runtime's business. heapgen does not start when
	// Computed and Measured differ by more than a few KiB.
	Computed uint64 `json:"computed,omitempty"`
}

// Hop is one link of the planted chain.
type Hop struct {
	Via   string `json:"via"`   // global, field, map value, index
	Label string `json:"label"` // "main.planted", ".shelves", "[\"shelf-2\"]", "[5]"
	Type  string `json:"type"`  // the type of what the hop reaches
}

// Gap is what heapgen's wake-up probe saw since the previous Gap report:
// a goroutine sleeping Period at a time measures, by the process's own
// monotonic clock, the longest time between two wake-ups. A stopped
// process (ptrace, a stop-the-world, a frozen cgroup) shows as one long gap;
// on a busy machine scheduling delay shows too, so compare with a gap taken
// while nothing is done to the process.
type Gap struct {
	PeriodNs uint64 `json:"period_ns"`
	MaxNs    uint64 `json:"max_ns"`    // longest time between two wake-ups
	WindowNs uint64 `json:"window_ns"` // time since the previous report
	Wakeups  uint64 `json:"wakeups"`
}

// Format returns the line for v under prefix, newline included.
func Format(prefix string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return prefix + string(b) + "\n", nil
}

// Parse reads the report in line under prefix into v. It reports false,
// nil for a line that is not such a report.
func Parse(line, prefix string, v any) (bool, error) {
	rest, ok := strings.CutPrefix(line, prefix)
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal([]byte(rest), v); err != nil {
		return true, fmt.Errorf("heapgen report %q: %w", strings.TrimSpace(prefix), err)
	}
	return true, nil
}

// ParseCount reads an object count: "100000", "1e5", "2.5e6".
func ParseCount(s string) (uint64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 || f > 1e12 || f != float64(uint64(f)) {
		return 0, fmt.Errorf("not a whole count: %q", s)
	}
	return uint64(f), nil
}

// byteUnits are the suffixes ParseBytes knows, longest first so that
// "MiB" is not read as "B".
var byteUnits = []struct {
	suffix string
	factor float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1},
}

// ParseBytes reads a byte size: "10MB" (10⁶), "1GiB" (2³⁰), "1e8", "4096".
func ParseBytes(s string) (uint64, error) {
	num, factor := s, 1.0
	for _, u := range byteUnits {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, factor = strings.TrimSpace(n), u.factor
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || f*factor > 1<<50 {
		return 0, fmt.Errorf("not a byte size: %q (examples: 4096, 10MB, 1GiB)", s)
	}
	return uint64(f * factor), nil
}
