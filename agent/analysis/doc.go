// Analysing one heap: what is alive and why, what is garbage waiting, which
// words point at memory that is gone or going, what leaks and what grows.
//
// Vertex numbering. Analysis runs on a graph of its own laid over package
// graph's, so that roots read the way a Go engineer groups them:
//
//	0                  the pseudo-root: the GC's root set as one vertex
//	1 .. 4             root groups: globals, goroutines, finalizers, runtime
//	5 .. 5+H-1         holders: one global variable (one data or bss segment
//	                   when the binary has no symbols), one goroutine (all its
//	                   frames and its closure context), one finalizer record,
//	                   one runtime root (cleanups, weak handles)
//	5+H .. 5+H+n-1     the objects, in graph.ObjectID order
//
// The pseudo-root points at the groups, a group at its holders, a holder at
// the objects its roots' words point at (a finalizer record also at the
// object it was set on), an object at its graph edges. Holders are numbered
// in the order paths prefer them (vertices.go): the program's named
// globals, the program's goroutines, other named globals, globals known by
// segment offset only, the runtime's globals and goroutines, cleanups, weak
// handles, and finalizer records last.
//
// Phases (Analyse runs 1-3, which findings need; Complete runs 4-6, which
// take longer, so a findings-first document can go out in between):
//
//  1. States and paths (reach.go): one breadth-first search from the
//     holders in the order above, in three stages, as the GC marks.
//     a. From every holder except finalizer records, plus each finalizer's
//     function: what it reaches is live. A finalizer record keeps its
//     function and the referents of the object it was set on alive, not
//     the object (gcScanFinalizer in mgcmark.go); a queued one keeps both.
//     b. From the finalizer records, over what (a) left: pending
//     finalization (the object runs its finalizer at the next GC, then
//     dies unless resurrected, and its referents with it).
//     c. From the targets of weak handles (the integer word of each
//     weak-pointer handle the graph found), over what (a) and (b) left:
//     weakly held. Everything never reached is pending reclaim: the next GC
//     frees it.
//     The search records each vertex's parent, so the chain from a root
//     to any object is a shortest one, ties broken by the holder order and
//     then by edge order: deterministic, and preferring the program's own
//     names over the runtime's.
//  2. Hidden references (hidden.go): every word the graph found holding a
//     heap-range value that the GC does not treat as a pointer, judged
//     against rules that keep the runtime's by-design integer addresses out
//     (see hidden.go for the rules and why each exists), then classified
//     by what the value points at: a free slot (dangling), a slot now
//     holding another allocation than an earlier snapshot saw there
//     (dangling, reused), a pending object (dangling soon), a goroutine's
//     stack (stack), a live object (unprotected).
//  3. Leaks (leaks.go): objects the program declared released
//     (agent.MarkReleased) that are still reached.
//  4. Census and growth (census.go, growth.go): objects per state, type
//     and allocation site; the live ones compared with the snapshots before.
//  5. Dominators (dominators.go): the semi-NCA algorithm of Georgiadis,
//     over the vertices phase 1 reached in stages (a) and (b): a depth-first
//     search numbers them (the DFS numbers index every array), semidominators
//     come from Lengauer and Tarjan's EVAL with path compression (simple
//     LINK), and each immediate dominator is the nearest common ancestor,
//     in the DFS tree, of the vertex's parent and its semidominator.
//     Retained sizes follow in one pass in reverse DFS order; the census
//     rows get theirs from a walk of the tree by DFS number; the tree's
//     children are stored by decreasing retained size.
//  6. Suspects (suspects.go), in the manner of Eclipse MAT's FindLeaksQuery:
//     a vertex just below the groups retaining at least 10% of the heap,
//     and its accumulation point, found by descending to the biggest child
//     while it keeps at least 70% of its parent's retained size.
//
// References:
//
//   - T. Lengauer, R. E. Tarjan, "A fast algorithm for finding dominators in
//     a flowgraph", ACM TOPLAS 1(1), 1979 (semidominators, EVAL, LINK).
//   - L. Georgiadis, "Linear-time algorithms for dominators and related
//     problems", PhD thesis, Princeton University, 2005, and L. Georgiadis,
//     R. E. Tarjan, R. F. Werneck, "Finding dominators in practice", JGAA
//     10(1), 2006 (semi-NCA).
//   - K. D. Cooper, T. J. Harvey, K. Kennedy, "A simple, fast dominance
//     algorithm", 2001: the slow iterative reference the tests compare with.
//   - Eclipse Memory Analyzer, org.eclipse.mat.inspections.FindLeaksQuery:
//     threshold_percent 10, big_drop_ratio 0.7.
//
// Package analysis takes a graph (package graph), what naming learnt about
// it (Names) and what earlier snapshots left (Memory), and gives each
// object's state and shortest path from a root, the judged hidden
// references, the leaks, the growth per type and site, then the dominator
// tree with retained sizes and the suspects. It never reads the heap
// itself: everything comes from the dump.
package analysis
