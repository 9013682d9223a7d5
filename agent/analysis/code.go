package analysis

import (
	"runtime/debug"
	"strings"
)

// Code says whose code a package is: the program's, the standard
// library's, the runtime's or this agent's. Roots are grouped by it and
// hidden references judged by it (hidden.go).
type Code uint8

const (
	// UserCode: the program's main module or a module it depends on.
	UserCode Code = iota
	// StdCode: the standard library (vendored golang.org/x packages
	// included).
	StdCode
	// RuntimeCode: package runtime and internal/runtime/...
	RuntimeCode
	// AgentCode: this agent's packages.
	AgentCode
)

// agentModule is the agent's module path; its packages are the agent's
// own code wherever the program imports them from.
const agentModule = "github.com/heaptop/heaptop/agent"

// Packages classifies import paths. The zero value knows no module and
// falls back on the import path's shape (a standard package's first path
// element has no dot).
type Packages struct {
	modules []string // the program's module paths
}

// ProgramPackages reads this program's modules from its build info.
func ProgramPackages() Packages {
	var p Packages
	if bi, ok := debug.ReadBuildInfo(); ok {
		p.modules = append(p.modules, bi.Main.Path)
		for _, d := range bi.Deps {
			p.modules = append(p.modules, d.Path)
		}
	}
	return p
}

// Of classifies the package with import path pkg.
func (p Packages) Of(pkg string) Code {
	switch {
	case within(pkg, agentModule):
		return AgentCode
	case pkg == "runtime" || within(pkg, "internal/runtime"):
		return RuntimeCode
	case pkg == "main" || pkg == "command-line-arguments" || pkg == "":
		return UserCode
	}
	for _, m := range p.modules {
		if m != "" && within(pkg, m) {
			return UserCode
		}
	}
	first, _, _ := strings.Cut(pkg, "/")
	if len(p.modules) == 0 && strings.Contains(first, ".") {
		return UserCode
	}
	return StdCode
}

// OfSymbol classifies the package of a function or variable name as the
// runtime and the linker spell them: "net/http.(*conn).serve",
// "main.cache", "github.com/x/y.F[...].func1".
func (p Packages) OfSymbol(name string) Code { return p.Of(symbolPackage(name)) }

// within reports whether pkg is module m or one of its packages.
func within(pkg, m string) bool {
	return pkg == m || (len(pkg) > len(m) && pkg[len(m)] == '/' && pkg[:len(m)] == m)
}

// symbolPackage is the import path part of a symbol name.
func symbolPackage(name string) string {
	if i := strings.IndexByte(name, '['); i >= 0 {
		name = name[:i]
	}
	slash := strings.LastIndexByte(name, '/')
	if dot := strings.IndexByte(name[slash+1:], '.'); dot >= 0 {
		return name[:slash+1+dot]
	}
	return ""
}
