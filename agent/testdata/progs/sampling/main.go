// Program sampling starts the heaptop agent and prints the memory
// profiler's sampling rate the runtime keeps:
//
//	RATE start=… [full=… closed=…]
//
// start: after Start with default options; with -full, full: after Start
// with FullAllocSites, closed: after that agent's Close. Its argument is
// the agent's directory.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"

	"github.com/heaptop/heaptop/agent"
)

func main() {
	full := flag.Bool("full", false, "also start an agent with FullAllocSites")
	flag.Parse()
	dir := flag.Arg(0)
	a, err := agent.Start(agent.Options{Dir: dir})
	must(err)
	line := fmt.Sprintf("RATE start=%d", runtime.MemProfileRate)
	must(a.Close())
	if *full {
		a, err := agent.Start(agent.Options{Dir: dir, FullAllocSites: true})
		must(err)
		line += fmt.Sprintf(" full=%d", runtime.MemProfileRate)
		must(a.Close())
		line += fmt.Sprintf(" closed=%d", runtime.MemProfileRate)
	}
	fmt.Println(line)
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
