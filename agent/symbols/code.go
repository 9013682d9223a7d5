package symbols

import (
	"fmt"
	"path/filepath"
	"runtime"
)

// Which instruction a frame's PC names, verified against go1.26.8
// src/runtime/traceback.go and symtab.go:
//
//   - A frame at depth > 0 holds a return address: the call is the
//     instruction before it. So does the depth-0 frame of every goroutine the
//     heap dump can see: a parked goroutine's sched.pc is saved by mcall from
//     its return address inside gopark, a goroutine in a syscall reports
//     syscallpc (getcallerpc in entersyscall), and gopc of a goroutine is
//     getcallerpc in newproc, the return address of the `go` statement.
//   - A goroutine that was created but never ran has sched.pc == the entry of
//     its function; runtime.CallersFrames does not back up a pc equal to the
//     entry, so the same rule names the function's first line.
//   - The caller of an injected call holds the exact pc where a signal
//     stopped it: the frame below runtime.asyncPreempt (async preemption),
//     runtime.sigpanic (a fault) or runtime.debugCallV2. The runtime's own
//     unwinder sets unwindTrap for exactly these three (isInjectedCall) and
//     then does not subtract one (unwinder.symPC).
//
// runtime.CallersFrames always subtracts one from a pc above the entry, so
// Frames passes an exact pc as pc+1.

// PCKind says which instruction a frame's pc names.
type PCKind uint8

const (
	// ReturnPC: pc is a return address; the instruction of interest is the
	// call before it.
	ReturnPC PCKind = iota
	// ExactPC: pc is the instruction itself (a frame stopped by a signal).
	ExactPC
)

func (k PCKind) String() string {
	if k == ExactPC {
		return "exact pc"
	}
	return "return pc"
}

// FramePCKind classifies the pc of a stack frame from the function of the
// frame it called (its callee, the frame one depth closer to the top of the
// stack; "" for the innermost frame).
func FramePCKind(calleeFunction string) PCKind {
	switch calleeFunction {
	case "runtime.asyncPreempt", "runtime.sigpanic", "runtime.debugCallV2":
		return ExactPC
	}
	return ReturnPC
}

// A Frame is one source-level frame: a physical frame expands into the
// functions inlined at its pc, innermost first.
type Frame struct {
	Function string // "main.worker", as the runtime prints it (generic shapes shown as [...])
	File     string // absolute path as compiled
	Line     int
	Entry    uintptr // entry of the physical function the code belongs to
	Inlined  bool    // this function was inlined into the next frame
}

// String is "main.worker at main.go:33".
func (f Frame) String() string {
	return fmt.Sprintf("%s at %s:%d", f.Function, filepath.Base(f.File), f.Line)
}

// Frames resolves a code pc to its source frames, innermost first, with
// inlined calls expanded; nil if pc is not in Go code. It uses the runtime's
// own pclntab, so it works on stripped binaries too.
func Frames(pc uintptr, kind PCKind) []Frame {
	if pc == 0 {
		return nil
	}
	if kind == ExactPC {
		pc++
	}
	// CallersFrames expands the inlined frames of one pc only while more pcs
	// follow it (symtab.go: the loop in Frames.Next checks len(ci.callers) > 0
	// before inserting the implied outer frames; TestImageFramesInlined
	// checks this still holds). A trailing 0 makes it expand them; 0 is in no
	// function, so it yields no frame of its own (only a cgo symbolizer
	// registered with runtime.SetCgoTraceback would be asked about it). We
	// stop at the physical frame in any case.
	it := runtime.CallersFrames([]uintptr{pc, 0})
	var out []Frame
	for {
		fr, more := it.Next()
		if fr.PC == 0 && fr.Function == "" {
			break
		}
		out = append(out, Frame{Function: fr.Function, File: fr.File, Line: fr.Line, Entry: fr.Entry, Inlined: fr.Func == nil})
		if fr.Func != nil || !more {
			break
		}
	}
	return out
}

// CreatedBy is the site of the `go` statement that started a goroutine, from
// its gopc: the innermost source frame (the function that holds the
// statement even if it was inlined). The runtime's own traceback prints the
// physical function's name with the innermost file:line; this gives both
// from the inlined function. ok is false for gopc 0 (the main goroutine and
// runtime-started ones).
func CreatedBy(gopc uintptr) (Frame, bool) {
	fs := Frames(gopc, ReturnPC)
	if len(fs) == 0 {
		return Frame{}, false
	}
	return fs[0], true
}

// FuncName is the name of the physical function containing pc, "" if none.
func FuncName(pc uintptr) string {
	if f := runtime.FuncForPC(pc); f != nil {
		return f.Name()
	}
	return ""
}
