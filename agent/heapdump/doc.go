// The heap dump format of go1.26.
//
// runtime/debug.WriteHeapDump writes, while the world is stopped, one
// header and a sequence of records. This file states what go1.26.8's
// runtime/heapdump.go really writes (read from that source and checked
// against real dumps by this package's tests), and the gaps of that dumper
// that later stages must make up for. Integers are unsigned varints
// (encoding/binary.Uvarint); a bool is a varint 0 or 1; a string or a
// memory range is a varint length followed by that many raw bytes.
//
// Grammar (one record = varint tag, then its fields in the order given):
//
//	dump       = header params itabs objects goroutines threads roots memstats profile eof
//	header     = "go1.7 heap dump\n"                                 (16 bytes, no length)
//	params     = 6  bigEndian:bool ptrSize arenaStart arenaEnd goarch:string goVersion:string ncpu
//	itabs      = { [type] itab }                                     (a type at most once per itab;
//	type       = 3  addr size name:string indirect:bool               it may repeat across itabs)
//	itab       = 8  addr typeAddr
//	objects    = { 1 addr contents:mem fields }
//	goroutines = { goroutine { frame } { defer } { panic } }
//	goroutine  = 4  gAddr sp goid gopc status system:bool background:bool
//	                waitSince waitReason:string ctxt mAddr deferAddr panicAddr
//	frame      = 5  sp depth childSP contents:mem entryPC pc contPC funcName:string fields
//	defer      = 14 addr gAddr sp pc fnAddr fnPC link
//	panic      = 15 addr gAddr argType argData 0 link
//	threads    = { 9 mAddr id procID }
//	roots      = data bss { finalizer } { queuedFin }
//	data, bss  = 12 | 13, then  start contents:mem fields
//	finalizer  = 7  obj fnAddr fnPC finType objType
//	queuedFin  = 11 obj fnAddr fnPC finType objType
//	memstats   = 10 24 × counter, 256 × pauseNs, numGC                (the runtime.MemStats fields
//	profile    = { 16 bucket size nstk { func:string file:string line } allocs frees }   in that order)
//	             { 17 addr bucket }
//	fields     = { 1 offset } 0                                      (pointer words, byte offsets
//	eof        = 0                                                    from the start of contents)
//
// What the grammar does not show, verified in go1.26.8's source:
//
//   - Tag 2 (other root) has a writer, dumpotherroot, with no caller: it is
//     never written, and this parser rejects it. Field kinds 2 and 3 (iface,
//     eface) are never written either. The goroutine's background bool is
//     always false, the panic's fifth field always 0.
//   - The header has said go1.7 since 2016 while the content drifted: the
//     params record's goVersion is what identifies the format. Parse accepts
//     go1.26 and go1.26.N only.
//   - Type records are written only for the concrete types of itabs
//     (dumptype is called from itab_callback alone), through a 256×4 cache
//     that can overflow: a type record may repeat. Their names are
//     pkgpath + "." + name whenever the type has an uncommon section with
//     a package path, so an unnamed pointer type with methods (*T, the
//     usual concrete type of an interface) is named "pkgpath." alone.
//   - An interface value's first word (itab or *_type) is not a pointer in
//     the GC bitmap, so it is not a field: only the data word is.
//   - An object record is one allocation slot: addr is the slot base and
//     contents is the whole slot (span.elemsize bytes, so slack and, for
//     large objects, the rounding up to 8 KiB pages are included). Fields
//     come from the same pointer bitmap the GC uses; they describe the type,
//     not which words are live.
//   - Objects larger than 512 bytes that contain pointers and come from a
//     size class (up to 32 KiB) start with an 8-byte malloc header holding
//     their *_type: the user's pointer is addr+8, the header word is in
//     contents but is not a field. Large objects (own span) keep their type
//     in the span, which is not dumped.
//   - dumpobjs walks slot indexes up to npages*8192/elemsize but knows the
//     free ones only below span.nelems. With Green Tea (the default GC in
//     go1.26) spans of 16..512-byte objects reserve their last 128 bytes for
//     inline mark bits, and spans of pointerful objects of at most 512 bytes
//     another 128 bytes for the pointer bitmap: the slots covering those
//     reserves are dumped as if they were objects. They are not; the graph
//     package drops them.
//   - Finalizer, queued finalizer and alloc-sample addresses are the user's
//     pointer (addr+8 for a header object, an address inside a 16-byte block
//     for a tiny allocation), not the slot base.
//   - Roots are incomplete compared with the GC's markroot: only the first
//     module's data and bss (not noptrdata, noptrbss or other modules), no
//     cleanups (runtime.AddCleanup), no weak-pointer handles, no stack
//     objects. A frame's fields are its stack maps at the frame's PC, not
//     the conservative scan the GC does for frames interrupted by async
//     preemption. A frame stopped in its function's prologue (no stack map
//     at that PC) gets the function's first locals map anyway, placed from
//     a frame not yet allocated: its offsets can fall below SP (seen as
//     -8); the parser drops fields outside a frame's memory.
//   - Writes to the file descriptor are not checked: a short write, EAGAIN
//     or ENOSPC silently truncates or corrupts the dump. Lengths are written
//     with int32 sizes, so a single object of 2 GiB or more is corrupt.
//   - A goroutine status other than dead, runnable, syscall or waiting makes
//     the dumper throw and kill the process that writes the dump; see
//     package capture, which never lets that process be the user's.
//
// Package heapdump takes the bytes WriteHeapDump wrote (go1.26), whole
// (Parse) or as a stream while they are written (ParseReader), and gives
// them back as typed records, one call per record, in file order; it never
// builds a graph. It never panics: truncated, corrupt or foreign input is an
// *Error naming the byte offset, the record and what was expected. Every
// length is checked against the bytes left before anything is sliced or
// allocated.
package heapdump
