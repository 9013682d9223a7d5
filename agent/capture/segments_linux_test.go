package capture

import (
	"os/exec"
	"strconv"
	"testing"
	"unsafe"

	"github.com/heaptop/heaptop/agent/internal/testprog"
)

// untouched is zero-initialized and pointer-free: it lives in noptrbss,
// and pages of it this test never writes are never faulted in.
var untouched [256 << 10]uintptr // 2 MiB

// TestWrittenParts: of a noptrbss range, capture copies the pages this
// process wrote and leaves the never-written ones (zeros) out.
func TestWrittenParts(t *testing.T) {
	const page = 4096
	base := uint64(uintptr(unsafe.Pointer(&untouched[0])))
	mid := len(untouched) / 2
	untouched[mid] = 0xfeed // writes one page in the middle
	wrote := uint64(uintptr(unsafe.Pointer(&untouched[mid])))
	seg := Segment{Name: "noptrbss", Addr: base, Size: uint64(unsafe.Sizeof(untouched))}
	parts := writtenParts([]Segment{seg})

	var covered bool
	var total uint64
	for _, p := range parts {
		if p.Name != "noptrbss" || p.Addr < seg.Addr || p.Addr+p.Size > seg.Addr+seg.Size {
			t.Fatalf("part %s %#x+%d outside the segment %#x+%d", p.Name, p.Addr, p.Size, seg.Addr, seg.Size)
		}
		covered = covered || (wrote >= p.Addr && wrote+8 <= p.Addr+p.Size)
		total += p.Size
	}
	if !covered {
		t.Errorf("the written word at %#x is in none of the parts %+v", wrote, parts)
	}
	// The written page and at most the segment's first and last pages when
	// they share a page with other globals.
	if total > 3*page {
		t.Errorf("%d bytes of a 2 MiB range copied, one page written: %+v", total, parts)
	}
	t.Logf("parts %+v", parts)

	// noptrdata starts as file data: it is copied whole.
	data := Segment{Name: "noptrdata", Addr: seg.Addr, Size: seg.Size}
	if got := writtenParts([]Segment{data}); len(got) != 1 || got[0].Addr != data.Addr || got[0].Size != data.Size {
		t.Errorf("noptrdata parts %+v, want the whole segment", got)
	}
}

// TestArenaIndex_found_and_not_kept_resident: in a program with a symbol
// table (test binaries have none), capture finds the runtime's arena
// index, and mapping it for the dump child leaves it no more resident than
// it was: where the kernel gives MADV_POPULATE_READ pages of their own,
// populating it made 32 MiB of the program resident for good.
func TestArenaIndex_found_and_not_kept_resident(t *testing.T) {
	bin := testprog.Build(t, "noptr")
	out, err := exec.Command(bin, t.TempDir()).CombinedOutput()
	if err != nil {
		t.Fatalf("noptr: %v\n%s", err, out)
	}
	m := testprog.Marker(t, out, "HEAPTOP")
	if m["arenaindex"] != "true" {
		t.Errorf("the arena index was not found: %s", out)
	}
	// The capture's own memory is gone by then; what remains is the
	// runtime's and the agent's few MiB of state.
	if growth, err := strconv.ParseInt(m["rssgrowth"], 10, 64); err != nil || growth > 8<<20 {
		t.Errorf("resident anonymous memory grew by %s bytes over a capture, want under 8 MiB: %s", m["rssgrowth"], out)
	}
}
