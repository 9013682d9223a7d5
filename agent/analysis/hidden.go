package analysis

import (
	"reflect"
	"slices"

	"github.com/heaptop/heaptop/agent/graph"
	"github.com/heaptop/heaptop/agent/symbols"
)

// Hidden references: which words count, and what they point at.
//
// The graph hands over every word the GC does not treat as a pointer whose
// value lies in the heap arena range (graph.HiddenWord): in objects, in
// data, bss and the noptr segments, in stack frames. Most are not
// references the program kept: the runtime keeps addresses as integers by
// design (a goroutine's stack bounds and saved stack pointers, a cleanup's
// target, a weak handle's target, a poll descriptor's context), the
// standard library does too (sync.Cond's copy checker holds its own
// address), and an integer can hold anything. A word counts only when all
// of these hold, each rule naming the false alarm it prevents:
//
//  1. It is not a weak-pointer handle's word (the runtime zeroes it when
//     the target dies; a weak pointer to a dead object is no bug).
//  2. Its holder is live, or a root: a word inside garbage is freed with
//     it.
//  3. Its value points into an object, exactly at a free slot (the slot's
//     base, or its user pointer after a malloc header: graph.FreeSlot), or
//     into a goroutine's stack. A value in memory that is none of these (a
//     span freed whole, a runtime structure) is not judged: nothing proves
//     it was ever an allocation. Random integers, hashes and timestamps
//     almost never land in the arena range (a few GiB of 2⁶⁴) and, when
//     they do, almost never exactly on a free slot.
//  4. It does not point into its own holder (sync.Cond's copyChecker and
//     similar self-addresses keep nothing and lose nothing).
//  5. The holder's type is known at the word (naming typed the object, the
//     global or the frame slot), and the word is a pointer-sized integer
//     field of it: uintptr, int, uint, int64 or uint64, not the len or cap
//     of a slice or string. Untyped memory (free-form bytes, a noscan
//     slot's stale slack) is counted, never judged.
//  6. The word belongs to the program, not to the runtime, the standard
//     library or this agent: the innermost named struct holding it
//     (symbols.Hop.OwnerPkg; sync/atomic boxes do not count) is in one of
//     the program's modules, and when no named struct holds it, so is the
//     holder (the global's or the frame's function's package, the object's
//     allocation site; an unsampled object's word is the program's).
//     runtime.Cleanup's ptr, sync.Pool's internals, net/http's and the
//     runtime's own integers are all excluded by this rule.
//
// A word that counts is classified by its target: a free slot is Dangling;
// a live object is Unprotected, unless an earlier snapshot saw the same
// word with the same value name a different allocation there
// (DanglingReused), or name an object now gone (Dangling); a pending,
// finalizer-pending or weakly held object is DanglingSoon; a goroutine's
// stack is Stack (with its frame when the value lies in one).

// HiddenRef is a hidden reference that counts.
type HiddenRef struct {
	Kind   FindingKind // Dangling, DanglingReused, DanglingSoon, Stack or Unprotected
	Holder graph.Vertex
	Offset uint32
	Value  uint64
	// Word is the word as the holder's type lays it out (Path names it).
	Word symbols.Hop
	// Object is the object Value points into (graph.NoObject for a free
	// slot, a stack, or memory an earlier snapshot saw as an object).
	Object graph.ObjectID
	// SlotBase and SlotSize describe the free slot of a Dangling reference.
	SlotBase uint64
	SlotSize uint32
	// Goroutine is the stack's goroutine, Frame the frame Value lies in
	// (InFrame false when it lies below the innermost frame).
	Goroutine graph.GoroutineID
	Frame     graph.FrameID
	InFrame   bool
	// Was is what an earlier snapshot saw the word point at, for
	// DanglingReused and for Dangling references found through that
	// snapshot ("*main.Conn", "a free 48 B slot").
	Was string
}

// exclusion says why a hidden-looking word was not judged (the rules
// above), for HiddenStats.
type exclusion uint8

const (
	exWeakHandle exclusion = iota
	exGarbageHolder
	exNoAllocation
	exSelf
	exUntyped
	exNotInteger
	exRuntime
	exStd
	exAgent
	numExclusions
)

var exclusionNames = [numExclusions]string{
	"weak-pointer handles", "held by unreachable memory", "pointing at no allocation (memory freed whole or the runtime's)",
	"pointing into their own holder", "in memory of unknown type", "not a pointer-sized integer field",
	"owned by the runtime", "owned by the standard library", "owned by the heaptop agent",
}

