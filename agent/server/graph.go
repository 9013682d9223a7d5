package server

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
)

// Graphs is the graph tier: it takes heap snapshots and answers for the
// one it holds. The agent's implementation (package snapshot) runs every
// capture off the calling goroutine, single flight, and returns errors as
// status errors with a one-line reason (FAILED_PRECONDITION for a capture
// refused as unsafe, NOT_FOUND for a snapshot or node it does not hold).
// Its methods are called concurrently.
type Graphs interface {
	Capture(ctx context.Context, req *heaptopv1.CaptureRequest) (*heaptopv1.Snapshot, error)
	Expand(ctx context.Context, req *heaptopv1.ExpandRequest) (*heaptopv1.ExpandReply, error)
	Path(ctx context.Context, req *heaptopv1.PathRequest) (*heaptopv1.PathReply, error)
	Members(ctx context.Context, req *heaptopv1.MembersRequest) (*heaptopv1.MembersReply, error)
	Groups(ctx context.Context, req *heaptopv1.GroupsRequest) (*heaptopv1.GroupsReply, error)
}

// Deadlines of the unary calls, when the client asks for none or a longer
// one. A capture is the dump (seconds per GiB of heap in the child) plus
// the analysis (BENCHMARKS.md, "analysis": about 10 s for 10⁷ objects on
// this project's 2-core machine), so five minutes covers heaps far bigger
// than the agent is measured on without leaving a call hanging forever; a
// capture the caller stops waiting for goes on for the other callers and
// the Watch streams. Expand, Path and Members read a held snapshot: milliseconds,
// seconds on the largest nodes.
const (
	captureDeadline = 5 * time.Minute
	queryDeadline   = 30 * time.Second
)

var errNoGraphs = status.Error(codes.Unimplemented, "this agent takes no heap snapshots")

// Capture implements heaptopv1.HeaptopServer.
func (s *Server) Capture(ctx context.Context, req *heaptopv1.CaptureRequest) (*heaptopv1.CaptureReply, error) {
	if s.graphs == nil {
		return nil, errNoGraphs
	}
	ctx, cancel := context.WithTimeout(ctx, captureDeadline)
	defer cancel()
	snap, err := s.graphs.Capture(ctx, req)
	if err != nil {
		return nil, err
	}
	return &heaptopv1.CaptureReply{Snapshot: snap}, nil
}

// Expand implements heaptopv1.HeaptopServer.
func (s *Server) Expand(ctx context.Context, req *heaptopv1.ExpandRequest) (*heaptopv1.ExpandReply, error) {
	return query(s, ctx, req, Graphs.Expand)
}

// Path implements heaptopv1.HeaptopServer.
func (s *Server) Path(ctx context.Context, req *heaptopv1.PathRequest) (*heaptopv1.PathReply, error) {
	return query(s, ctx, req, Graphs.Path)
}

// Members implements heaptopv1.HeaptopServer.
func (s *Server) Members(ctx context.Context, req *heaptopv1.MembersRequest) (*heaptopv1.MembersReply, error) {
	return query(s, ctx, req, Graphs.Members)
}

// Groups implements heaptopv1.HeaptopServer.
func (s *Server) Groups(ctx context.Context, req *heaptopv1.GroupsRequest) (*heaptopv1.GroupsReply, error) {
	return query(s, ctx, req, Graphs.Groups)
}

// query passes a query about a held snapshot to the Graphs, within the
// queries' deadline.
func query[Req, Reply any](s *Server, ctx context.Context, req Req, answer func(Graphs, context.Context, Req) (Reply, error)) (Reply, error) {
	if s.graphs == nil {
		var none Reply
		return none, errNoGraphs
	}
	ctx, cancel := context.WithTimeout(ctx, queryDeadline)
	defer cancel()
	return answer(s.graphs, ctx, req)
}

// PublishEvent offers a graph-tier event (capture progress, a snapshot
// document, a notice) to every watcher, and keeps the newest snapshot and
// progress for clients that connect later. It never blocks on a client.
// ev must not be modified afterwards.
func (s *Server) PublishEvent(ev *heaptopv1.WatchEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch e := ev.Event.(type) {
	case *heaptopv1.WatchEvent_Snapshot:
		s.latest = e.Snapshot
		if s.progress != nil && s.progress.SnapshotId <= e.Snapshot.Id {
			s.progress = nil
		}
	case *heaptopv1.WatchEvent_Progress:
		if e.Progress.Phase == heaptopv1.Phase_PHASE_DONE {
			s.progress = nil
		} else {
			s.progress = e.Progress
		}
	case *heaptopv1.WatchEvent_Notice:
	default:
		panic(fmt.Sprintf("server: PublishEvent of a %T", ev.Event))
	}
	for w := range s.watchers {
		w.offerEvent(ev)
	}
}
