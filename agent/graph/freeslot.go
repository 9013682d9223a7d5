package graph

// Free slots. The dump lists allocated slots only, so a free slot is seen
// only through the objects around it. A span of a size class holds slots
// of one size at base + k*size for k < nelems, base page-aligned, npages
// long (spans.go for the one-page classes' nelems). An address no object
// contains is the base of a free slot (or its user pointer, base+8, for
// classes whose objects carry a malloc header) when a neighbouring object
// (the nearest below or above) is of a size class and every span that
// could hold that neighbour would hold the address as one of its slots.
// Anything else (a whole span freed and returned to the page heap, a stack,
// runtime memory) is not provably a slot, and FreeSlot says no.

// sizeClassNPages maps each size class's object size to its span length
// in pages (internal/runtime/gc/sizeclasses.go, go1.26.8).
var sizeClassNPages = func() map[uint32]uint32 {
	sizes := [...]uint32{8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768}
	npages := [...]uint32{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 2, 1, 2, 1, 3, 2, 3, 1, 3, 2, 3, 4, 5, 6, 1, 7, 6, 5, 4, 3, 5, 7, 2, 9, 7, 5, 8, 3, 10, 7, 4}
	m := make(map[uint32]uint32, len(sizes))
	for i, s := range sizes {
		m[s] = npages[i]
	}
	return m
}()

// FreeSlot reports whether addr is the base or the user pointer of a slot
// no object occupies, in a span the objects around it prove (see above),
// and returns that slot's base and size.
func (g *Graph) FreeSlot(addr uint64) (base uint64, size uint32, ok bool) {
	if _, in := g.FindObject(addr); in || len(g.objBase) == 0 {
		return 0, 0, false
	}
	// The nearest objects below and above addr.
	i, j := 0, len(g.objBase)
	for i < j {
		h := int(uint(i+j) >> 1)
		if g.objBase[h] <= addr {
			i = h + 1
		} else {
			j = h
		}
	}
	below, above := i-1, i
	for _, n := range [2]int{below, above} {
		if n < 0 || n >= len(g.objBase) {
			continue
		}
		for _, user := range [2]uint64{0, 8} {
			if user == 8 && g.objSize[n] <= maxHeaderless {
				continue
			}
			if b, ok := g.slotNear(ObjectID(n), addr-user, below, above); ok {
				return b, g.objSize[n], true
			}
		}
	}
	return 0, 0, false
}

// slotNear reports whether slot, which no object contains, is a slot of
// every span that could hold object n (of its size class), with no object
// between it and n; below and above are the objects around slot.
func (g *Graph) slotNear(n ObjectID, slot uint64, below, above int) (uint64, bool) {
	size := uint64(g.objSize[n])
	npages, class := sizeClassNPages[uint32(size)]
	if !class || g.objFlags[n]&Large != 0 {
		return 0, false
	}
	base := g.objBase[n]
	if slot > base && (slot-base)%size != 0 || slot < base && (base-slot)%size != 0 {
		return 0, false
	}
	// The slot must fit between its neighbours.
	if below >= 0 && g.objBase[below]+uint64(g.objSize[below]) > slot {
		return 0, false
	}
	if above < len(g.objBase) && slot+size > g.objBase[above] {
		return 0, false
	}
	nelems := uint64(npages) * pageSize / size
	if npages == 1 && size <= maxHeaderless {
		nelems = uint64(spanNelems(uint32(size), g.objFlags[n]&Pointers != 0))
	}
	spanBytes := uint64(npages) * pageSize
	// Every page-aligned span start that puts n on a slot boundary.
	found := false
	for first := base &^ (pageSize - 1); first+spanBytes > base; first -= pageSize {
		if (base-first)%size == 0 && (base-first)/size < nelems {
			found = true
			if slot < first || slot >= first+nelems*size {
				return 0, false
			}
		}
		if first < pageSize {
			break
		}
	}
	return slot, found
}
