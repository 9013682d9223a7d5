// Package symbols takes addresses and words of the running process — data and
// bss offsets, code PCs, malloc-header and interface type words, stack-frame
// offsets — and gives the names a Go engineer reads: the global (and the field
// path inside it) that holds a word, a function and file:line with inlining
// expanded, the local variable of a frame slot, the Go type behind a type word
// (a reflect.Type, only once the word is proven to be a type descriptor), and
// the field path and pointee type of any word inside a typed object, the swiss
// map, channel and closure internals of this Go version included.
//
// # Sources and what each costs
//
// The agent lives inside its target, so the binary is /proc/self/exe (the
// inode the kernel mapped, even if the file on disk was replaced):
//
//  1. Segment bounds and the load slide (cheap, first use): the linker-defined
//     runtime.text/etext, rodata/erodata, types/etypes, noptrdata/enoptrdata,
//     data/edata, bss/ebss, noptrbss/enoptrbss symbols (cmd/link
//     internal/ld/symtab.go, data.go in go1.26.8), or the section headers when
//     the symbol table is stripped. The slide is AT_ENTRY from
//     /proc/self/auxv minus the ELF entry point, so PIE builds work.
//  2. ELF .symtab (first use): names of data/bss/noptr globals.
//  3. DWARF (first use that needs it; never at agent Start): the type of each
//     global (DW_TAG_variable with DW_OP_addr), local variables and
//     parameters of a frame (DW_AT_location: exprloc or DWARF 5 location
//     lists), closure variables (DW_AT_go_closure_offset, 0x2907), and the
//     runtime type of each DWARF type (DW_AT_go_runtime_type, 0x2904). In
//     go1.26.8 that attribute holds the descriptor's offset from
//     runtime.types (an R_ADDROFF relocation), not its address, and 0 when
//     the descriptor was not kept; types without one (an array no code
//     converts to an interface, a global's anonymous struct) are walked
//     through DWARF members until a type that has one.
//  4. The runtime's own pclntab (never stripped): runtime.CallersFrames.
//
// A binary built with -ldflags=-s has neither .symtab nor DWARF; -w drops
// DWARF only. Naming degrades to segment offsets ("bss+0x1a40") or to symbol
// offsets ("main.table+0x38"), and Image.Degraded says why.
//
// # The fatal invariant
//
// A word is turned into a reflect.Type only inside Image.TypeAt, which first
// proves the word is a type descriptor the compiler emitted into this
// module's type data [runtime.types, runtime.etypes): range, alignment, the
// internal/abi.Type header, and every type, name and slice the descriptor
// reaches, checked before any reflect method runs. A wrong guess would not be a
// panic but a fatal runtime throw ("runtime: name offset out of range") or a
// fault in the host process. Types made at run time by reflect (StructOf,
// PointerTo, ...) live in the heap and are refused, as are types of other
// modules (plugins).
//
// # What is verified, and where
//
// Every layout this package mirrors (internal/abi.Type and its kind-specific
// extensions, abi.ITab, internal/runtime/maps.Map and table, runtime.hchan)
// is checked against the DWARF the compiler emitted for those very types in
// the test binary (TestImageRuntimeLayoutsMatchDWARF), so a Go upgrade that
// moves a field fails a test instead of misnaming the heap. Only 64-bit
// little-endian Linux is supported, and only amd64 is tested (frame offsets
// and the test programs' frame-pointer helper are amd64's).
//
// Tests plant what they name in this package's test files and run inside
// rebuilt copies of the test binary (default, PIE, -s -w; see
// image_test.go), because `go test` links the binary it runs with -s -w.
package symbols
