package heapdump

import "fmt"

// Tag is a record's tag, the first varint of every record. The values are
// runtime/heapdump.go's tag constants.
type Tag uint64

const (
	TagEOF             Tag = 0
	TagObject          Tag = 1
	TagOtherRoot       Tag = 2 // never written by go1.26; rejected
	TagType            Tag = 3
	TagGoroutine       Tag = 4
	TagStackFrame      Tag = 5
	TagParams          Tag = 6
	TagFinalizer       Tag = 7
	TagItab            Tag = 8
	TagOSThread        Tag = 9
	TagMemStats        Tag = 10
	TagQueuedFinalizer Tag = 11
	TagData            Tag = 12
	TagBSS             Tag = 13
	TagDefer           Tag = 14
	TagPanic           Tag = 15
	TagMemProf         Tag = 16
	TagAllocSample     Tag = 17
)

var tagNames = [...]string{
	TagEOF:             "eof",
	TagObject:          "object",
	TagOtherRoot:       "other root",
	TagType:            "type",
	TagGoroutine:       "goroutine",
	TagStackFrame:      "stack frame",
	TagParams:          "params",
	TagFinalizer:       "finalizer",
	TagItab:            "itab",
	TagOSThread:        "os thread",
	TagMemStats:        "memstats",
	TagQueuedFinalizer: "queued finalizer",
	TagData:            "data",
	TagBSS:             "bss",
	TagDefer:           "defer",
	TagPanic:           "panic",
	TagMemProf:         "memprof",
	TagAllocSample:     "alloc sample",
}

func (t Tag) String() string {
	if t < Tag(len(tagNames)) {
		return tagNames[t]
	}
	return fmt.Sprintf("unknown tag %d", uint64(t))
}

// The records below are filled by Parse and ParseReader and handed to a
// Visitor; see Visitor for how long they live.

// Params is the dump's first record: the writer's architecture, Go version
// and heap arena range.
type Params struct {
	BigEndian bool
	PtrSize   uint64
	// ArenaStart and ArenaEnd bound every heap arena (64 MiB each) in use;
	// the range may contain holes. Heap addresses lie inside it.
	ArenaStart, ArenaEnd uint64
	GOARCH               string
	GoVersion            string // runtime.Version() of the writer, e.g. "go1.26.8"
	NCPU                 uint64 // CPUs at process start
}

// Type is a type descriptor reached from an itab. Name is pkgpath.Name for
// named types, else the type's string. Indirect is the dumper's
// `!IsDirectIface() || Pointers()`; it is true for nearly every type and
// says little.
type Type struct {
	Addr, Size uint64
	Name       string
	Indirect   bool
}

// Itab pairs an itab's address with its concrete type's descriptor.
type Itab struct {
	Addr, Type uint64
}

// Object is one allocated slot of the heap: Addr is the slot base,
// Contents the whole slot, Pointers the byte offsets (ascending, each a
// whole word inside Contents) of the words the GC treats as pointers.
// See the package comment for malloc headers and bogus tail slots.
type Object struct {
	Offset   int64 // where the record starts, from the dump's first byte
	Addr     uint64
	Contents []byte
	Pointers []uint64
}

// Goroutine is a goroutine that is not dead. SP is where the dumped stack
// starts (syscallsp for a goroutine in a system call, else sched.sp).
type Goroutine struct {
	Addr       uint64 // the g
	SP         uint64
	ID         uint64 // goid
	GoPC       uint64 // return PC of the go statement that created it
	Status     uint64 // runtime _G* status: 1 runnable, 3 syscall, 4 waiting (2 in a race, see package capture)
	System     bool   // a runtime goroutine (isSystemGoroutine)
	Background bool   // always false in go1.26
	WaitSince  uint64 // nanotime when it was first seen blocked by a GC, or 0
	WaitReason string // waitReason.String(), "" when not waiting
	Ctxt       uint64 // sched.ctxt: closure context register, a root
	M          uint64 // the m running it, or 0
	Defer      uint64 // first _defer, or 0
	Panic      uint64 // first _panic, or 0
}

// StackFrame is one frame of the goroutine whose record came last; frames
// come innermost first (Depth 0). Contents is the frame's memory [SP, SP+len)
// and Pointers the byte offsets from SP of the words its stack maps hold as
// pointers at PC.
type StackFrame struct {
	Offset   int64 // where the record starts, from the dump's first byte
	SP       uint64
	Depth    uint64
	ChildSP  uint64 // SP of the frame it called, 0 for the innermost
	Contents []byte
	Entry    uint64 // function entry PC
	PC       uint64 // a return address except for the innermost frame
	ContPC   uint64 // where it resumes, 0 if it will not
	Func     string // "unknown function" when the runtime has no name
	Pointers []uint64
}

// Defer is a pending defer record of the goroutine whose record came last.
type Defer struct {
	Addr, G, SP, PC uint64
	FnAddr          uint64 // funcval
	FnPC            uint64 // 0 for open-coded defers without a funcval
	Link            uint64
}

