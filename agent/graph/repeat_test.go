package graph

import (
	"context"
	"testing"
)

// TestRepeatedCaptures_keep_the_heap_steady: what one capture's parse
// leaves for the GC is in the next dump (garbage not yet collected), so
// nothing the parse allocates may be as big as the biggest record it reads:
// a stream window on the Go heap made each capture's dump hold the last
// window and need one twice as big, doubling the process's heap every
// capture.
func TestRepeatedCaptures_keep_the_heap_steady(t *testing.T) {
	var sizes []int64
	for range 8 {
		d, err := capturer.Capture(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		g, err := Build(Input{Dump: d.Bytes, FuncName: InProcessFuncName})
		d.Close()
		if err != nil {
			t.Fatal(err)
		}
		g.Close()
		sizes = append(sizes, d.Stats.Size)
	}
	if first, last := sizes[0], sizes[len(sizes)-1]; last > 2*first+8<<20 {
		t.Errorf("dump sizes over 8 captures %v: the heap grows with each capture", sizes)
	}
	t.Logf("dump sizes %v", sizes)
}