// HiddenStats counts the hidden-looking words and what became of them.
type HiddenStats struct {
	Words    int // words the graph found
	Counted  int // references that count (len(Hidden))
	Excluded [numExclusions]int
}

// Exclusions lists the non-zero exclusion counts with their reasons.
func (s HiddenStats) Exclusions() []struct {
	Reason string
	Words  int
} {
	var out []struct {
		Reason string
		Words  int
	}
	for i, n := range s.Excluded {
		if n > 0 {
			out = append(out, struct {
				Reason string
				Words  int
			}{exclusionNames[i], n})
		}
	}
	return out
}

// hidden is phase 2's result.
type hidden struct {
	// Hidden lists the references that count, by holder vertex and offset.
	Hidden      []HiddenRef
	HiddenStats HiddenStats
	stacks      []stackRange // by lo
}

// stackRange is a goroutine's stack memory.
type stackRange struct {
	lo, hi uint64
	g      graph.GoroutineID
}

// maxStack is the runtime's limit on a goroutine stack (maxstacksize on
// 64-bit, runtime/proc.go), used to check stack bounds read from a g.
const maxStack = 1 << 30

// findStacks reads each goroutine's stack bounds: the first two words of
// its g, stack.lo and stack.hi (runtime2.go: "stack describes the actual
// stack memory: [stack.lo, stack.hi)", the g's first field, at an "offset
// known to runtime/cgo"), which the graph keeps as hidden words of the g.
// Bounds that do not contain the dumped frames are not trusted, and the
// frames' own extent is used instead.
func (a *Analysis) findStacks() {
	g := a.g
	for i, gr := range g.Goroutines {
		lo, hi := gr.StackLo, gr.StackHi
		if o, ok := g.FindObject(gr.Addr); ok {
			v := g.ObjectVertex(o)
			l, okl := a.hiddenWord(v, 0)
			h, okh := a.hiddenWord(v, 8)
			if base, _ := g.Object(o); base == gr.Addr && okl && okh && l < h && h-l <= maxStack &&
				(gr.NumFrames == 0 || l <= gr.StackLo && gr.StackHi <= h) {
				lo, hi = l, h
			}
		}
		if lo < hi {
			a.stacks = append(a.stacks, stackRange{lo, hi, graph.GoroutineID(i)})
		}
	}
	slices.SortFunc(a.stacks, func(x, y stackRange) int { return cmpU64(x.lo, y.lo) })
}

// stackOf returns the goroutine whose stack holds addr.
func (a *Analysis) stackOf(addr uint64) (graph.GoroutineID, bool) {
	i, _ := slices.BinarySearchFunc(a.stacks, addr, func(s stackRange, x uint64) int { return cmpU64(s.lo, x+1) })
	if i > 0 && addr < a.stacks[i-1].hi {
		return a.stacks[i-1].g, true
	}
	return 0, false
}

// hiddenWord returns the value of holder v's hidden word at off.
func (a *Analysis) hiddenWord(v graph.Vertex, off uint32) (uint64, bool) {
	hs := a.g.Hidden
	i, found := slices.BinarySearchFunc(hs, struct {
		v   graph.Vertex
		off uint32
	}{v, off}, func(w graph.HiddenWord, k struct {
		v   graph.Vertex
		off uint32
	}) int {
		if w.Holder != k.v {
			return cmpU64(uint64(w.Holder), uint64(k.v))
		}
		return cmpU64(uint64(w.Offset), uint64(k.off))
	})
	if !found {
		return 0, false
	}
	return hs[i].Value, true
}

