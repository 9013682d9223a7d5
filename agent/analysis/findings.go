package analysis

// FindingKind says what a finding is (design.md §3).
type FindingKind uint8

const (
	// Dangling: a hidden reference to a free slot, or to a slot an earlier
	// snapshot saw holding the object the word named and that is free now.
	Dangling FindingKind = iota + 1
	// DanglingReused: a hidden reference to a slot that now holds another
	// allocation than an earlier snapshot saw there.
	DanglingReused
	// DanglingSoon: a hidden reference to pending garbage (unreachable,
	// pending finalization, or weakly held): the next GC frees it.
	DanglingSoon
	// Stack: a hidden reference into a goroutine's stack, which moves when
	// it grows and is reused when the frame returns.
	Stack
	// Unprotected: a hidden reference to a live object. Nothing keeps the
	// object alive but other paths; when they go, this becomes Dangling.
	Unprotected
	// Leak: an object the program declared released that is still live.
	Leak
	// Suspect: a dominator retaining at least 10% of the heap.
	Suspect
	numFindingKinds
)

var findingKindNames = [numFindingKinds]string{
	Dangling: "dangling", DanglingReused: "dangling (reused)", DanglingSoon: "dangling soon", Stack: "stack",
	Unprotected: "unprotected", Leak: "leak", Suspect: "suspect",
}

func (k FindingKind) String() string {
	if k < numFindingKinds && findingKindNames[k] != "" {
		return findingKindNames[k]
	}
	return "finding"
}
