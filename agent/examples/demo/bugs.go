package main

import (
	"sync"
	"time"
	"unsafe"

	"github.com/heaptop/heaptop/agent"
)

// Two bugs are planted in the demo for heaptop to show (-bugs=false
// leaves them out):
//
//   - a dangling reference: the cache's eviction log keeps the address of
//     each evicted statement as a uintptr (main.planted.evicted, a ring of
//     the last 64), which the GC does not see. Once a GC frees the
//     statement the word names a free slot (dangling), before that garbage
//     (dangling soon), and after the slot is taken again another object.
//   - a leak: every job opens a session and closes it, declaring it
//     released with agent.MarkReleased, but the audit log of closed
//     sessions (main.planted.closed, a ring of the last 256) keeps the
//     session itself, not its id, so closed sessions stay reachable.
//
// Both rings are bounded: the demo's memory does not grow with them.

// session is a job's working state, closed when the answer is sent.
type session struct {
	customer int
	opened   time.Time
	scratch  []byte
}

const (
	evictedLog = 64
	closedLog  = 256
	// scratchSize makes a session's buffer big enough to matter.
	scratchSize = 2048
)

// bugs holds the planted bugs' state.
type bugs struct {
	mu         sync.Mutex // guards the fields below
	evicted    [evictedLog]uintptr
	nextEvict  int
	closed     [closedLog]*session
	nextClosed int
}

var planted bugs

// logEviction records an evicted statement's address: the planted
// dangling reference.
func (b *bugs) logEviction(st *statement) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.evicted[b.nextEvict%evictedLog] = uintptr(unsafe.Pointer(st)) // BUG (planted): a hidden reference
	b.nextEvict++
}

// openSession starts a job's session.
func openSession(customer int) *session {
	return &session{customer: customer, opened: time.Now(), scratch: make([]byte, scratchSize)} // marker:session
}

// closeSession declares s released and logs it: the planted leak.
func (b *bugs) closeSession(s *session) {
	agent.MarkReleased(s, "session closed")
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed[b.nextClosed%closedLog] = s // BUG (planted): should log s.customer, not s
	b.nextClosed++
}
