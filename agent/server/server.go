// Package server serves heaptop's gRPC API: it takes Ticks from the agent's
// sampling loop (Publish) and graph-tier events from its captures
// (PublishEvent), and gives every Watch client a Hello (the target, the tick
// interval and the recent history) and the latest snapshot, followed by
// each new tick, capture progress, snapshot and notice, without ever
// letting a client hold up the sampler, a capture or another client. It
// answers Capture, Expand, Path, Members and Groups through the agent's Graphs (graph.go).
//
// # Delivery
//
// Publish appends the tick to the history ring and offers it to every
// watcher's mailbox (one slot per kind of event); it never waits for a
// client. Each Watch
// handler sends from its own mailbox, so a client that reads slowly (or a
// connection whose flow-control window is full) only delays itself. When a
// new tick arrives before the previous one was sent, the two are coalesced:
// the client gets the newest gauges and rates, and the pauses of both, so a
// slow client misses intermediate samples but never a GC pause — up to
// maxPendingPauses, beyond which the oldest are dropped and counted in
// pauses_missed.
//
// Published Ticks are shared by the history and every mailbox and are never
// modified; coalescing builds a new Tick. Graph-tier events keep only the
// newest of each kind (watcher.go); snapshots are shared and never modified
// either.
//
// # Connections
//
// Clients may send HTTP/2 keepalive pings every keepaliveMinTime or less
// often, with or without an active stream (grpc-js: "grpc.keepalive_time_ms"
// ≥ 5000 and "grpc.keepalive_permit_without_calls": 1). Pinging more often
// earns a GOAWAY "too_many_pings" after three strikes (grpc-go's rule).
//
// Each listener is served with its own Access (access.go): the unix socket
// admits whoever can open it, a TCP listener asks every request for a token
// and may speak TLS. All listeners share one set of watchers and one limit.
package server

import (
	"context"
	"fmt"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
)

// keepaliveMinTime is the shortest keepalive ping interval the server
// accepts. The TS client pings every 10 s; grpc-go clients cannot ping more
// often than every 10 s. Half of that leaves room for timer jitter.
const keepaliveMinTime = 5 * time.Second

// maxWatchers bounds concurrent Watch streams, so that a runaway client
// cannot make the target hold an unbounded number of goroutines and
// mailboxes. Each stream costs about 20 µs of CPU and 0.3-0.7 KB of
// allocation per tick (BENCHMARKS.md: BenchmarkTickDelivery,
// BenchmarkAgentTick; 2 cores), so 64 bounds the agent at about 1.3 ms and
// 45 KB per tick. A person at a terminal needs a handful; 64 leaves room
// for scripts and recorders.
const maxWatchers = 64

// maxCalls bounds the unary calls (Capture, Expand, Path, Members, Groups) the agent answers
// at once; more are refused with RESOURCE_EXHAUSTED and a reason. Captures
// are single flight and the others read one held snapshot, so a
// handful of people at terminals never come near it; it stops a script in
// a loop from making the target hold a goroutine and a reply per call.
const maxCalls = 16

// maxReplyBytes bounds a reply the agent sends: the receive limit of
// grpc-go and grpc-js clients by default (4 MiB), so a document that
// outgrew its bounds fails at the agent, with a reason, not at the client.
// Snapshot documents are pruned to far less (stats.document_bytes).
const maxReplyBytes = 4 << 20

// maxRequestBytes bounds a request message. A WatchRequest is a few bytes;
// the bound keeps an untrusted client from making the target buffer more.
const maxRequestBytes = 4 << 10

// Config is what a Server serves. All fields are required but OnRefused.
type Config struct {
	// Target describes this process; it is sent in every Hello and must
	// not be modified afterwards.
	Target *heaptopv1.Target
	// TickInterval is the sampling interval, announced in Hello.
	TickInterval time.Duration
	// History is how many recent ticks a new client receives in Hello.
	History int
	// OnPanic is called, after recovery, when a handler panics; the panic
	// ends only that RPC (codes.Internal).
	OnPanic func(recovered any, stack []byte)
	// OnRefused, if not nil, is called for each request refused for its
	// token, with the peer's address (nil if unknown) and the reason the
	// client was given. It must not block.
	OnRefused func(from net.Addr, why string)
	// Graphs takes and serves heap snapshots (Capture, Expand, Path, Members, Groups).
	// Optional: without it those calls answer Unimplemented.
	Graphs Graphs
}

// Server implements heaptopv1.HeaptopServer.
type Server struct {
	heaptopv1.UnimplementedHeaptopServer

	// Read-only once New returns.
	target       *heaptopv1.Target
	tickInterval time.Duration
	onPanic      func(any, []byte)
	onRefused    func(net.Addr, string)
	graphs       Graphs

	refused atomic.Uint64 // requests refused for their token
	calls   chan struct{} // one token per unary call being answered, maxCalls

	// smu guards servers and stopped: one gRPC server per Serve call.
	smu     sync.Mutex
	servers []*grpc.Server
	stopped bool

	// mu guards history, watchers, latest and progress. Publish,
	// PublishEvent and register hold it, so a new client's history and its
	// first live tick neither overlap nor leave a gap, and it gets the
	// latest snapshot before any newer event.
	mu       sync.Mutex
	history  *history
	watchers map[*watcher]struct{}
	latest   *heaptopv1.Snapshot        // the newest snapshot published
	progress *heaptopv1.CaptureProgress // the newest progress, if newer than latest
}