// Panic is an active panic of the goroutine whose record came last. The
// dumper's fifth field (once the defer) is always 0 and is not kept.
type Panic struct {
	Addr, G          uint64
	ArgType, ArgData uint64 // the panic value, an eface
	Link             uint64
}

// OSThread is an M.
type OSThread struct {
	Addr, ID, ProcID uint64
}

// Segment is the first module's data (TagData) or bss (TagBSS) section:
// Addr its start, Contents its bytes, Pointers the offsets of its pointer
// words (gcdatamask / gcbssmask). noptrdata and noptrbss are not dumped.
type Segment struct {
	Offset   int64 // where the record starts, from the dump's first byte
	Tag      Tag
	Addr     uint64
	Contents []byte
	Pointers []uint64
}

// Finalizer is a finalizer set with runtime.SetFinalizer (Queued false), or
// one queued to run (Queued true). Obj is the pointer the program passed,
// which is not the slot base for objects with a malloc header.
type Finalizer struct {
	Queued  bool
	Obj     uint64
	FnAddr  uint64 // the finalizer's funcval (a heap object when it is a closure)
	FnPC    uint64
	FinType uint64 // *_type of the finalizer's parameter
	ObjType uint64 // *ptrtype of Obj
}

// MemStats mirrors runtime.MemStats as read inside the dump's own
// stop-the-world window (readmemstats_m, before the dump is written); the
// order of the fields is heapdump.go's dumpmemstats.
type MemStats struct {
	Alloc, TotalAlloc, Sys, Lookups, Mallocs, Frees uint64
	HeapAlloc, HeapSys, HeapIdle, HeapInuse         uint64
	HeapReleased, HeapObjects                       uint64
	StackInuse, StackSys, MSpanInuse, MSpanSys      uint64
	MCacheInuse, MCacheSys, BuckHashSys, GCSys      uint64
	OtherSys, NextGC, LastGC, PauseTotalNs          uint64
	PauseNs                                         [256]uint64
	NumGC                                           uint64
}

// MemProf is a memory-profile bucket: an allocation stack. Bucket is the
// bucket's address, the id AllocSample records refer to.
type MemProf struct {
	Bucket uint64
	Size   uint64 // slot size of the allocations (malloc header included)
	Frames []Frame
	Allocs uint64 // as of the last completed GC cycle
	Frees  uint64
}

// Frame is one frame of a MemProf stack, innermost first. For a PC the
// runtime cannot resolve, Func is "(0x…)", File "?" and Line 0.
type Frame struct {
	Func, File string
	Line       uint64
}

// AllocSample ties an object (the program's pointer, not the slot base) to
// the MemProf bucket of its allocation.
type AllocSample struct {
	Addr, Bucket uint64
}

// Visitor receives the records of a dump in file order. A non-nil error
// stops Parse or ParseReader, which returns it unchanged.
//
// A record and every slice and string in it (Contents, Pointers, type and
// function names, GOARCH and GoVersion, wait reasons, MemProf's Frames and
// their strings) is valid only during the Visitor call: the record structs
// and the Pointers and Frames slices are reused for the next record.
// Contents and strings alias the input without a copy. With Parse they
// alias the dump buffer and stay valid as long as it does (a Reader over
// the same buffer finds them again by Offset). With ParseReader they alias
// a window that the next read of the stream overwrites, while the string
// still claims to be immutable: a visitor that keeps any of them past its
// call must copy it (bytes.Clone, strings.Clone), and one that does not
// keep them costs nothing.
type Visitor interface {
	Params(*Params) error
	Type(*Type) error
	Itab(*Itab) error
	Object(*Object) error
	Goroutine(*Goroutine) error
	StackFrame(*StackFrame) error
	Defer(*Defer) error
	Panic(*Panic) error
	OSThread(*OSThread) error
	Segment(*Segment) error
	Finalizer(*Finalizer) error
	MemStats(*MemStats) error
	MemProf(*MemProf) error
	AllocSample(*AllocSample) error
}

// NopVisitor ignores every record; embed it to implement only the methods
// you need.
type NopVisitor struct{}

func (NopVisitor) Params(*Params) error           { return nil }
func (NopVisitor) Type(*Type) error               { return nil }
func (NopVisitor) Itab(*Itab) error               { return nil }
func (NopVisitor) Object(*Object) error           { return nil }
func (NopVisitor) Goroutine(*Goroutine) error     { return nil }
func (NopVisitor) StackFrame(*StackFrame) error   { return nil }
func (NopVisitor) Defer(*Defer) error             { return nil }
func (NopVisitor) Panic(*Panic) error             { return nil }
func (NopVisitor) OSThread(*OSThread) error       { return nil }
func (NopVisitor) Segment(*Segment) error         { return nil }
func (NopVisitor) Finalizer(*Finalizer) error     { return nil }
func (NopVisitor) MemStats(*MemStats) error       { return nil }
func (NopVisitor) MemProf(*MemProf) error         { return nil }
func (NopVisitor) AllocSample(*AllocSample) error { return nil }
