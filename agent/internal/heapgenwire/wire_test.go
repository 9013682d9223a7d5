package heapgenwire

import "testing"

func TestParseSizes(t *testing.T) {
	for _, tc := range []struct {
		in    string
		count uint64 // 0: not a count
		bytes uint64 // 0: not a byte size
	}{
		{"100000", 100000, 100000},
		{"1e5", 100000, 100000},
		{"2.5e6", 2500000, 2500000},
		{"10MB", 0, 10_000_000},
		{"1GiB", 0, 1 << 30},
		{"1.5 KiB", 0, 1536},
		{"4096B", 0, 4096},
		{"1e5x", 0, 0},
		{"-1", 0, 0},
		{"", 0, 0},
	} {
		c, err := ParseCount(tc.in)
		if (err == nil) != (tc.count != 0) || c != tc.count {
			t.Errorf("ParseCount(%q) = %d, %v; want %d", tc.in, c, err, tc.count)
		}
		b, err := ParseBytes(tc.in)
		if (err == nil) != (tc.bytes != 0) || b != tc.bytes {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", tc.in, b, err, tc.bytes)
		}
	}
}

func TestReportLineRoundTrip(t *testing.T) {
	in := Gap{PeriodNs: 1e6, MaxNs: 7e6, WindowNs: 2e9, Wakeups: 1800}
	line, err := Format(GapPrefix, in)
	if err != nil {
		t.Fatal(err)
	}
	var out Gap
	if ok, err := Parse(line, GapPrefix, &out); !ok || err != nil || out != in {
		t.Errorf("Parse(%q) = %v, %v, %+v; want %+v", line, ok, err, out, in)
	}
	if ok, _ := Parse(line, ReadyPrefix, &out); ok {
		t.Errorf("a gap line parsed as a ready line")
	}
}
