// Program leaky plants a cache that leaks (issue 5): main.cache evicts its
// oldest entries past a limit and declares each evicted entry released
// with agent.MarkReleased, but never deletes it from its map (the planted
// bug), so every released entry stays reachable and the cache keeps
// growing. It starts the heaptop agent (FullAllocSites) and then reads
// commands from stdin:
//
//	grow    add growBy more entries (evicting, and leaking, as many)
//
// It prints a line after the first fill and after each command:
//
//	leaky: pid=<pid> agent=<address>
//	filled entries=<in the map> released=<declared released>
//
// The lines the test expects are marked "// marker:name".
package main

import (
	"bufio"
	"fmt"
	"os"
	"sync"

	"github.com/heaptop/heaptop/agent"
)

// entry is one cached value with its 1 KiB payload.
type entry struct {
	key  int
	data []byte
}

// Cache keeps at most limit entries, in theory.
type Cache struct {
	mu      sync.Mutex
	entries map[int]*entry
	order   []int // keys, oldest first
	limit   int
	next    int
}

const (
	limit     = 1000
	firstFill = 6000
	growBy    = 2000
	entrySize = 1024
)

var cache = &Cache{entries: map[int]*entry{}, limit: limit}

// released counts the entries declared released.
var released int

func (c *Cache) add(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for range n {
		e := &entry{key: c.next}         // marker:entry
		e.data = make([]byte, entrySize) // marker:data
		c.entries[e.key] = e
		c.order = append(c.order, e.key)
		c.next++
		if len(c.order) > c.limit {
			c.evict(c.order[0])
			c.order = c.order[1:]
		}
	}
}

// evict declares the entry released; the planted bug: it stays in the map.
func (c *Cache) evict(key int) {
	agent.MarkReleased(c.entries[key], "evicted from cache")
	released++
	// BUG (planted): delete(c.entries, key) is missing.
}

func main() {
	// No pause budget or interval: the tests capture back to back, and what
	// they check is the heap, not the budgets (progs/safety tests those).
	a, err := agent.Start(agent.Options{FullAllocSites: true, MaxPause: -1, MinCaptureInterval: -1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer a.Close()

	cache.add(firstFill)
	fmt.Printf("leaky: pid=%d agent=%s\n", os.Getpid(), a.Address())
	report()
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() { // the test closes stdin when done
		switch sc.Text() {
		case "grow":
			cache.add(growBy)
		default:
			fmt.Fprintf(os.Stderr, "leaky: unknown command %q\n", sc.Text())
			os.Exit(2)
		}
		report()
	}
}

func report() {
	cache.mu.Lock()
	defer cache.mu.Unlock()
	fmt.Printf("filled entries=%d released=%d\n", len(cache.entries), released)
}