func cmpU64(x, y uint64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// judgeHidden finds the hidden references that count (phase 2).
func (a *Analysis) judgeHidden(prev *Memory, next *Memory) {
	g := a.g
	a.findStacks()
	st := &a.HiddenStats
	for _, w := range g.Hidden {
		st.Words++
		if w.Kind == graph.HiddenWeakHandle {
			st.Excluded[exWeakHandle]++
			continue
		}
		holder, isObject := g.VertexObject(w.Holder)
		if isObject && a.state[holder] != Live {
			st.Excluded[exGarbageHolder]++
			continue
		}
		ref := HiddenRef{Holder: w.Holder, Offset: w.Offset, Value: w.Value, Object: graph.NoObject}
		inStack := false
		if o, ok := g.FindObject(w.Value); ok {
			ref.Object = o
		} else if gid, ok := a.stackOf(w.Value); ok {
			ref.Goroutine, inStack = gid, true
		} else if base, size, ok := g.FreeSlot(w.Value); ok {
			ref.SlotBase, ref.SlotSize = base, size
		} else if prev.remembers(a.wordAddress(w), w.Value) == nil {
			st.Excluded[exNoAllocation]++
			continue
		}
		if isObject && ref.Object == holder {
			st.Excluded[exSelf]++
			continue
		}
		h, ok := a.names.Word(w.Holder, uint64(w.Offset))
		if !ok {
			st.Excluded[exUntyped]++
			continue
		}
		if !pointerSizedInteger(h) {
			st.Excluded[exNotInteger]++
			continue
		}
		switch a.wordCode(w.Holder, uint64(w.Offset), h) {
		case RuntimeCode:
			st.Excluded[exRuntime]++
			continue
		case StdCode:
			st.Excluded[exStd]++
			continue
		case AgentCode:
			st.Excluded[exAgent]++
			continue
		}
		ref.Word = h
		a.classify(&ref, inStack, prev.remembers(a.wordAddress(w), w.Value))
		next.remember(a, w, &ref)
		a.Hidden = append(a.Hidden, ref)
	}
	st.Counted = len(a.Hidden)
}

// pointerSizedInteger reports whether a word is a whole pointer-sized
// integer field (rule 5).
func pointerSizedInteger(h symbols.Hop) bool {
	if h.Pointer || h.Part != "" {
		return false
	}
	switch h.Scalar {
	case reflect.Uintptr, reflect.Int, reflect.Uint, reflect.Int64, reflect.Uint64:
		return true
	}
	return false
}

// wordCode says whose code the word at off in holder v belongs to (rule 6).
func (a *Analysis) wordCode(v graph.Vertex, off uint64, h symbols.Hop) Code {
	if h.OwnerPkg != "" {
		return a.pkgs.Of(h.OwnerPkg)
	}
	g := a.g
	if o, ok := g.VertexObject(v); ok {
		if s := a.names.ObjectSite(o); s != 0 {
			return a.pkgs.OfSymbol(a.names.Site(s).Function)
		}
		return UserCode
	}
	r, _ := g.VertexRoot(v)
	root := g.Root(r)
	switch root.Kind {
	case graph.RootFrame:
		return a.pkgs.OfSymbol(g.Funcs[g.Frames[root.Index].Func])
	case graph.RootData, graph.RootBSS, graph.RootNoptrData, graph.RootNoptrBSS:
		if name, _, ok := a.names.Global(root.Addr + off); ok {
			return a.pkgs.OfSymbol(name)
		}
	}
	return UserCode
}

// wordAddress is where a hidden word lives in the process, the key an
// earlier snapshot remembers it by; 0 for frame words (frames move).
func (a *Analysis) wordAddress(w graph.HiddenWord) uint64 {
	g := a.g
	if o, ok := g.VertexObject(w.Holder); ok {
		base, _ := g.Object(o)
		return base + uint64(w.Offset)
	}
	r, _ := g.VertexRoot(w.Holder)
	switch root := g.Root(r); root.Kind {
	case graph.RootData, graph.RootBSS, graph.RootNoptrData, graph.RootNoptrBSS:
		return root.Addr + uint64(w.Offset)
	}
	return 0
}

// classify sets ref's kind from its target and what an earlier snapshot
// remembered of the same word (was, nil if nothing).
func (a *Analysis) classify(ref *HiddenRef, inStack bool, was *remembered) {
	g := a.g
	switch {
	case inStack:
		ref.Kind = Stack
		gr := g.Goroutines[ref.Goroutine]
		for f := gr.FirstFrame; f < gr.FirstFrame+graph.FrameID(gr.NumFrames); f++ {
			fr := g.Frames[f]
			if ref.Value >= fr.SP && ref.Value < fr.SP+uint64(g.Root(fr.Root).Size) {
				ref.Frame, ref.InFrame = f, true
				break
			}
		}
	case ref.SlotSize != 0:
		ref.Kind = Dangling
		if was != nil && was.identity != 0 {
			ref.Was = was.name
		}
	case ref.Object == graph.NoObject:
		// Nothing there now, but an earlier snapshot saw an allocation.
		ref.Kind, ref.Was = Dangling, was.name
	case a.state[ref.Object] != Live:
		ref.Kind = DanglingSoon
	default:
		// BUG: a slot freed and taken again by an allocation of the same
		// type, site and size since the earlier snapshot reads as the same
		// object: Unprotected, not DanglingReused. The dump gives no
		// allocation identity beyond these.
		ref.Kind = Unprotected
		if was != nil {
			base, _ := g.Object(ref.Object)
			if was.identity != a.identity(ref.Object) || was.base != base {
				ref.Kind, ref.Was = DanglingReused, was.name
			}
		}
	}
}
