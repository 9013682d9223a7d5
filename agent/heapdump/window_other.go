//go:build !unix

package heapdump

// newWindow returns a stream's window (see window_unix.go for why unix
// systems map it outside the Go heap).
func newWindow(n int) []byte { return make([]byte, n) }

// freeWindow leaves the window to the GC.
func freeWindow([]byte) {}
