package naming

import (
	"fmt"
	"strings"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/graph"
	"github.com/heaptop/heaptop/agent/symbols"
)

// Label says how a holder holds one of its edges: the Via and label of a
// path hop (heaptop.v1.Hop's via and label).
type Label struct {
	Via heaptopv1.Via
	// Text: ".sessions", "[12].next", "map value", "map key.name",
	// "main.registry.sessions" (a global and the field path inside it),
	// "buf" (a stack slot's variable), ".f" (a closure variable),
	// "(chan buffer)"; "+0x18" for a pointer in an untyped holder,
	// "sp+0x18" for a frame slot no variable is known for.
	Text string
	// Internal: runtime machinery (map directory, table and groups,
	// channel buffer) that a path view may fold into the next hop.
	Internal bool
}

// EdgeLabel says how holder v holds its edge e. It computes the label on
// demand (for the hops of the paths a client asks for), so it is not free:
// a layout walk, or a DWARF lookup for globals and frame slots.
func (n *Names) EdgeLabel(v graph.Vertex, e graph.EdgeID) Label {
	g := n.g
	off := g.EdgeOffset(v, e)
	if o, ok := g.VertexObject(v); ok {
		return n.wordLabel(o, off)
	}
	r, _ := g.VertexRoot(v)
	root := g.Root(r)
	switch root.Kind {
	case graph.RootData, graph.RootBSS:
		return Label{Via: heaptopv1.Via_VIA_GLOBAL, Text: n.im.Global(uintptr(root.Addr + off)).String()}
	case graph.RootFrame:
		l, ok := n.slot(graph.FrameID(root.Index), off)
		switch {
		case !ok:
			return Label{Via: heaptopv1.Via_VIA_FRAME, Text: fmt.Sprintf("sp+%#x", off)}
		case l.Ambiguous:
			return Label{Via: heaptopv1.Via_VIA_FRAME, Text: l.String() + " (or another variable sharing its slot)"}
		}
		return Label{Via: heaptopv1.Via_VIA_FRAME, Text: l.String()}
	case graph.RootGoroutineCtxt:
		return Label{Via: heaptopv1.Via_VIA_FRAME, Text: "(closure context)"}
	case graph.RootFinalizer:
		if off == 0 {
			return Label{Via: heaptopv1.Via_VIA_FINALIZER, Text: "finalizer function"}
		}
		// The finalizer keeps the object's referents: name the object's word.
		f := g.Finalizers[root.Index]
		w := n.wordLabel(f.Object, off-8)
		return Label{Via: heaptopv1.Via_VIA_FINALIZER, Text: "finalized object " + w.Text}
	case graph.RootQueuedFinalizer:
		if off == 0 {
			return Label{Via: heaptopv1.Via_VIA_FINALIZER, Text: "queued finalizer function"}
		}
		return Label{Via: heaptopv1.Via_VIA_FINALIZER, Text: "queued finalizer object"}
	case graph.RootCleanups:
		return Label{Via: heaptopv1.Via_VIA_RUNTIME, Text: "runtime cleanup"}
	case graph.RootWeakHandles:
		return Label{Via: heaptopv1.Via_VIA_RUNTIME, Text: "weak handle"}
	}
	return Label{Via: heaptopv1.Via_VIA_POINTER, Text: fmt.Sprintf("+%#x", off)}
}

// wordLabel names the pointer word at byte offset off of object o.
func (n *Names) wordLabel(o graph.ObjectID, off uint64) Label {
	lay, start := n.Region(o)
	info := &n.types.infos[lay]
	if lay == Untyped || off < start || (!info.layout.Array && info.unit > 0 && off-start >= info.unit) {
		return Label{Via: heaptopv1.Via_VIA_POINTER, Text: fmt.Sprintf("+%#x", off)}
	}
	h := info.layout.Word(uintptr(off - start))
	text := h.Path
	if i := strings.Index(text, ") map "); strings.HasPrefix(text, "(map group ") && i > 0 {
		text = text[i+2:] // which group holds the slot is the map's business
	}
	if text == "" {
		text = "*" // the value is the pointer itself (a boxed pointer, a pointer array's only element)
	}
	l := Label{Text: text, Internal: h.Internal}
	switch {
	case h.Internal:
		l.Via = heaptopv1.Via_VIA_RUNTIME
	case strings.HasPrefix(text, "map key"):
		l.Via = heaptopv1.Via_VIA_MAP_KEY
	case strings.HasPrefix(text, "map value"):
		l.Via = heaptopv1.Via_VIA_MAP_VALUE
	case h.IfaceData:
		l.Via = heaptopv1.Via_VIA_INTERFACE
	case info.layout.Kind == symbols.Closure:
		l.Via = heaptopv1.Via_VIA_CLOSURE
	case strings.HasPrefix(text, "["):
		l.Via = heaptopv1.Via_VIA_INDEX
	case strings.HasPrefix(text, "."):
		l.Via = heaptopv1.Via_VIA_FIELD
	default:
		l.Via = heaptopv1.Via_VIA_POINTER
	}
	return l
}

