package heapdump

import (
	"errors"
	"fmt"
)

// The kinds of failure; an *Error unwraps to one of them.
var (
	// ErrTruncated: the dump ends inside a record or before its EOF record.
	ErrTruncated = errors.New("truncated dump")
	// ErrCorrupt: bytes that the go1.26 dumper cannot have written.
	ErrCorrupt = errors.New("corrupt dump")
	// ErrVersion: a heap dump, but not in the format this package reads
	// (another Go version, architecture or word size).
	ErrVersion = errors.New("unsupported dump version")
)

// Error locates a problem in a dump: Offset is the byte offset of the
// field that is wrong, Tag the record being read (Header is true before the
// first record), Expected what the dumper would have written there.
type Error struct {
	Offset   int64
	Header   bool
	Tag      Tag
	Expected string
	Kind     error // ErrTruncated, ErrCorrupt or ErrVersion
}

func (e *Error) Error() string {
	where := "header"
	if !e.Header {
		where = fmt.Sprintf("tag %d (%s)", uint64(e.Tag), e.Tag)
	}
	return fmt.Sprintf("heapdump: offset %#x: %s: %s", e.Offset, where, e.Expected)
}

func (e *Error) Unwrap() error { return e.Kind }
