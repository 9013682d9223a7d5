package symbols

import (
	"reflect"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// innerPC is small enough to be inlined into outerCall, which is not: the
// return address of its call to callerPC, on the marked line, lies in
// outerCall's code but in innerPC's source.
func innerPC() uintptr {
	return callerPC() // marker:innerCall
}

// callerPC returns its return address.
//
//go:noinline
func callerPC() uintptr {
	var pcs [1]uintptr
	runtime.Callers(2, pcs[:])
	return pcs[0]
}

//go:noinline
func outerCall() uintptr {
	return innerPC() // marker:outerCall
}

func TestImageFramesInlined(t *testing.T) {
	imageBuild(t)
	pc := outerCall()
	file, innerLine := markerLine(t, "innerCall")
	_, outerLine := markerLine(t, "outerCall")
	got := Frames(pc, ReturnPC)
	want := []Frame{
		{Function: pkg + "innerPC", File: file, Line: innerLine, Inlined: true},
		{Function: pkg + "outerCall", File: file, Line: outerLine},
	}
	entry := reflect.ValueOf(outerCall).Pointer()
	if len(got) != len(want) {
		t.Fatalf("Frames(%#x) = %+v, want %+v", pc, got, want)
	}
	for i := range want {
		want[i].Entry = entry
		if got[i] != want[i] {
			t.Errorf("frame %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// Why Frames appends a 0: alone, the pc yields only its innermost
	// inlined frame.
	if f, more := runtime.CallersFrames([]uintptr{pc}).Next(); more || f.Function != pkg+"innerPC" {
		t.Errorf("CallersFrames of one pc: %s, more %v", f.Function, more)
	}
	if s := got[1].String(); s != "symbols.outerCall at code_test.go:"+strconv.Itoa(outerLine) &&
		s != pkg+"outerCall at code_test.go:"+strconv.Itoa(outerLine) {
		t.Errorf("String() = %q", s)
	}
	// The same instruction named exactly: the call instruction starts
	// before pc, and pc-1 lies inside it.
	if ex := Frames(pc-1, ExactPC); len(ex) != 2 || ex[0].Line != innerLine || ex[1].Line != outerLine {
		t.Errorf("Frames(pc-1, ExactPC) = %+v", ex)
	}
	// A function's entry is its first line whichever kind it is read as.
	_, declLine := markerLine(t, "parkedWorkerDecl")
	for _, k := range []PCKind{ReturnPC, ExactPC} {
		f := Frames(reflect.ValueOf(parkedWorker).Pointer(), k)
		if len(f) != 1 || f[0].Line != declLine {
			t.Errorf("entry of parkedWorker as %v: %+v, want line %d", k, f, declLine)
		}
	}
	if Frames(0, ReturnPC) != nil || Frames(1, ReturnPC) != nil {
		t.Error("frames for a pc outside Go code")
	}
	for callee, want := range map[string]PCKind{
		"": ReturnPC, "runtime.gopark": ReturnPC, "runtime.asyncPreempt": ExactPC,
		"runtime.sigpanic": ExactPC, "runtime.debugCallV2": ExactPC,
	} {
		if got := FramePCKind(callee); got != want {
			t.Errorf("FramePCKind(%q) = %v, want %v", callee, got, want)
		}
	}
}

// parkedWorker is not inlined, so it has a frame of its own (inlined, it
// would run inside the go statement's wrapper, TestImageGoroutineSites.gowrap1).
//
//go:noinline
func parkedWorker(ch chan int) int { // marker:parkedWorkerDecl
	v := <-ch // marker:parkedBlock
	return v
}

// TestImageGoroutineSites starts a goroutine that parks in a channel
// receive and reads its frame pc and its gopc from the runtime's own
// traceback (runtime.Stack prints "+0x<pc-entry>" for each physical frame
// and for the creation site): the same values a heap dump's frame and
// goroutine records carry. Frames and CreatedBy must name the receive
// line and the go statement's line, exactly as the runtime does.
func TestImageGoroutineSites(t *testing.T) {
	imageBuild(t)
	ch := make(chan int)
	go parkedWorker(ch) // marker:goParked
	defer close(ch)
	file, blockLine := markerLine(t, "parkedBlock")
	_, goLine := markerLine(t, "goParked")

	var stack string
	for range 200 {
		buf := make([]byte, 1<<20)
		stack = string(buf[:runtime.Stack(buf, true)])
		if strings.Contains(stack, "[chan receive]:\n"+pkg+"parkedWorker(") {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	re := regexp.MustCompile(`(?m)^goroutine \d+ \[chan receive\]:\n` + regexp.QuoteMeta(pkg) +
		`parkedWorker\(.*\)\n\t(.*):(\d+) \+0x([0-9a-f]+)\ncreated by ` + regexp.QuoteMeta(pkg) +
		`TestImageGoroutineSites in goroutine \d+\n\t(.*):(\d+) \+0x([0-9a-f]+)\n`)
	m := re.FindStringSubmatch(stack)
	if m == nil {
		t.Fatalf("parked goroutine not in the traceback:\n%s", stack)
	}
	off := func(s string) uintptr { v, _ := strconv.ParseUint(s, 16, 64); return uintptr(v) }
	pc := reflect.ValueOf(parkedWorker).Pointer() + off(m[3])
	gopc := reflect.ValueOf(TestImageGoroutineSites).Pointer() + off(m[6])

	fs := Frames(pc, ReturnPC)
	if len(fs) != 1 || fs[0].Function != pkg+"parkedWorker" || fs[0].File != file || fs[0].Line != blockLine {
		t.Errorf("frame pc: %+v, want parkedWorker at %s:%d", fs, file, blockLine)
	}
	if m[1] != file || m[2] != strconv.Itoa(blockLine) {
		t.Errorf("the runtime itself says %s:%s", m[1], m[2])
	}
	cb, ok := CreatedBy(gopc)
	if !ok || cb.Function != pkg+"TestImageGoroutineSites" || cb.File != file || cb.Line != goLine {
		t.Errorf("CreatedBy = %+v, want TestImageGoroutineSites at line %d", cb, goLine)
	}
	if m[4] != file || m[5] != strconv.Itoa(goLine) {
		t.Errorf("the runtime itself says created at %s:%s", m[4], m[5])
	}
	if _, ok := CreatedBy(0); ok {
		t.Error("CreatedBy(0) found a site")
	}
}
