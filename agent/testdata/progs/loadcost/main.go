// Command loadcost measures what agent/symbols costs the process it runs
// in: the time to read the ELF symbols and to load and index DWARF, the
// memory the Image keeps, and the rate of each lookup the naming pass does.
// Build tags link in more code so the binary grows like a real service's:
// none (this program alone), nethttp (a net/http server), grpc (a gRPC
// server, as the heaptop agent itself links). BENCHMARKS.md has the
// commands and results.
package main

import (
	"debug/elf"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/heaptop/heaptop/agent/symbols"
)

type session struct {
	id  int
	buf []byte
}

type registry struct {
	name     string
	sessions map[string]*session
}

var (
	reg   = &registry{sessions: map[string]*session{}}
	table [64]struct {
		key  string
		next *session
	}
)

func main() {
	linkExtra() // per build tag
	st, _ := os.Stat("/proc/self/exe")
	fmt.Printf("binary: %.1f MiB, DWARF %s\n", float64(st.Size())/(1<<20), dwarfSizes())

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	im := symbols.Self()
	t0, c0 := time.Now(), cpuTime()
	if _, err := im.Segments(); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	tELF, cELF := time.Since(t0), cpuTime()-c0
	memELF := im.Memory()
	t1, c1 := time.Now(), cpuTime()
	if err := im.Load(); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	tDWARF, cDWARF := time.Since(t1), cpuTime()-c1
	runtime.GC()
	runtime.ReadMemStats(&after)
	fmt.Printf("load ELF symbols: %v wall, %v CPU; holds %.2f MiB\n", tELF.Round(time.Microsecond), cELF.Round(time.Microsecond), float64(memELF)/(1<<20))
	fmt.Printf("load+index DWARF: %v wall, %v CPU; Image.Memory %.2f MiB, live heap growth %.2f MiB, allocated while loading %.1f MiB\n",
		tDWARF.Round(time.Microsecond), cDWARF.Round(time.Microsecond), float64(im.Memory())/(1<<20),
		float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20), float64(after.TotalAlloc-before.TotalAlloc)/(1<<20))

	// The first proof of a type proves everything it reaches.
	t2 := time.Now()
	big := reflect.TypeOf(bigType())
	if _, err := im.TypeAt(typeWord(big)); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Printf("first TypeAt(%v): %v\n", big, time.Since(t2).Round(time.Microsecond))

	// Naming a root word the first time walks DWARF; later captures hit
	// the cache.
	t3 := time.Now()
	n := 0
	for i := range table {
		for _, a := range []unsafe.Pointer{unsafe.Pointer(&table[i].key), unsafe.Pointer(&table[i].next)} {
			im.Global(uintptr(a))
			n++
		}
	}
	fmt.Printf("%-40s %8.0f ns/op\n", "Global, first naming of an address", float64(time.Since(t3).Nanoseconds())/float64(n))

	addr := uintptr(unsafe.Pointer(&table[17].next))
	if g := im.Global(addr); g.String() != "main.table[17].next" {
		fmt.Println("bad name", g)
		os.Exit(1)
	}
	typ := reflect.TypeFor[registry]()
	entry := reflect.ValueOf(main).Pointer()
	pc := entry + 16
	layout := symbols.ValueOf(typ)
	rate("Global, cached", func() { im.Global(addr) })
	rate("TypeAt (proven word)", func() { im.TypeAt(typeWord(typ)) })
	rate("Layout.Word (struct field)", func() { layout.Word(16) })
	rate("Frames (pc → file:line)", func() { symbols.Frames(pc, symbols.ReturnPC) })
	rate("Local (frame slot → variable)", func() { im.Local(entry, pc, symbols.ReturnPC, -16) })
}

func typeWord(t reflect.Type) uintptr { return (*[2]uintptr)(unsafe.Pointer(&t))[1] }

func rate(what string, f func()) {
	r := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			f()
		}
	})
	fmt.Printf("%-40s %8.0f ns/op  %6.2f M/s  %d allocs/op\n", what, float64(r.NsPerOp()), 1e3/float64(r.NsPerOp()), r.AllocsPerOp())
}

// cpuTime is the process's user+system CPU time (the machine is shared,
// so wall time overstates the work).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func dwarfSizes() string {
	f, err := elf.Open("/proc/self/exe")
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var file, mem uint64
	for _, s := range f.Sections {
		if len(s.Name) > 7 && s.Name[:7] == ".debug_" {
			file += s.FileSize
			mem += s.Size
		}
	}
	return fmt.Sprintf("%.1f MiB compressed in the file, %.1f MiB decompressed", float64(file)/(1<<20), float64(mem)/(1<<20))
}
