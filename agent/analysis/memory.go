package analysis

import (
	"hash/fnv"
	"slices"
	"sort"
	"strconv"

	"github.com/heaptop/heaptop/agent/graph"
)

// Memory is what one analysis leaves for the next ones: where each hidden
// reference that counted pointed (to tell a reused slot from the object
// the word named), and the live totals per type and site of the last
// captures (growth). It keeps nothing else of a snapshot. The words'
// addresses live in mapped memory (graph.Mem): on the Go heap they would
// be in the next dump as integers that look like heap addresses.
//
// A Memory is written by the Analyse that made it and read-only after; Close
// releases it. The zero (or nil) Memory remembers nothing.
type Memory struct {
	mem *graph.Mem
	// The remembered words, sorted by address: the word's address, its
	// value, and what the value pointed at (the slot or object base, an
	// identity hash of its type, site and size, 0 for a free slot, and its
	// name in names).
	addr, value, base, identity []uint64
	name                        []uint32
	names                       []string
	nameIdx                     map[string]uint32
	// Dropped counts the words not remembered beyond maxRemembered.
	Dropped int

	// history holds the live totals per type and site of the last
	// growthDepth captures, oldest first, this one last.
	history []liveTotals
}

// maxRemembered bounds the hidden words a Memory keeps: 40 bytes each in
// mapped memory plus their names, 2.6 MB at most. A program with more
// hidden references than this has bigger problems than a missed reuse.
const maxRemembered = 1 << 16

// remembered is what an earlier snapshot saw a word point at.
type remembered struct {
	base, identity uint64
	name           string
}

func newMemory() *Memory {
	return &Memory{mem: graph.NewMem(), nameIdx: map[string]uint32{}}
}

// Close releases the memory's mapped arrays. Idempotent; nil-safe.
func (m *Memory) Close() {
	if m != nil && m.mem != nil {
		m.mem.Close()
		m.addr, m.value, m.base, m.identity, m.name = nil, nil, nil, nil, nil
	}
}

// remembers returns what the word at addr held when it held value, or nil.
func (m *Memory) remembers(addr, value uint64) *remembered {
	if m == nil || addr == 0 {
		return nil
	}
	i := sort.Search(len(m.addr), func(i int) bool { return m.addr[i] >= addr })
	if i == len(m.addr) || m.addr[i] != addr || m.value[i] != value {
		return nil
	}
	return &remembered{base: m.base[i], identity: m.identity[i], name: m.names[m.name[i]]}
}

// remember records what ref's word points at, for the next analysis.
func (m *Memory) remember(a *Analysis, w graph.HiddenWord, ref *HiddenRef) {
	addr := a.wordAddress(w)
	if addr == 0 {
		return
	}
	if len(m.addr) >= maxRemembered {
		m.Dropped++
		return
	}
	var base, id uint64
	var name string
	switch {
	case ref.Object != graph.NoObject:
		base, _ = a.g.Object(ref.Object)
		id = a.identity(ref.Object)
		name = a.describe(ref.Object)
	case ref.SlotSize != 0:
		base, name = ref.SlotBase, freeSlotName(ref.SlotSize)
	default:
		return
	}
	k, ok := m.nameIdx[name]
	if !ok {
		k = uint32(len(m.names))
		m.names = append(m.names, name)
		m.nameIdx[name] = k
	}
	m.addr = graph.Append(m.mem, m.addr, addr)
	m.value = graph.Append(m.mem, m.value, ref.Value)
	m.base = graph.Append(m.mem, m.base, base)
	m.identity = graph.Append(m.mem, m.identity, id)
	m.name = graph.Append(m.mem, m.name, k)
}

// finish sorts the remembered words by address.
func (m *Memory) finish() {
	idx := make([]int, len(m.addr))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int { return cmpU64(m.addr[i], m.addr[j]) })
	for _, col := range [][]uint64{m.addr, m.value, m.base, m.identity} {
		permuteInPlace(col, idx)
	}
	permuteInPlace(m.name, idx)
}

func permuteInPlace[T any](s []T, idx []int) {
	tmp := make([]T, len(s))
	for i, j := range idx {
		tmp[i] = s[j]
	}
	copy(s, tmp)
}

func freeSlotName(size uint32) string {
	return "a free " + strconv.FormatUint(uint64(size), 10) + " B slot"
}

// identity hashes what tells one allocation from another in a slot the
// dump cannot follow through time: its type, allocation site and size. Two
// allocations of the same type, site and size in the same slot look the
// same (see the BUG note in classify).
func (a *Analysis) identity(o graph.ObjectID) uint64 {
	h := fnv.New64a()
	h.Write([]byte(a.describe(o)))
	_, size := a.g.Object(o)
	h.Write([]byte{byte(size), byte(size >> 8), byte(size >> 16), byte(size >> 24)})
	return h.Sum64() | 1 // never 0, which means a free slot
}

// describe names an object by its type and allocation site:
// "*main.Conn (main.dial at conn.go:12)".
func (a *Analysis) describe(o graph.ObjectID) string {
	name := a.ObjectTypeName(o)
	if s := a.names.ObjectSite(o); s != 0 {
		name += " (" + a.names.Site(s).String() + ")"
	}
	return name
}
