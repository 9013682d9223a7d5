package snapshot

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/heaptop/heaptop/agent/analysis"
	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/graph"
	"github.com/heaptop/heaptop/agent/naming"
	"github.com/heaptop/heaptop/agent/symbols"
)

// Chains: the hops of a retention chain, as heaptopv1.Hop documents them.
// A chain comes from analysis.Path (the breadth-first parents: shortest,
// deterministic); each hop is labelled by naming.

// chainer builds hops for one snapshot. It only reads, so any number of
// goroutines may use one.
type chainer struct {
	g  *graph.Graph
	n  *naming.Names
	im *symbols.Image
	a  *analysis.Analysis
	nm names
}

var protoStates = [...]heaptopv1.State{
	analysis.Pending: heaptopv1.State_STATE_PENDING, analysis.Live: heaptopv1.State_STATE_LIVE,
	analysis.PendingFinalizer: heaptopv1.State_STATE_PENDING_FINALIZER, analysis.Weak: heaptopv1.State_STATE_WEAK,
}

func protoSite(s analysis.Site) *heaptopv1.Site {
	if s.File == "" {
		return nil
	}
	return &heaptopv1.Site{Function: s.Function, File: s.File, Line: uint32(s.Line)}
}

func frameSite(f symbols.Frame) *heaptopv1.Site {
	if f.File == "" {
		return nil
	}
	return &heaptopv1.Site{Function: f.Function, File: f.File, Line: uint32(f.Line)}
}

// objectSite is o's allocation site.
func (c *chainer) objectSite(o graph.ObjectID) analysis.Site {
	if s := c.n.SiteOf(o); s != naming.NoSite {
		return c.nm.Site(uint32(s))
	}
	return analysis.Site{}
}

// objectHop is an object's hop, without how it is held.
func (c *chainer) objectHop(o graph.ObjectID) *heaptopv1.Hop {
	base, size := c.g.Object(o)
	return &heaptopv1.Hop{
		TypeName: c.a.ObjectTypeName(o),
		Bytes:    uint64(size),
		Site:     protoSite(c.objectSite(o)),
		Address:  base,
		State:    protoStates[c.a.State(o)],
	}
}

// rootHop is the hop of graph root r holding the word at byte offset off
// (an edge's, or a hidden word's).
func (c *chainer) rootHop(r graph.RootID, off uint64) *heaptopv1.Hop {
	root := c.g.Root(r)
	switch root.Kind {
	case graph.RootData, graph.RootBSS, graph.RootNoptrData, graph.RootNoptrBSS:
		addr := root.Addr + off
		h := &heaptopv1.Hop{Via: heaptopv1.Via_VIA_GLOBAL, Label: fmt.Sprintf("%s+%#x", root.Kind, off), Address: root.Addr, Offset: off}
		if name, start, ok := c.nm.Global(addr); ok {
			h.Label, h.Address, h.Offset = name, start, addr-start
			if ref := c.im.Global(uintptr(start)); ref.Type != nil {
				h.TypeName, h.Bytes = ref.Type.String(), uint64(ref.Type.Size())
			}
		}
		return h
	}
	info := c.n.Root(r)
	h := &heaptopv1.Hop{Via: info.Via, Label: info.Name, Address: root.Addr, Offset: off, Goroutine: info.Goroutine, WaitReason: info.WaitReason}
	if len(info.Frames) > 0 {
		h.Site = frameSite(info.Frames[0])
	}
	if info.HasCreatedBy {
		h.CreatedBy = frameSite(info.CreatedBy)
	}
	if root.Kind == graph.RootFinalizer || root.Kind == graph.RootQueuedFinalizer {
		if f := c.g.Finalizers[root.Index]; f.Object != graph.NoObject {
			h.Label += " on " + c.a.ObjectTypeName(f.Object)
			h.Address = f.Obj
		}
	}
	return h
}

