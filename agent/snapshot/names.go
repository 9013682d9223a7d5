package snapshot

import (
	"reflect"

	"github.com/heaptop/heaptop/agent/analysis"
	"github.com/heaptop/heaptop/agent/graph"
	"github.com/heaptop/heaptop/agent/naming"
	"github.com/heaptop/heaptop/agent/symbols"
)

// names is what naming learnt, as analysis asks for it (analysis.Names).
type names struct {
	g  *graph.Graph
	n  *naming.Names
	im *symbols.Image
}

func (x names) ObjectType(o graph.ObjectID) uint32 {
	t, _ := x.n.Region(o)
	return uint32(t)
}

func (x names) TypeName(t uint32) string { return x.n.TypeName(naming.TypeID(t)) }

func (x names) ObjectSite(o graph.ObjectID) uint32 { return uint32(x.n.SiteOf(o)) }

func (x names) Site(s uint32) analysis.Site {
	site := x.n.Site(naming.SiteID(s))
	return analysis.Site{Function: site.Function, File: site.File, Line: site.Line}
}

func (x names) TypePackage(t uint32) string {
	l := x.n.Layout(naming.TypeID(t))
	if l.Kind != symbols.Value || l.Type == nil {
		return ""
	}
	rt := l.Type
	for rt.Name() == "" {
		switch rt.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Chan:
			rt = rt.Elem()
		default:
			return ""
		}
	}
	return rt.PkgPath()
}

// Internal: a map's directory, table or groups.
func (x names) Internal(o graph.ObjectID) bool {
	t, _ := x.n.Region(o)
	switch x.n.Layout(t).Kind {
	case symbols.MapDirOrGroup, symbols.MapDirectory, symbols.MapTable, symbols.MapGroups:
		return true
	}
	return false
}

func (x names) Word(v graph.Vertex, off uint64) (symbols.Hop, bool) {
	g := x.g
	if o, ok := g.VertexObject(v); ok {
		t, start := x.n.Region(o)
		if t == naming.Untyped || off < start {
			return symbols.Hop{}, false
		}
		return x.n.Layout(t).Word(uintptr(off - start)), true
	}
	r, _ := g.VertexRoot(v)
	root := g.Root(r)
	switch root.Kind {
	case graph.RootData, graph.RootBSS, graph.RootNoptrData, graph.RootNoptrBSS:
		ref := x.im.Global(uintptr(root.Addr + off))
		return ref.Word, ref.Typed
	case graph.RootFrame:
		l, ok := x.n.FrameSlot(graph.FrameID(root.Index), off)
		if !ok || l.Ambiguous || l.Type == nil {
			return symbols.Hop{}, false
		}
		return l.Word, true
	}
	return symbols.Hop{}, false
}

func (x names) Global(addr uint64) (string, uint64, bool) {
	ref := x.im.Global(uintptr(addr))
	if ref.Var == "" {
		return "", 0, false
	}
	return ref.Var, addr - uint64(ref.VarOffset), true
}