// New returns a Server that is ready to Serve.
func New(c Config) *Server {
	s := &Server{
		target:       c.Target,
		tickInterval: c.TickInterval,
		onPanic:      c.OnPanic,
		onRefused:    c.OnRefused,
		graphs:       c.Graphs,
		history:      newHistory(c.History),
		watchers:     make(map[*watcher]struct{}),
		calls:        make(chan struct{}, maxCalls),
	}
	if s.onRefused == nil {
		s.onRefused = func(net.Addr, string) {}
	}
	return s
}

// Serve accepts connections on l, admitting requests as a says, until Stop;
// it returns nil after Stop (grpc.ErrServerStopped if Stop came first). It
// may be called once per listener, concurrently.
func (s *Server) Serve(l net.Listener, a Access) error {
	g := grpc.NewServer(append(s.serverOptions(a),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             keepaliveMinTime,
			PermitWithoutStream: true,
		}),
		grpc.MaxRecvMsgSize(maxRequestBytes),
		grpc.MaxSendMsgSize(maxReplyBytes),
		// Stop returns only once every handler has returned, so Close
		// leaves no goroutine of ours behind.
		grpc.WaitForHandlers(true),
	)...)
	heaptopv1.RegisterHeaptopServer(g, s)
	s.smu.Lock()
	if s.stopped {
		s.smu.Unlock()
		l.Close()
		return grpc.ErrServerStopped
	}
	s.servers = append(s.servers, g)
	s.smu.Unlock()
	return g.Serve(l)
}

// Stop closes every listener and connection, ends every stream and waits
// for the handlers to return.
func (s *Server) Stop() {
	s.smu.Lock()
	s.stopped = true
	servers := s.servers
	s.smu.Unlock()
	for _, g := range servers {
		g.Stop()
	}
}

// Publish records t in the history and offers it to every watcher. It never
// blocks on a client. t must not be modified afterwards.
func (s *Server) Publish(t *heaptopv1.Tick) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.history.add(t)
	for w := range s.watchers {
		w.offer(t)
	}
}

// Watch implements heaptopv1.HeaptopServer, in the manner of grpc-go's
// health server: the current state (Hello) first, then every change, from a
// mailbox that is unregistered when the stream ends.
func (s *Server) Watch(req *heaptopv1.WatchRequest, stream grpc.ServerStreamingServer[heaptopv1.WatchEvent]) error {
	if v := req.GetClientSchemaVersion(); v != 0 && v != schemaVersion {
		return status.Errorf(codes.FailedPrecondition,
			"schema version mismatch: the agent speaks heaptop schema %d, the client speaks %d", schemaVersion, v)
	}
	w := newWatcher()
	history, err := s.register(w) // queues the latest snapshot and progress
	if err != nil {
		return err
	}
	defer s.unregister(w)

	hello := &heaptopv1.Hello{
		SchemaVersion:  schemaVersion,
		Target:         s.target,
		TickIntervalNs: uint64(s.tickInterval),
		History:        history,
	}
	if err := stream.Send(&heaptopv1.WatchEvent{Event: &heaptopv1.WatchEvent_Hello{Hello: hello}}); err != nil {
		return err
	}
	ctx := stream.Context()
	for {
		select {
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		case <-w.ready:
			for ev := w.take(); ev != nil; ev = w.take() {
				if err := stream.Send(ev); err != nil {
					return err
				}
			}
		}
	}
}

// register adds w to the watchers and returns the history it starts after.
func (s *Server) register(w *watcher) ([]*heaptopv1.Tick, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.watchers) >= maxWatchers {
		return nil, status.Errorf(codes.ResourceExhausted,
			"the agent already serves %d Watch streams, its limit", maxWatchers)
	}
	s.watchers[w] = struct{}{}
	if s.latest != nil {
		w.offerEvent(&heaptopv1.WatchEvent{Event: &heaptopv1.WatchEvent_Snapshot{Snapshot: s.latest}})
	}
	if s.progress != nil {
		w.offerEvent(&heaptopv1.WatchEvent{Event: &heaptopv1.WatchEvent_Progress{Progress: s.progress}})
	}
	return s.history.ticks(), nil
}

func (s *Server) unregister(w *watcher) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.watchers, w)
}

// watching returns the number of registered watchers.
func (s *Server) watching() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.watchers)
}

// recoverStream turns a panic in a stream handler into codes.Internal for
// that stream and a report to OnPanic, instead of a crash of the target.
func (s *Server) recoverStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer s.recoverIn(info.FullMethod, &err)
	return handler(srv, ss)
}

// recoverUnary is recoverStream for unary handlers, and refuses a call
// beyond maxCalls.
func (s *Server) recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (reply any, err error) {
	defer s.recoverIn(info.FullMethod, &err)
	select {
	case s.calls <- struct{}{}:
		defer func() { <-s.calls }()
	default:
		return nil, status.Errorf(codes.ResourceExhausted, "the agent is already answering %d calls, its limit; try again", maxCalls)
	}
	return handler(ctx, req)
}

// recoverIn is deferred by the recovering interceptors: a panic becomes
// *err, codes.Internal, and a report to OnPanic.
func (s *Server) recoverIn(method string, err *error) {
	if r := recover(); r != nil {
		s.onPanic(r, debug.Stack())
		*err = status.Error(codes.Internal, fmt.Sprintf("heaptop agent: %s failed; the agent reported why", method))
	}
}
