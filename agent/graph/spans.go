package graph

// Span geometry of go1.26 (runtime/mheap.go initSpan, with Green Tea, the
// default GC of go1.26): which slots of a small-object span hold objects.
//
// dumpobjs walks slot indexes 0..npages*8192/elemsize-1 but records free
// slots only below span.nelems, so every slot at or past nelems is dumped
// as an object although it overlaps the span's reserved tail. For spans of
// objects of at most 512 bytes (all one page):
//
//	reserve  = 128 (inline mark bits, spanInlineMarkBits, if elemsize >= 16)
//	         + 128 (pointer bitmap, 8192/64, if the span holds pointers)
//	nelems   = (8192 - reserve) / elemsize
//
// Bigger size classes reserve nothing (nelems = npages*8192/elemsize) and
// large objects have one slot. So a slot is bogus exactly when its index in
// its page is at least nelems, which depends on whether the span holds
// pointers. That is known when the page has a dumped slot with a pointer
// field list (real objects of pointerful spans always have one; reserve
// slots of such spans get an empty list, since their bitmap bits are
// cleared when the span is initialised and never set, except in 8-byte
// spans, whose bitmap starts all ones) or, for sizes that divide 8192, from
// the last byte of the page: the inline mark bits' spanClass
// (sizeclass<<1 | noscan), which the always-dumped last slot contains.
// Otherwise, if a slot below the pointerful nelems is present with an
// empty list, the span is pointer-free. What remains (only slots at or
// above the pointerful nelems present, all with empty lists, in a size not
// dividing 8192) is counted as ambiguous and taken as pointer-free.

const (
	pageShift            = 13
	pageSize             = 1 << pageShift
	maxHeaderless        = 512 // gc.MinSizeForMallocHeader
	maxSmallSize         = 32768
	inlineMarkBitsBytes  = 128 // sizeof(spanInlineMarkBits)
	heapBitsReserveBytes = pageSize / 64
)

// sizeClassOf maps the object sizes of at most 512 bytes to their size
// class (internal/runtime/gc/sizeclasses.go), 0 if none.
var sizeClassOf = func() map[uint32]uint8 {
	sizes := []uint32{0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352, 384, 416, 448, 480, 512}
	m := make(map[uint32]uint8, len(sizes))
	for c, s := range sizes[1:] {
		m[s] = uint8(c + 1)
	}
	return m
}()

// spanNelems is span.nelems for a one-page span of elemsize size.
func spanNelems(size uint32, pointers bool) uint32 {
	reserve := uint32(0)
	if size >= 16 {
		reserve += inlineMarkBitsBytes
	}
	if pointers {
		reserve += heapBitsReserveBytes
	}
	return (pageSize - reserve) / size
}

// pageSlot is one dumped slot of a page being decided.
type pageSlot struct {
	addr     uint64
	words    wordSpan // its saved words
	pointers bool     // non-empty field list
	lastByte byte
	weak     bool   // weak-handle shaped (see HiddenWeakHandle)
	word0    uint64 // first word, for weak-handle shaped slots
	cleanup  bool   // a runtime.AddCleanup closure
}

// pageVerdict decides which of one page's dumped slots (all of size size,
// size <= 512, in address order) are objects. It returns how many leading
// slot indexes hold objects (slots with index below it are kept) and
// whether the span holds pointers; ambiguous counts the kept slots that
// would be reserve if the span held pointers (the undecidable case).
func pageVerdict(size uint32, slots []pageSlot) (nelems uint32, pointers bool, ambiguous int) {
	class, known := sizeClassOf[size]
	if !known || len(slots) == 0 {
		return pageSize / max(size, 1), false, 0 // not a size class: keep all
	}
	page := slots[0].addr &^ (pageSize - 1)
	index := func(s pageSlot) uint32 { return uint32(s.addr-page) / size }
	for _, s := range slots {
		if s.pointers {
			return spanNelems(size, true), true, 0
		}
	}
	if size >= 16 && pageSize%size == 0 {
		last := slots[len(slots)-1]
		if index(last) == pageSize/size-1 && last.lastByte>>1 == class {
			p := last.lastByte&1 == 0
			return spanNelems(size, p), p, 0
		}
	}
	withPtrs, without := spanNelems(size, true), spanNelems(size, false)
	if size < 16 {
		// 8-byte pointerful spans list every slot as a pointer (their
		// bitmap starts all ones): no list at all means pointer-free.
		return without, false, 0
	}
	for _, s := range slots {
		if index(s) < withPtrs {
			return without, false, 0
		}
	}
	for _, s := range slots {
		if i := index(s); i >= withPtrs && i < without {
			ambiguous++
		}
	}
	return without, false, ambiguous
}
