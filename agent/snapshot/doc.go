// Package snapshot takes an analysed capture of this process and gives the
// document clients receive (heaptopv1.Snapshot): the header figures, counts
// and bytes per state, the heap tree (the dominator tree folded by type and
// allocation site, pruned to a bounded size), the object lists grouped by
// type and site, every finding with its chain from a root, the growth
// since earlier captures, and notes on what the snapshot lacks. It runs
// the pipeline that makes one (Taker: capture, graph, naming, analysis),
// one capture at a time, publishes its progress and documents on the
// Watch streams (a findings-first document when the dominator tree takes
// longer), and keeps the latest snapshot to answer Expand and Path beyond
// what the document carried.
//
// Bounds: a document is at most maxDocumentBytes encoded, whatever the
// heap (tree.go, lists.go, findings.go and document.go give each part's
// cap). What a held snapshot keeps per object is the graph's arrays, the
// names' two columns and the analysis's arrays (BENCHMARKS.md, "analysis",
// gives the bytes per object).
package snapshot
