package main

import "testing"

func TestSlotSize(t *testing.T) {
	for _, tc := range []struct {
		size     uint64
		pointers bool
		want     uint64
	}{
		{48, true, 48},
		{40, true, 48},
		{176, false, 176},
		{512, true, 512},      // the last size with heap bits in the span
		{600, true, 640},      // 608 with the malloc header
		{600, false, 640},     // no header without pointers
		{1024, true, 1152},    // 1032 with the header
		{32760, false, 0},     // the largest small size: above BySize...
		{32761, false, 32768}, // ...and the first large one: whole pages
		{133336, true, 139264},
	} {
		if tc.size > 18432 && tc.size <= maxSmallSize {
			// Above MemStats.BySize: covered only at the boundary below.
			if _, err := slotSize(tc.size, tc.pointers); err == nil {
				t.Errorf("slotSize(%d): no error for a size above the listed classes", tc.size)
			}
			continue
		}
		got, err := slotSize(tc.size, tc.pointers)
		if err != nil || got != tc.want {
			t.Errorf("slotSize(%d, pointers=%v) = %d, %v; want %d", tc.size, tc.pointers, got, err, tc.want)
		}
	}
}

func TestPayloadSize(t *testing.T) {
	for _, tc := range []struct{ want, got uint64 }{
		{0, 0}, {15, 0}, {16, 16}, {161, 176}, {166, 176},
		{18432, 18432}, {20000, 18432}, {38000, 40960}, {100000, 98304},
	} {
		if got := payloadSize(tc.want); got != tc.got {
			t.Errorf("payloadSize(%d) = %d, want %d", tc.want, got, tc.got)
		}
	}
}
