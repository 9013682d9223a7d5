// Typing the heap: how every object gets its Go type.
//
// The dump gives objects as addresses, sizes and pointer words; a Go type
// is known first-hand for a few of them only. Naming learns the rest by
// propagation, the way the garbage collector would see it if it kept
// types: a word whose type is known says what its pointer points at.
//
//  1. Seeds, each a typed region (a layout and its start offset in the
//     object), in this order:
//     a. Header: the malloc header word of small scan objects over 512 B
//     (and the 32 KiB objects that may have one), proven by
//     symbols.Image.HeaderType. The allocator wrote it: it is never
//     replaced.
//     b. Interface: every interface type word the graph found (itab or
//     *_type word before a data pointer), proven by
//     symbols.Image.InterfaceType, types the data word's target through
//     symbols.InterfaceTarget: the boxed value, or what a pointer-shaped
//     dynamic type points at.
//     c. Finalizer: the *T a finalizer was set on (its ObjType).
//     d. Global: each pointer word of data and bss, typed by the DWARF type
//     of the global variable holding it (symbols.Image.Global).
//     e. Local: each pointer slot of a stack frame, typed by the DWARF type
//     of the local variable or parameter living there at the frame's pc
//     (symbols.Image.Local), unless two variables share the slot.
//  2. Propagation: a breadth-first worklist over objects, in a fixed order
//     (seeds in the order above, each list in graph order), so the result
//     is the same for the same graph. Processing an object walks its edges;
//     the layout walker (symbols.Layout.Word) says what the word at each
//     edge's offset points at: struct fields, array and slice elements,
//     string bytes, swiss-map directory, tables and groups (a map's
//     dirPtr target is a directory when it has a pointer at offset 0, a
//     group otherwise), map keys and values, channel buffers, closure
//     variables (named from DWARF through the closure's code word). The
//     target is offered that layout, starting where the pointer points in
//     it (EdgeTargetOffset): a pointer into a slice's backing array types
//     the array from its first element. Interface data words are left to
//     seed 1b. An object whose typing changes is processed again.
//  3. Conflicts: an object offered two typings keeps the better one by
//     this rule, in order:
//     - a header typing is final;
//     - a typing must fit: its start plus one value (one element for an
//     array) lies within the slot, and its type has pointers exactly when
//     the object does (the allocator puts pointerful types, and only
//     them, in scanned spans; pointer-free regions at interior offsets of
//     scanned objects are fine);
//     - a typing at the object's start (its user pointer: base, base+8
//     after a header) beats an interior one (a pointer to a field or an
//     element names a part, not the allocation);
//     - then the one covering more of the slot (an array of n elements
//     covers n values; an array of one element covers as much as a
//     value, and then the value wins);
//     - then the stronger source: interface, finalizer, global, local,
//     propagated, site (all but site name a static or dynamic type
//     exactly; the order only breaks ties);
//     - then the first offered.
//     A typing replaced after it was propagated leaves the typings it gave
//     to targets in place, where they still compete by the same rule; this
//     is rare (an object reached both whole and through a part) and can
//     leave a target typed from the replaced typing. Tiny-allocator blocks
//     (16-byte pointer-free objects) hold several values: the first at the
//     block's start names it, and others are not counted as conflicts.
//  4. Allocation stacks (a guess, SourceSite): when every object of one
//     memory-profile bucket that evidence typed (at its start) has the
//     same type, the untyped objects of that bucket get it too, and their
//     targets are typed from them, as guesses. One allocation statement
//     allocates one type, so this mostly types garbage that was typed
//     while it was reachable (evicted entries, a growing slice's old
//     arrays); generic code shared between pointer shapes, or reflect.New
//     called from one place, can allocate several types from one stack.
//  5. What nothing types stays untyped ("untyped 64 B"), named by its
//     size and allocation site.
//
// Allocation sites come from the dump's allocation samples: the sample's
// memory-profile bucket is a stack, innermost first. An allocation with an
// agent frame on its stack is the agent's own (Site.Agent), named by the
// innermost agent frame; any other is the program's, named by the first
// frame outside the runtime (runtime.*, internal/runtime/*, and code in
// GOROOT/src/runtime under other names, such as reflect.unsafe_New). The
// dumper names every frame by its physical function and by the file:line
// of the innermost inlined call at its pc, so an allocation in a function
// inlined into its caller reads as the caller with the callee's
// file:line: the file:line is right, and Site.Inlined says when the
// function is the one the allocating code was inlined into.
//
// Package naming takes an object graph (package graph) and the running
// executable (package symbols) and gives every object a Go type (a compact
// TypeID with how it was learnt) and an allocation site (a compact SiteID),
// every edge a label (how its holder holds it: a global, a frame slot, a
// field, an index, a map key or value, an interface, a closure variable, a
// finalizer), every root a name (the global with its field path, or the
// goroutine, frame function and file:line with inlining, creation site and
// wait reason), and the coverage: the share of objects and bytes typed and
// with a site.
package naming
