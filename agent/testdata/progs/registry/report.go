package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"unsafe"

	"github.com/heaptop/heaptop/agent/capture"
	"github.com/heaptop/heaptop/agent/graph"
	"github.com/heaptop/heaptop/agent/internal/pipeline"
	"github.com/heaptop/heaptop/agent/naming"
	"github.com/heaptop/heaptop/agent/symbols"
)

// Report is what the program prints, as JSON.
type Report struct {
	// Chain is the shortest path from a root to the buffer of session
	// "user7", as naming labels it; Queued and Closure the shortest paths
	// from the Extras object to the *Small queued in its channel and to the
	// session its closure holds.
	Chain, Queued, Closure []Hop
	// Objects describes planted objects by name: session, buf, big, small,
	// payload, point (the box), failure, workerbuf, queued, whole, part,
	// elems.
	Objects map[string]Object
	// BigReflect is reflect.TypeOf of the Big value, as the program sees it.
	BigReflect string
	// Worker is the frame root holding the worker's buffer; WorkerGoid the
	// worker's goroutine id, from its own traceback.
	Worker     Root
	WorkerGoid uint64
	Degraded   []string
	Coverage   naming.Coverage
}

// Hop is one step of a chain: the holder, and how it holds the next step.
type Hop struct {
	Via, Label string
	Internal   bool
	Degraded   []string // a root's
	Object
}

// Object is what naming says of an object (or, for a root, the root's name
// in Type).
type Object struct {
	Type, Source, Site, SiteFunc string
	SiteInlined                  bool
	Bytes                        uint32
}

// Root is what naming says of a frame root and its slot.
type Root struct {
	Name, Label, Via, Func, At, CreatedByFunc, CreatedByAt, WaitReason string
	Goroutine                                                          uint64
}

func report(workerGoid, workerBuf uint64) error {
	runtime.GC()
	res, err := pipeline.Run(context.Background(), capture.New(capture.Options{}), symbols.Self())
	if err != nil {
		return err
	}
	defer res.Close()
	g, n := res.Graph, res.Names

	r := registry
	s7 := r.sessions["user7"]
	addr := func(p unsafe.Pointer) uint64 { return uint64(uintptr(p)) }
	data := func(iface *any) unsafe.Pointer { return (*[2]unsafe.Pointer)(unsafe.Pointer(iface))[1] }
	var failure any = r.extras.err
	planted := map[string]uint64{
		"session":   addr(unsafe.Pointer(s7)),
		"buf":       addr(unsafe.Pointer(&s7.buf[0])),
		"big":       addr(unsafe.Pointer(r.big)),
		"small":     addr(unsafe.Pointer(r.extras.small)),
		"payload":   addr(data(&r.extras.anyVal)),
		"point":     addr(data(&r.extras.boxed)),
		"failure":   addr(data(&failure)),
		"workerbuf": workerBuf,
		"queued":    uint64(queuedAddr),
		"whole":     addr(unsafe.Pointer(wholeAndPart)),
		"part":      addr(unsafe.Pointer(onlyPart)),
		"elems":     addr(unsafe.Pointer(firstElem)),
	}
	rep := Report{Objects: map[string]Object{}, BigReflect: reflect.TypeOf(*r.big).String(),
		WorkerGoid: workerGoid, Degraded: n.Degraded(), Coverage: n.Coverage()}
	for name, a := range planted {
		o, ok := g.FindObject(a)
		if !ok {
			return fmt.Errorf("%s at %#x is not in the graph", name, a)
		}
		rep.Objects[name] = describe(n, g, o)
	}
	var roots []graph.Vertex
	for r := range graph.RootID(g.NumRoots()) {
		roots = append(roots, g.RootVertex(r))
	}
	extras, _ := g.FindObject(addr(unsafe.Pointer(r.extras)))
	fromExtras := []graph.Vertex{g.ObjectVertex(extras)}
	for _, c := range []struct {
		dst    *[]Hop
		from   []graph.Vertex
		target uint64
	}{
		{&rep.Chain, roots, planted["buf"]},
		{&rep.Queued, fromExtras, planted["queued"]},
		{&rep.Closure, fromExtras, addr(unsafe.Pointer(r.sessions["user3"]))},
	} {
		o, _ := g.FindObject(c.target)
		if *c.dst, err = chain(n, g, c.from, o); err != nil {
			return err
		}
	}
	wb, _ := g.FindObject(workerBuf)
	rep.Worker = frameHolding(n, g, wb)
	runtime.KeepAlive(r)
	return json.NewEncoder(os.Stdout).Encode(rep)
}

