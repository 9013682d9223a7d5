package analysis

// Suspects, after Eclipse MAT's FindLeaksQuery: the vertices just below the
// groups (a holder, or an object several holders or groups share) that
// retain at least suspectShare of the reachable heap, each with its
// accumulation point: from the suspect, step to the child retaining most
// while it keeps at least bigDropRatio of its parent's retained size; where
// the retained size drops more, the memory has accumulated in many small
// pieces. An accumulation point inside a container's runtime machinery (a
// map's directory or tables) is reported as the container it belongs to,
// the last step before the machinery on the way down.

const (
	// suspectShare: MAT's threshold_percent default, 10%.
	suspectShare = 0.10
	// bigDropRatio: MAT's big_drop_ratio default.
	bigDropRatio = 0.7
)

// SuspectRef is a suspect: Vertex retains Share of the reachable heap, and
// Path leads down the dominator tree from it to its accumulation point
// (Path[0] is Vertex, the last element the accumulation point).
type SuspectRef struct {
	Vertex Vertex
	// Parent is the suspect's parent in the dominator tree: a group, or
	// the pseudo-root for an object several groups share.
	Parent Vertex
	Share  float64
	Path   []Vertex
}

// Accumulation is the suspect's accumulation point.
func (s SuspectRef) Accumulation() Vertex { return s.Path[len(s.Path)-1] }

// AgentOwned reports whether v is this agent's own memory: one of its
// global variables, or an object of one of its types (its symbol tables,
// snapshots, server). The agent is never its own suspect, and the UI labels
// what it holds so that the tool's cost is seen as such.
func (a *Analysis) AgentOwned(v Vertex) bool {
	if o, ok := a.VertexObject(v); ok {
		return a.pkgs.Of(a.names.TypePackage(a.names.ObjectType(o))) == AgentCode
	}
	h, ok := a.Holder(v)
	return ok && h.Kind == GlobalHolder && a.pkgs.OfSymbol(h.Name) == AgentCode
}

// findSuspects finds the suspects (phase 6).
func (a *Analysis) findSuspects() {
	total := a.Retained(PseudoRoot)
	if total == 0 {
		return
	}
	var candidates, parents []Vertex
	for _, c := range a.Children(PseudoRoot) {
		if c >= firstHolder {
			candidates, parents = append(candidates, c), append(parents, PseudoRoot)
			continue
		}
		for _, k := range a.Children(c) {
			candidates, parents = append(candidates, k), append(parents, c)
		}
	}
	for i, c := range candidates {
		r := a.Retained(c)
		if float64(r) < suspectShare*float64(total) || a.AgentOwned(c) {
			continue
		}
		path := []Vertex{c}
		for cur := c; ; {
			kids := a.Children(cur)
			if len(kids) == 0 || float64(a.Retained(kids[0])) < bigDropRatio*float64(a.Retained(cur)) {
				break
			}
			cur = kids[0]
			path = append(path, cur)
		}
		for len(path) > 1 {
			o, ok := a.VertexObject(path[len(path)-1])
			if !ok || !a.names.Internal(o) {
				break
			}
			path = path[:len(path)-1]
		}
		a.Suspects = append(a.Suspects, SuspectRef{Vertex: c, Parent: parents[i], Share: float64(r) / float64(total), Path: path})
	}
}
