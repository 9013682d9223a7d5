package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
)

// heaptopTool asks heapgen's own agent over its socket, as the heaptop
// client does: Capture (dump in a fork, parse, name, analyse), Path to the
// planted object by its address, and each root's retained bytes from the
// document's tree (Expand for roots the document left out).
var heaptopTool = &tool{
	Name:    "heaptop",
	prepare: func(context.Context, *bench) (binary, error) { return binary{}, nil }, // heapgen links the agent
	answer:  heaptopAnswer,
}

// heaptopAnswer's wall time, which the harness records, is dial, Capture,
// Path and the Expand calls. `heaptop <pid> --once --json` would add
// Node's start-up (about 0.5 s, BENCHMARKS.md) on top. A Capture refused
// for its predicted pause is sent again with confirm_cost, as a user would
// after reading the cost; the refusal is kept in the notes.
func heaptopAnswer(ctx context.Context, _ *bench, t *target, _ string) (answer, error) {
	var a answer
	if t.ready.Agent == "" {
		return a, fmt.Errorf("heapgen's agent did not start: %s", t.ready.AgentError)
	}
	conn, err := grpc.NewClient(t.ready.Agent, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return a, err
	}
	defer conn.Close()
	c := heaptopv1.NewHeaptopClient(conn)
	done := a.rpc("Capture")
	reply, err := c.Capture(ctx, &heaptopv1.CaptureRequest{})
	if status.Code(err) == codes.FailedPrecondition {
		a.Notes = append(a.Notes, "Capture refused first, resent with confirm_cost: "+status.Convert(err).Message())
		reply, err = c.Capture(ctx, &heaptopv1.CaptureRequest{ConfirmCost: true})
	}
	done()
	if err != nil {
		return a, fmt.Errorf("Capture: %w", err)
	}
	snap := reply.GetSnapshot()
	st := snap.GetStats()
	a.ReportedPauseNs = st.GetPauseNs()
	a.Agent = &agentFigures{
		PauseNs: st.GetPauseNs(), DumpBytes: st.GetDumpBytes(), DumpNs: st.GetDumpNs(), ParseNs: st.GetParseNs(),
		NameNs: st.GetNameNs(), AnalyseNs: st.GetAnalyseNs(), DominatorsNs: st.GetDominatorsNs(),
		Objects: st.GetObjects(), Edges: st.GetEdges(), HeapBytes: st.GetHeapBytes(), HeldBytes: st.GetHeldBytes(),
		DocumentBytes: st.GetDocumentBytes(),
	}

	target, err := strconv.ParseUint(strings.TrimPrefix(t.ready.Target, "0x"), 16, 64)
	if err != nil {
		return a, fmt.Errorf("heapgen's target %q: %w", t.ready.Target, err)
	}
	done = a.rpc("Path address " + t.ready.Target)
	path, err := c.Path(ctx, &heaptopv1.PathRequest{SnapshotId: snap.GetId(), Of: &heaptopv1.PathRequest_Address{Address: target}})
	done()
	if err != nil {
		return a, fmt.Errorf("Path to %s: %w", t.ready.Target, err)
	}
	a.Chain = hopsText(path.GetPath())
	a.chainCheck = checkChain(a.Chain, t.ready.Chain)
	if hops := path.GetPath(); len(hops) == 0 || hops[len(hops)-1].GetAddress() != target {
		a.ChainMatch = "no" // the chain must end at the target, not merely pass it
	}

	done = a.rpc("Expand root groups for pruned roots")
	retained, err := rootRetained(ctx, c, snap, t)
	done()
	if err != nil {
		return a, err
	}
	for _, r := range t.ready.Roots {
		v, ok := retained[r.Name]
		a.Roots = append(a.Roots, checkRoot(r.Name, r.Retained, v, ok))
	}
	return a, nil
}

// rootRetained returns the retained bytes of heapgen's roots from the
// document's ROOT nodes; roots the document pruned (the tree sends the
// largest children of each node first) are looked up with Expand under
// their root group.
func rootRetained(ctx context.Context, c heaptopv1.HeaptopClient, snap *heaptopv1.Snapshot, t *target) (map[string]uint64, error) {
	retained := map[string]uint64{}
	var groups []uint32
	for _, n := range snap.GetTree() {
		switch n.GetKind() {
		case heaptopv1.NodeKind_NODE_KIND_ROOT:
			retained[n.GetLabel()] = n.GetRetainedBytes()
		case heaptopv1.NodeKind_NODE_KIND_ROOT_GROUP:
			if n.GetChildrenSent() < n.GetChildrenTotal() {
				groups = append(groups, n.GetId())
			}
		}
	}
	missing := func() bool {
		for _, r := range t.ready.Roots {
			if _, ok := retained[r.Name]; !ok {
				return true
			}
		}
		return false
	}
	for _, g := range groups {
		for offset := uint32(0); missing(); {
			reply, err := c.Expand(ctx, &heaptopv1.ExpandRequest{SnapshotId: snap.GetId(), Node: g, Offset: offset, Limit: 1000})
			if err != nil {
				return nil, fmt.Errorf("Expand root group %d: %w", g, err)
			}
			for _, n := range reply.GetNodes() {
				if n.GetKind() == heaptopv1.NodeKind_NODE_KIND_ROOT {
					retained[n.GetLabel()] = n.GetRetainedBytes()
				}
			}
			if len(reply.GetNodes()) == 0 {
				break
			}
			offset += uint32(len(reply.GetNodes()))
		}
	}
	return retained, nil
}

// hopsText is a chain as one line per hop: label, type, address.
func hopsText(hops []*heaptopv1.Hop) string {
	var b strings.Builder
	for _, h := range hops {
		fmt.Fprintf(&b, "%s %s %s %#x\n", strings.TrimPrefix(h.GetVia().String(), "VIA_"), h.GetLabel(), h.GetTypeName(), h.GetAddress())
	}
	return b.String()
}

// rpc starts timing one call of the answer; the returned func records it
// as a step (the harness's steps are commands; heaptop's are RPCs).
func (a *answer) rpc(name string) func() {
	start := time.Now()
	return func() {
		a.Steps = append(a.Steps, step{Command: "rpc " + name, WallNs: uint64(time.Since(start))})
	}
}
