package naming

import (
	"github.com/heaptop/heaptop/agent/graph"
	"github.com/heaptop/heaptop/agent/symbols"
)

// FrameSlot names the stack slot at byte offset off (from sp) of frame fr,
// as EdgeLabel names a frame's pointer slots, for any word of the frame:
// analysis asks it of the words it judges as hidden references and of
// the stack slots they point at.
func (n *Names) FrameSlot(fr graph.FrameID, off uint64) (symbols.Local, bool) { return n.slot(fr, off) }