func describe(n *naming.Names, g *graph.Graph, o graph.ObjectID) Object {
	_, src := n.Type(o)
	site := n.Site(n.SiteOf(o))
	_, size := g.Object(o)
	obj := Object{Type: n.ObjectTypeName(o), Source: src.String(), SiteFunc: site.Function, SiteInlined: site.Inlined, Bytes: size}
	if site.File != "" {
		obj.Site = fmt.Sprintf("%s:%d", filepath.Base(site.File), site.Line)
	}
	return obj
}

// chain is the shortest path from the vertices from to target
// (breadth-first, in order), each hop labelled by naming. It is this test
// program's own: retention paths belong to the analysis stage.
func chain(n *naming.Names, g *graph.Graph, from []graph.Vertex, target graph.ObjectID) ([]Hop, error) {
	type via struct {
		from graph.Vertex
		edge graph.EdgeID
	}
	parent := make(map[graph.ObjectID]via)
	start := map[graph.Vertex]bool{}
	for _, v := range from {
		start[v] = true
	}
	queue := append([]graph.Vertex(nil), from...)
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		targets, first := g.Edges(v)
		for i, t := range targets {
			if _, seen := parent[t]; seen {
				continue
			}
			parent[t] = via{v, first + graph.EdgeID(i)}
			queue = append(queue, g.ObjectVertex(t))
		}
	}
	if _, ok := parent[target]; !ok {
		return nil, fmt.Errorf("the target is unreachable")
	}
	hops := []Hop{{Object: describe(n, g, target)}}
	for o := target; ; {
		p := parent[o]
		l := n.EdgeLabel(p.from, p.edge)
		h := Hop{Via: l.Via.String(), Label: l.Text, Internal: l.Internal}
		if r, isRoot := g.VertexRoot(p.from); isRoot {
			info := n.Root(r)
			h.Type, h.Degraded = info.Name, info.Degraded
			return append([]Hop{h}, hops...), nil
		}
		o, _ = g.VertexObject(p.from)
		h.Object = describe(n, g, o)
		hops = append([]Hop{h}, hops...)
		if start[p.from] {
			return hops, nil
		}
	}
}

// frameHolding names the first frame root with an edge to o.
func frameHolding(n *naming.Names, g *graph.Graph, o graph.ObjectID) Root {
	for r := range graph.RootID(g.NumRoots()) {
		if g.Root(r).Kind != graph.RootFrame {
			continue
		}
		v := g.RootVertex(r)
		targets, first := g.Edges(v)
		for i, t := range targets {
			if t != o {
				continue
			}
			info := n.Root(r)
			l := n.EdgeLabel(v, first+graph.EdgeID(i))
			root := Root{Name: info.Name, Label: l.Text, Via: l.Via.String(), Goroutine: info.Goroutine, WaitReason: info.WaitReason}
			if len(info.Frames) > 0 {
				root.Func, root.At = info.Frames[0].Function, fmt.Sprintf("%s:%d", filepath.Base(info.Frames[0].File), info.Frames[0].Line)
			}
			if info.HasCreatedBy {
				root.CreatedByFunc, root.CreatedByAt = info.CreatedBy.Function, fmt.Sprintf("%s:%d", filepath.Base(info.CreatedBy.File), info.CreatedBy.Line)
			}
			return root
		}
	}
	return Root{}
}
