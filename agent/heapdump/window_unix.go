//go:build unix

package heapdump

import "syscall"

// newWindow returns n bytes of memory outside the Go heap, for a stream's
// window. A window on the Go heap, garbage once ParseReader returns but
// not yet collected, is in the next dump of the process as an object as
// big as the biggest record, which the next window must then hold: the
// windows of successive captures of one process doubled, to 5 GiB in
// graph's stress test. Mapped memory is in no dump.
func newWindow(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return make([]byte, n) // no worse than a window on the heap
	}
	return b
}

// freeWindow releases a window newWindow made. syscall.Munmap knows the
// mappings it made and refuses others: a window made by make is left to
// the GC.
func freeWindow(b []byte) { syscall.Munmap(b) }