// holderHop is a holder's hop, holding the next vertex of a path (or
// nothing, when the holder ends the path).
func (c *chainer) holderHop(hv analysis.Vertex, next analysis.Vertex, hasNext bool) *heaptopv1.Hop {
	h, _ := c.a.Holder(hv)
	if hasNext {
		if l, ok := c.a.Link(hv, next); ok && l.Kind != analysis.LinkGroup {
			r, _ := c.g.VertexRoot(l.From)
			off := uint64(0)
			if l.Kind == analysis.LinkEdge {
				off = c.g.EdgeOffset(l.From, l.Edge)
			}
			return c.rootHop(r, off)
		}
	}
	if h.Kind == analysis.GlobalHolder {
		return &heaptopv1.Hop{Via: heaptopv1.Via_VIA_GLOBAL, Label: h.Name, Address: h.Addr}
	}
	return c.rootHop(h.Root, 0)
}

// link labels how vertex from holds vertex to.
func (c *chainer) link(from, to analysis.Vertex) (heaptopv1.Via, string) {
	l, ok := c.a.Link(from, to)
	if !ok {
		return heaptopv1.Via_VIA_UNSPECIFIED, "(held along several paths)"
	}
	switch l.Kind {
	case analysis.LinkFinalized:
		return heaptopv1.Via_VIA_FINALIZER, "(the object the finalizer is set on)"
	case analysis.LinkWeak:
		return heaptopv1.Via_VIA_RUNTIME, "(weak pointer: does not keep it alive)"
	case analysis.LinkGroup:
		return heaptopv1.Via_VIA_UNSPECIFIED, ""
	}
	lab := c.n.EdgeLabel(l.From, l.Edge)
	return lab.Via, lab.Text
}

// chain returns the hops from a root to v (a holder or an object), root
// first; nil when v is unreachable.
func (c *chainer) chain(v analysis.Vertex) []*heaptopv1.Hop {
	path := c.a.Path(v)
	if len(path) < 2 {
		return nil
	}
	nextV, hasNext := next(path, 1)
	hops := []*heaptopv1.Hop{c.holderHop(path[1], nextV, hasNext)}
	for i := 2; i < len(path); i++ {
		o, _ := c.a.VertexObject(path[i])
		h := c.objectHop(o)
		h.Via, h.Label = c.link(path[i-1], path[i])
		if i+1 < len(path) {
			if l, ok := c.a.Link(path[i], path[i+1]); ok && l.Kind == analysis.LinkEdge {
				h.Offset = c.g.EdgeOffset(l.From, l.Edge)
			}
		}
		hops = append(hops, h)
	}
	return hops
}

func next(path []analysis.Vertex, i int) (analysis.Vertex, bool) {
	if i+1 < len(path) {
		return path[i+1], true
	}
	return 0, false
}

// hiddenChain returns the hops of a hidden reference: the chain to its
// holder, the hidden word, and what the word points at.
func (c *chainer) hiddenChain(ref *analysis.HiddenRef) []*heaptopv1.Hop {
	var hops []*heaptopv1.Hop
	var wordAddr uint64
	if o, ok := c.g.VertexObject(ref.Holder); ok {
		hops = c.chain(c.a.ObjectVertex(o))
		if len(hops) > 0 {
			hops[len(hops)-1].Offset = uint64(ref.Offset)
		}
		base, _ := c.g.Object(o)
		wordAddr = base + uint64(ref.Offset)
	} else {
		r, _ := c.g.VertexRoot(ref.Holder)
		hops = []*heaptopv1.Hop{c.rootHop(r, uint64(ref.Offset))}
		wordAddr = c.g.Root(r).Addr + uint64(ref.Offset)
	}
	hops = append(hops, &heaptopv1.Hop{
		Via:      heaptopv1.Via_VIA_HIDDEN,
		Label:    c.wordLabel(ref),
		TypeName: ref.Word.Scalar.String(),
		Bytes:    8,
		Address:  wordAddr,
	})
	return append(hops, c.targetHop(ref))
}

// wordLabel names a hidden word: its field path in the holder ("[3]",
// ".addr"), a global's name and path, or a frame slot's variable.
func (c *chainer) wordLabel(ref *analysis.HiddenRef) string {
	r, isRoot := c.g.VertexRoot(ref.Holder)
	if !isRoot {
		if ref.Word.Path == "" {
			return "*"
		}
		return ref.Word.Path
	}
	root := c.g.Root(r)
	switch root.Kind {
	case graph.RootFrame:
		if l, ok := c.n.FrameSlot(graph.FrameID(root.Index), uint64(ref.Offset)); ok {
			return l.String()
		}
		return fmt.Sprintf("sp+%#x", ref.Offset)
	}
	return c.im.Global(uintptr(root.Addr + uint64(ref.Offset))).String()
}

