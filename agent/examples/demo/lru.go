package main

import (
	"container/list"
	"sync"
)

// lru is a least-recently-used cache of statements by customer, bounded by
// a number of entries. Safe for concurrent use.
type lru struct {
	capacity int

	mu      sync.Mutex            // guards order and entries
	order   *list.List            // of *statement, most recently used first
	entries map[int]*list.Element // customer → its element in order

	// evicted, if set, is called with each statement evicted, under mu.
	evicted func(*statement)
}

func newLRU(capacity int) *lru {
	return &lru{capacity: capacity, order: list.New(), entries: make(map[int]*list.Element)}
}

func (c *lru) get(customer int) (*statement, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[customer]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*statement), true
}

// put stores st, evicting the least recently used entry when full.
func (c *lru) put(customer int, st *statement) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[customer]; ok {
		e.Value = st
		c.order.MoveToFront(e)
		return
	}
	c.entries[customer] = c.order.PushFront(st)
	if c.order.Len() > c.capacity {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*statement).customer)
		if c.evicted != nil {
			c.evicted(oldest.Value.(*statement))
		}
	}
}
