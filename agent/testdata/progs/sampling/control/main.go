// Program control prints the memory profiler's sampling rate of a program
// that never reaches runtime.MemProfile, where the linker turns sampling
// off (see agent/allocsites.go):
//
//	RATE start=…
package main

import (
	"fmt"
	"runtime"
)

func main() { fmt.Printf("RATE start=%d\n", runtime.MemProfileRate) }