// targetHop is what a hidden word points at.
func (c *chainer) targetHop(ref *analysis.HiddenRef) *heaptopv1.Hop {
	h := &heaptopv1.Hop{Via: heaptopv1.Via_VIA_HIDDEN, Address: ref.Value}
	was := ""
	if ref.Was != "" {
		was = " (was " + ref.Was + ")"
	}
	switch ref.Kind {
	case analysis.Dangling:
		h.State = heaptopv1.State_STATE_FREE
		if ref.SlotSize != 0 {
			h.Label, h.Bytes = fmt.Sprintf("free %d B slot", ref.SlotSize)+was, uint64(ref.SlotSize)
			if ref.Value != ref.SlotBase {
				h.Label += fmt.Sprintf(" (+%d into it)", ref.Value-ref.SlotBase)
			}
		} else {
			h.Label = "memory freed since the last capture" + was
		}
	case analysis.Stack:
		h.State = heaptopv1.State_STATE_STACK
		gr := c.g.Goroutines[ref.Goroutine]
		h.Goroutine = gr.ID
		h.WaitReason = c.g.WaitReasons[gr.Wait]
		if cb, ok := symbols.CreatedBy(uintptr(gr.GoPC)); ok {
			h.CreatedBy = frameSite(cb)
		}
		h.Label = fmt.Sprintf("stack of goroutine %d", gr.ID)
		if ref.InFrame {
			fr := c.g.Frames[ref.Frame]
			info := c.n.Root(fr.Root)
			fn := c.g.Funcs[fr.Func]
			if len(info.Frames) > 0 {
				fn = info.Frames[0].Function
				h.Site = frameSite(info.Frames[0])
			}
			h.Label += " in " + fn
			if l, ok := c.n.FrameSlot(ref.Frame, ref.Value-fr.SP); ok {
				h.Label += ", local " + l.String()
				if l.Type != nil {
					h.TypeName = l.Type.String()
				}
			}
		} else {
			h.Label += ", below its innermost frame"
		}
	default:
		o := ref.Object
		t := c.objectHop(o)
		t.Via = heaptopv1.Via_VIA_HIDDEN
		t.Address = ref.Value
		state := c.a.State(o).String()
		switch ref.Kind {
		case analysis.DanglingReused:
			t.Label = "slot reused by " + c.a.ObjectTypeName(o) + was
		case analysis.DanglingSoon:
			t.Label = state + " " + c.a.ObjectTypeName(o) + ": the next GC frees it"
		case analysis.Unprotected:
			t.Label = "live " + c.a.ObjectTypeName(o) + ", kept alive only by other references"
		}
		if base, _ := c.g.Object(o); ref.Value != base {
			t.Label += fmt.Sprintf(" (+%d into it)", ref.Value-base)
		}
		return t
	}
	return h
}

// summary is a finding's line: "main.handles[3] holds 0xc000123450 as
// uintptr: free 48 B slot".
func summary(hops []*heaptopv1.Hop) string {
	if len(hops) < 2 {
		return ""
	}
	word, target := hops[len(hops)-2], hops[len(hops)-1]
	holder := ""
	if len(hops) >= 3 {
		holder = hopName(hops[len(hops)-3])
	}
	label := word.Label
	if strings.HasPrefix(label, "[") || strings.HasPrefix(label, ".") || label == "*" {
		label = holder + strings.TrimPrefix(label, "*")
	}
	return fmt.Sprintf("%s holds %#x as %s: %s", label, target.Address, word.TypeName, target.Label)
}

// hopName is how a hop reads as the holder of the next: the global or
// frame slot that holds it directly ("main.handles"), else its type and
// allocation site.
func hopName(h *heaptopv1.Hop) string {
	switch {
	case h.Via == heaptopv1.Via_VIA_GLOBAL || h.Via == heaptopv1.Via_VIA_FRAME:
		return h.Label
	case h.Site != nil:
		return fmt.Sprintf("%s (%s:%d)", h.TypeName, filepath.Base(h.Site.File), h.Site.Line)
	}
	return h.TypeName
}
