package server

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/internal/agenttest"
)

// graphsFunc serves the graph tier's calls with the functions given; the
// documents of these tests are plumbing, not heaps (package snapshot's
// tests send real ones).
type graphsFunc struct {
	capture func(context.Context, *heaptopv1.CaptureRequest) (*heaptopv1.Snapshot, error)
}

func (g graphsFunc) Capture(ctx context.Context, req *heaptopv1.CaptureRequest) (*heaptopv1.Snapshot, error) {
	return g.capture(ctx, req)
}

func (graphsFunc) Expand(context.Context, *heaptopv1.ExpandRequest) (*heaptopv1.ExpandReply, error) {
	return nil, status.Error(codes.NotFound, "no such snapshot")
}

func (graphsFunc) Path(context.Context, *heaptopv1.PathRequest) (*heaptopv1.PathReply, error) {
	return nil, status.Error(codes.NotFound, "no such snapshot")
}

func (graphsFunc) Members(context.Context, *heaptopv1.MembersRequest) (*heaptopv1.MembersReply, error) {
	return nil, status.Error(codes.NotFound, "no such snapshot")
}

func (graphsFunc) Groups(context.Context, *heaptopv1.GroupsRequest) (*heaptopv1.GroupsReply, error) {
	return nil, status.Error(codes.NotFound, "no such snapshot")
}

func snapshotEvent(id uint64, complete bool) *heaptopv1.WatchEvent {
	return &heaptopv1.WatchEvent{Event: &heaptopv1.WatchEvent_Snapshot{Snapshot: &heaptopv1.Snapshot{Id: id, Complete: complete}}}
}

func progressEvent(id uint64, p heaptopv1.Phase) *heaptopv1.WatchEvent {
	return &heaptopv1.WatchEvent{Event: &heaptopv1.WatchEvent_Progress{Progress: &heaptopv1.CaptureProgress{SnapshotId: id, Phase: p}}}
}

func noticeEvent(text string) *heaptopv1.WatchEvent {
	return &heaptopv1.WatchEvent{Event: &heaptopv1.WatchEvent_Notice{Notice: &heaptopv1.Notice{Text: text}}}
}

// TestMailbox_newest_of_each_kind offers a slow client a whole capture's
// events: it gets the notice, then the complete snapshot, then the final
// progress, never the superseded ones.
func TestMailbox_newest_of_each_kind(t *testing.T) {
	w := newWatcher()
	for _, ev := range []*heaptopv1.WatchEvent{
		progressEvent(3, heaptopv1.Phase_PHASE_ANALYSE),
		snapshotEvent(3, false),
		progressEvent(3, heaptopv1.Phase_PHASE_DOMINATORS),
		snapshotEvent(3, true),
		progressEvent(3, heaptopv1.Phase_PHASE_DONE),
		noticeEvent("capture 3 done"),
	} {
		w.offerEvent(ev)
	}
	want := []*heaptopv1.WatchEvent{noticeEvent("capture 3 done"), snapshotEvent(3, true), progressEvent(3, heaptopv1.Phase_PHASE_DONE)}
	for i, ev := range want {
		if got := w.take(); !proto.Equal(got, ev) {
			t.Fatalf("event %d: %v, want %v", i, got, ev)
		}
	}
	if ev := w.take(); ev != nil {
		t.Fatalf("mailbox still holds %v", ev)
	}
	// A snapshot drops the progress it supersedes.
	w.offerEvent(progressEvent(4, heaptopv1.Phase_PHASE_DOMINATORS))
	w.offerEvent(snapshotEvent(4, true))
	if got := w.take(); got.GetSnapshot().GetId() != 4 || w.take() != nil {
		t.Fatalf("progress of capture 4 outlived its snapshot")
	}
	// Notices beyond the cap are counted in the next one sent.
	for i := range maxPendingNotices + 2 {
		w.offerEvent(noticeEvent("n" + string(rune('a'+i))))
	}
	if got := w.take().GetNotice().GetText(); !strings.Contains(got, "and 2 earlier notices") {
		t.Fatalf("first notice after overflow reads %q", got)
	}
}

// TestWatch_latest_snapshot_first: a client that connects after a capture
// gets the Hello, then the latest snapshot and the progress of the capture
// in flight, then what is published next.
func TestWatch_latest_snapshot_first(t *testing.T) {
	s, addr := serve(t, Config{History: 1})
	s.PublishEvent(snapshotEvent(1, true))
	s.PublishEvent(progressEvent(2, heaptopv1.Phase_PHASE_PARSE))
	st := agenttest.Watch(t, agenttest.Dial(t, addr))
	if got := st.Event(t); got.GetSnapshot().GetId() != 1 {
		t.Fatalf("first event after Hello: %v, want snapshot 1", got)
	}
	if got := st.Event(t); got.GetProgress().GetSnapshotId() != 2 {
		t.Fatalf("second event: %v, want capture 2's progress", got)
	}
	s.PublishEvent(snapshotEvent(2, false))
	if got := st.Event(t); got.GetSnapshot().GetId() != 2 || got.GetSnapshot().GetComplete() {
		t.Fatalf("then %v, want snapshot 2, findings first", got)
	}
}

func TestCapture_through_Graphs(t *testing.T) {
	_, addr := serve(t, Config{History: 1})
	c := heaptopv1.NewHeaptopClient(agenttest.Dial(t, addr))
	if _, err := c.Capture(context.Background(), &heaptopv1.CaptureRequest{}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("Capture without Graphs: %v, want Unimplemented", err)
	}

	var reported any
	calls := 0
	_, addr = serve(t, Config{History: 1, OnPanic: func(r any, _ []byte) { reported = r }, Graphs: graphsFunc{
		capture: func(ctx context.Context, req *heaptopv1.CaptureRequest) (*heaptopv1.Snapshot, error) {
			calls++
			switch calls {
			case 1:
				if _, ok := ctx.Deadline(); !ok {
					t.Error("Capture reached Graphs without a deadline")
				}
				return &heaptopv1.Snapshot{Id: 9, Complete: true}, nil
			case 2:
				return nil, status.Error(codes.ResourceExhausted, "capture refused: not enough memory")
			}
			panic("boom")
		},
	}})
	c = heaptopv1.NewHeaptopClient(agenttest.Dial(t, addr))
	if r, err := c.Capture(context.Background(), &heaptopv1.CaptureRequest{}); err != nil || r.GetSnapshot().GetId() != 9 {
		t.Fatalf("Capture: %v %v", r, err)
	}
	if _, err := c.Capture(context.Background(), &heaptopv1.CaptureRequest{}); status.Code(err) != codes.ResourceExhausted ||
		status.Convert(err).Message() != "capture refused: not enough memory" {
		t.Fatalf("refusal came back as %v", err)
	}
	if _, err := c.Capture(context.Background(), &heaptopv1.CaptureRequest{}); status.Code(err) != codes.Internal || reported != "boom" {
		t.Fatalf("a panic in Graphs: %v, reported %v", err, reported)
	}
	if _, err := c.Path(context.Background(), &heaptopv1.PathRequest{SnapshotId: 1}); status.Code(err) != codes.NotFound {
		t.Fatalf("Path: %v", err)
	}
}
