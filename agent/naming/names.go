package naming

import (
	"fmt"
	"time"

	"github.com/heaptop/heaptop/agent/graph"
	"github.com/heaptop/heaptop/agent/symbols"
)

// Names is what Name learnt about one graph. It is written by Name alone
// and read-only afterwards, so any number of goroutines may read it. Its
// per-object arrays live in the graph's mapped memory (graph.ObjectColumn):
// a Names is valid while its graph is, and must not be used after the
// graph's Close.
type Names struct {
	g  *graph.Graph
	im *symbols.Image

	// typing[o] is object o's TypeID and Source, packed (see pack), and
	// whether its typed region starts inside it.
	typing []uint32
	// interior[o] is the start of o's typed region when it is not o's user
	// offset (a region reached only through a pointer into the object),
	// for the objects whose typing word has interiorBit.
	interior map[graph.ObjectID]uint32
	// site[o] is o's SiteID.
	site []uint32

	types *typeTable
	sites []Site // by SiteID; sites[0] is the zero Site
	itabs symbols.ItabSet

	stats Coverage
}

// A typing word packs a TypeID (bits 4..31), a Source (bits 0..2) and
// interiorBit (bit 3): the typed region starts elsewhere than the user
// offset, at interior[o].
const (
	sourceBits  = 3
	interiorBit = 1 << sourceBits
	typeShift   = sourceBits + 1
)

func pack(t TypeID, s Source) uint32 { return uint32(t)<<typeShift | uint32(s) }

func unpack(w uint32) (TypeID, Source) {
	return TypeID(w >> typeShift), Source(w & (1<<sourceBits - 1))
}

// Coverage says how much of the heap naming could type and place.
type Coverage struct {
	Objects, Bytes           uint64 // every object of the graph
	TypedObjects, TypedBytes uint64 // with a type
	SitedObjects, SitedBytes uint64 // with an allocation site
	// AgentObjects and AgentBytes are the sited objects the agent
	// allocated itself (Site.Agent), and AgentTyped their typed bytes.
	AgentObjects, AgentBytes, AgentTyped uint64
	// BySource splits the typed objects and bytes by how their type was
	// learnt (index: Source).
	BySource [numSources]struct{ Objects, Bytes uint64 }
	// Conflicts counts offers refused or replaced because an object was
	// offered a different typing than it had (see the package overview).
	Conflicts int
	// Types and Sites are the sizes of the interned tables.
	Types, Sites int
	// Typing and Siting are the time Name spent on each.
	Typing, Siting time.Duration
}

// Name types every object of g and finds its allocation site, using im,
// the image of the process g was captured from (the types of a dump are
// addresses in that process: naming a dump of another process is
// meaningless and may be refused by the type proofs). It fails only when
// the image cannot be read at all; missing symbols and DWARF degrade
// names instead (im.Degraded says why).
func Name(g *graph.Graph, im *symbols.Image) (*Names, error) {
	if _, err := im.Segments(); err != nil {
		return nil, fmt.Errorf("naming: %w", err)
	}
	n := &Names{
		g: g, im: im,
		typing:   g.ObjectColumn(),
		site:     g.ObjectColumn(),
		interior: map[graph.ObjectID]uint32{},
		types:    newTypeTable(),
		sites:    []Site{{}},
		itabs:    make(symbols.ItabSet, len(g.Itabs)),
	}
	for itab, typ := range g.Itabs {
		n.itabs[uintptr(itab)] = uintptr(typ)
	}
	start := time.Now()
	n.typeObjects()
	n.stats.Typing = time.Since(start)
	start = time.Now()
	n.placeObjects()
	n.stats.Siting = time.Since(start)
	n.count()
	return n, nil
}

// count fills in the coverage figures.
func (n *Names) count() {
	s := &n.stats
	for o := range n.g.NumObjects() {
		_, size := n.g.Object(graph.ObjectID(o))
		s.Objects++
		s.Bytes += uint64(size)
		if t, src := unpack(n.typing[o]); t != Untyped {
			s.TypedObjects++
			s.TypedBytes += uint64(size)
			s.BySource[src].Objects++
			s.BySource[src].Bytes += uint64(size)
		}
		if n.site[o] != 0 {
			s.SitedObjects++
			s.SitedBytes += uint64(size)
			if n.sites[n.site[o]].Agent {
				s.AgentObjects++
				s.AgentBytes += uint64(size)
				if t, _ := unpack(n.typing[o]); t != Untyped {
					s.AgentTyped += uint64(size)
				}
			}
		}
	}
	s.Types, s.Sites = len(n.types.infos)-1, len(n.sites)-1
}

// Coverage returns the coverage figures.
func (n *Names) Coverage() Coverage { return n.stats }

// Type returns an object's type and how it was learnt; Untyped and
// SourceNone when nothing typed it.
func (n *Names) Type(o graph.ObjectID) (TypeID, Source) { return unpack(n.typing[o]) }

// Region returns an object's type and where its typed region starts
// (bytes from the object's base): the user offset (0, or 8 after a malloc
// header) unless the object was typed only through an interior pointer.
func (n *Names) Region(o graph.ObjectID) (TypeID, uint64) {
	w := n.typing[o]
	t, _ := unpack(w)
	if t == Untyped {
		return Untyped, 0
	}
	if w&interiorBit != 0 {
		return t, uint64(n.interior[o])
	}
	return t, n.userOffset(o)
}

// userOffset is where the program's pointer to o points: after the malloc
// header when o has one (a MaybeHeader object only if its header word was
// proven a type).
func (n *Names) userOffset(o graph.ObjectID) uint64 {
	f := n.g.Flags(o)
	if f&graph.Header != 0 {
		return 8
	}
	if f&graph.MaybeHeader != 0 {
		if _, src := unpack(n.typing[o]); src == SourceHeader {
			return 8
		}
	}
	return 0
}

// Layout returns the layout a TypeID stands for (the zero Layout for
// Untyped).
func (n *Names) Layout(t TypeID) symbols.Layout { return n.types.infos[t].layout }

// TypeName names a type as the UI shows it: "main.Session",
// "[]main.Session backing array", "map groups of map.group[string]*main.Session",
// "closure main.main.func1", "string bytes"; "untyped" for Untyped.
func (n *Names) TypeName(t TypeID) string { return n.types.infos[t].name }

// NumTypes is one more than the largest TypeID.
func (n *Names) NumTypes() int { return len(n.types.infos) }

// ObjectTypeName names an object's type, an untyped object by its size
// ("untyped 64 B"), an object typed only from inside by the part it
// holds ("main.Conn at +0x10").
func (n *Names) ObjectTypeName(o graph.ObjectID) string {
	t, start := n.Region(o)
	if t == Untyped {
		_, size := n.g.Object(o)
		return fmt.Sprintf("untyped %d B", size)
	}
	if start != n.userOffset(o) {
		return fmt.Sprintf("%s at +%#x", n.types.infos[t].name, start)
	}
	return n.types.infos[t].name
}
