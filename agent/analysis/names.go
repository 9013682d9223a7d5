package analysis

import (
	"fmt"
	"path/filepath"

	"github.com/heaptop/heaptop/agent/graph"
	"github.com/heaptop/heaptop/agent/symbols"
)

// Names is what analysis needs from package naming: what an object is,
// where it was allocated, how a holder's type lays out a word, and which
// global variable holds an address. Its methods are called from one
// goroutine at a time.
type Names interface {
	// ObjectType is o's type (0 when nothing typed it); TypeName names a
	// type as the UI shows it ("main.Session", "[]uintptr backing array").
	ObjectType(o graph.ObjectID) uint32
	TypeName(t uint32) string
	// ObjectSite is o's allocation site (0 when it was not sampled); Site
	// says where it is.
	ObjectSite(o graph.ObjectID) uint32
	Site(s uint32) Site
	// Internal reports whether o is runtime machinery of a container (a
	// map's directory, tables or groups), which a suspect's accumulation
	// point climbs out of to the container itself.
	Internal(o graph.ObjectID) bool
	// Word is the word at byte offset off of holder v (an object, or a
	// data, bss, noptr or frame root) as the holder's type lays it out; ok
	// is false when the holder's type is not known at that offset.
	Word(v graph.Vertex, off uint64) (h symbols.Hop, ok bool)
	// Global names the global variable holding addr and where it starts;
	// ok is false without symbols.
	Global(addr uint64) (name string, start uint64, ok bool)
	// TypePackage is the import path of the named type a type is or holds
	// (y.T, *y.T, []y.T backing arrays: y's path), "" when there is none.
	TypePackage(t uint32) string
}

// Site is a source position: where an object was allocated.
type Site struct {
	Function string
	File     string
	Line     int
}

// String is "main.newEntry at cache.go:42", "" for the zero Site.
func (s Site) String() string {
	if s.File == "" {
		return ""
	}
	return fmt.Sprintf("%s at %s:%d", s.Function, filepath.Base(s.File), s.Line)
}

// noNames is the Names of an analysis without naming: nothing is typed,
// sited or named, so hidden references are counted but never judged.
type noNames struct{}

func (noNames) ObjectType(graph.ObjectID) uint32              { return 0 }
func (noNames) TypeName(uint32) string                        { return "" }
func (noNames) ObjectSite(graph.ObjectID) uint32              { return 0 }
func (noNames) Site(uint32) Site                              { return Site{} }
func (noNames) Internal(graph.ObjectID) bool                  { return false }
func (noNames) Word(graph.Vertex, uint64) (symbols.Hop, bool) { return symbols.Hop{}, false }
func (noNames) Global(uint64) (string, uint64, bool)          { return "", 0, false }
func (noNames) TypePackage(uint32) string                     { return "" }

// typeKey is how objects are grouped by type: naming's type, and for
// untyped objects their size ("untyped 64 B").
type typeKey struct {
	t    uint32
	size uint32 // only when t == 0
}

func (a *Analysis) typeKeyOf(o graph.ObjectID) typeKey {
	if t := a.names.ObjectType(o); t != 0 {
		return typeKey{t: t}
	}
	_, size := a.g.Object(o)
	return typeKey{size: size}
}

func (a *Analysis) typeName(k typeKey) string {
	if k.t == 0 {
		return fmt.Sprintf("untyped %d B", k.size)
	}
	return a.names.TypeName(k.t)
}

// ObjectTypeName names o's type as the UI shows it.
func (a *Analysis) ObjectTypeName(o graph.ObjectID) string { return a.typeName(a.typeKeyOf(o)) }
