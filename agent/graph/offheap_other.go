//go:build !linux

package graph

// Elsewhere the arrays stay on the Go heap.
func mapBytes(n int) ([]byte, error) { return make([]byte, n), nil }
func unmapBytes([]byte)              {}

// KeepFreed and ReleaseKept keep nothing here (see offheap_linux.go).
func KeepFreed()   {}
func ReleaseKept() {}