// RootInfo names a root: what a path's first hop shows beside its label.
type RootInfo struct {
	Via heaptopv1.Via
	// Name: "data", "bss" (each edge's label names its global);
	// "goroutine 42 frame main.worker"; "goroutine 42 closure context";
	// "finalizer", "queued finalizer"; "runtime cleanups", "weak handles".
	Name string
	// Goroutine is the goid of a frame or closure-context root.
	Goroutine uint64
	// Frames are a frame root's source frames at its pc, innermost first
	// (inlined calls expanded): Frames[0] is the function and file:line
	// the goroutine is at in this frame.
	Frames []symbols.Frame
	// CreatedBy is the `go` statement that started the goroutine
	// (HasCreatedBy false for the main goroutine and the runtime's).
	CreatedBy    symbols.Frame
	HasCreatedBy bool
	WaitReason   string
	// Degraded says why a global root's names are incomplete (a stripped
	// binary, no DWARF); nil when they are complete.
	Degraded []string
}

// Root names root r.
func (n *Names) Root(r graph.RootID) RootInfo {
	g := n.g
	root := g.Root(r)
	switch root.Kind {
	case graph.RootData, graph.RootBSS, graph.RootNoptrData, graph.RootNoptrBSS:
		return RootInfo{Via: heaptopv1.Via_VIA_GLOBAL, Name: root.Kind.String(), Degraded: n.im.Degraded()}
	case graph.RootFrame:
		fid := graph.FrameID(root.Index)
		fr := g.Frames[fid]
		info := n.goroutine(fr.Goroutine)
		info.Via = heaptopv1.Via_VIA_FRAME
		info.Frames = symbols.Frames(uintptr(fr.PC), n.pcKind(fid))
		fn := g.Funcs[fr.Func]
		if len(info.Frames) > 0 {
			fn = info.Frames[0].Function
		}
		info.Name = fmt.Sprintf("goroutine %d frame %s", info.Goroutine, fn)
		return info
	case graph.RootGoroutineCtxt:
		info := n.goroutine(graph.GoroutineID(root.Index))
		info.Via = heaptopv1.Via_VIA_FRAME
		info.Name = fmt.Sprintf("goroutine %d closure context", info.Goroutine)
		return info
	case graph.RootFinalizer, graph.RootQueuedFinalizer:
		return RootInfo{Via: heaptopv1.Via_VIA_FINALIZER, Name: root.Kind.String()}
	}
	return RootInfo{Via: heaptopv1.Via_VIA_RUNTIME, Name: "runtime " + root.Kind.String()}
}

// goroutine fills in what a root shows of its goroutine.
func (n *Names) goroutine(id graph.GoroutineID) RootInfo {
	gr := n.g.Goroutines[id]
	info := RootInfo{Goroutine: gr.ID, WaitReason: n.g.WaitReasons[gr.Wait]}
	info.CreatedBy, info.HasCreatedBy = symbols.CreatedBy(uintptr(gr.GoPC))
	return info
}

// pcKind says which instruction frame fr's pc names, from the function it
// called (the frame one closer to the innermost).
func (n *Names) pcKind(fr graph.FrameID) symbols.PCKind {
	f := n.g.Frames[fr]
	if f.Depth == 0 {
		return symbols.ReturnPC
	}
	return symbols.FramePCKind(n.g.Funcs[n.g.Frames[fr-1].Func])
}

// slot names the stack slot at byte offset off of frame fr (from its sp):
// a variable of the frame's own function, else an argument of the
// function it called, whose incoming arguments live in this frame (see
// symbols.Image.Local: this frame's CFA is sp + its length, its callee's
// is this frame's sp).
func (n *Names) slot(fr graph.FrameID, off uint64) (symbols.Local, bool) {
	g := n.g
	f := g.Frames[fr]
	size := uint64(g.Root(f.Root).Size)
	if l, ok := n.im.Local(uintptr(f.Entry), uintptr(f.PC), n.pcKind(fr), int64(off)-int64(size)); ok {
		return l, true
	}
	if f.Depth == 0 {
		return symbols.Local{}, false
	}
	callee := g.Frames[fr-1]
	return n.im.Local(uintptr(callee.Entry), uintptr(callee.PC), n.pcKind(fr-1), int64(off))
}

// Degraded says why names are less than complete (a stripped binary, no
// DWARF), one sentence each; nil when they are complete.
func (n *Names) Degraded() []string { return n.im.Degraded() }
