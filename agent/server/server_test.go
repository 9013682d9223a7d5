package server

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/internal/agenttest"
	"github.com/heaptop/heaptop/agent/metrics"
)

var testTarget = &heaptopv1.Target{Pid: 4242, Executable: "/srv/svc", GoVersion: runtime.Version()}

// serve starts a Server on a unix socket and returns it with its address.
func serve(t testing.TB, c Config) (*Server, string) {
	t.Helper()
	if c.Target == nil {
		c.Target = testTarget
	}
	if c.TickInterval == 0 {
		c.TickInterval = time.Second
	}
	if c.OnPanic == nil {
		c.OnPanic = func(r any, stack []byte) { t.Errorf("panic: %v\n%s", r, stack) }
	}
	sock := filepath.Join(t.TempDir(), "s.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	s := New(c)
	done := make(chan error, 1)
	go func() { done <- s.Serve(l, Access{}) }()
	t.Cleanup(func() {
		s.Stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s, "unix://" + sock
}

// realTicks samples this process n times, forcing gcsEach GCs before each
// sample so that the ticks carry pauses.
func realTicks(n, gcsEach int) []*heaptopv1.Tick {
	s, err := metrics.New()
	if err != nil {
		panic(err)
	}
	s.Sample() // the ring's history before the call
	var out []*heaptopv1.Tick
	for range n {
		for range gcsEach {
			runtime.GC()
		}
		out = append(out, s.Sample())
	}
	return out
}

func TestWatchHelloThenTicks(t *testing.T) {
	s, addr := serve(t, Config{History: 300, TickInterval: 250 * time.Millisecond})
	ticks := realTicks(5, 1)
	for _, tk := range ticks[:3] {
		s.Publish(tk)
	}
	stream := agenttest.Watch(t, agenttest.Dial(t, addr))
	hello := stream.Hello
	want := &heaptopv1.Hello{
		SchemaVersion:  1,
		Target:         testTarget,
		TickIntervalNs: 250_000_000,
		History:        ticks[:3],
	}
	if !proto.Equal(hello, want) {
		t.Errorf("Hello =\n%v\nwant\n%v", hello, want)
	}
	for _, tk := range ticks[3:] {
		s.Publish(tk)
		if got := stream.Tick(t); !proto.Equal(got, tk) {
			t.Errorf("tick =\n%v\nwant the published\n%v", got, tk)
		}
	}
}

func TestWatchHistoryKeepsNewest(t *testing.T) {
	ticks := realTicks(5, 0)
	tests := []struct {
		name      string
		capacity  int
		published int
		want      []*heaptopv1.Tick
	}{
		{"none_kept", 0, 5, nil},
		{"not_full", 3, 2, ticks[:2]},
		{"full", 3, 3, ticks[:3]},
		{"wrapped", 3, 5, ticks[2:5]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, addr := serve(t, Config{History: tt.capacity})
			for _, tk := range ticks[:tt.published] {
				s.Publish(tk)
			}
			hello := agenttest.Watch(t, agenttest.Dial(t, addr)).Hello
			if len(hello.History) != len(tt.want) {
				t.Fatalf("history has %d ticks, want %d", len(hello.History), len(tt.want))
			}
			for i := range tt.want {
				if !proto.Equal(hello.History[i], tt.want[i]) {
					t.Errorf("history[%d] is not published tick %d", i, i)
				}
			}
		})
	}
}

func TestWatchSchemaVersion(t *testing.T) {
	_, addr := serve(t, Config{History: 1})
	tests := []struct {
		client   uint32
		wantCode codes.Code
		wantMsg  string
	}{
		{0, codes.OK, ""}, // unset: a client that does not check
		{1, codes.OK, ""},
		{2, codes.FailedPrecondition, "schema version mismatch: the agent speaks heaptop schema 1, the client speaks 2"},
		{7, codes.FailedPrecondition, "schema version mismatch: the agent speaks heaptop schema 1, the client speaks 7"},
	}
	client := heaptopv1.NewHeaptopClient(agenttest.Dial(t, addr))
	for _, tt := range tests {
		ctx, cancel := context.WithTimeout(context.Background(), agenttest.Deadline)
		stream, err := client.Watch(ctx, &heaptopv1.WatchRequest{ClientSchemaVersion: tt.client})
		if err == nil {
			_, err = stream.Recv()
		}
		cancel()
		if st := status.Convert(err); st.Code() != tt.wantCode || st.Message() != tt.wantMsg {
			t.Errorf("client version %d: got %v %q, want %v %q", tt.client, st.Code(), st.Message(), tt.wantCode, tt.wantMsg)
		}
	}
}

// TestWatchTwoClients publishes real ticks to two clients at once and checks
// that both receive each one, identical to what was published.
func TestWatchTwoClients(t *testing.T) {
	s, addr := serve(t, Config{History: 10})
	a := agenttest.Watch(t, agenttest.Dial(t, addr))
	b := agenttest.Watch(t, agenttest.Dial(t, addr))
	for i, tk := range realTicks(5, 1) {
		s.Publish(tk)
		for name, stream := range map[string]*agenttest.Stream{"a": a, "b": b} {
			if got := stream.Tick(t); !proto.Equal(got, tk) {
				t.Errorf("client %s, tick %d =\n%v\nwant\n%v", name, i, got, tk)
			}
		}
	}
}

func TestWatchEndsOnCancel(t *testing.T) {
	s, addr := serve(t, Config{History: 1})
	stream := agenttest.Watch(t, agenttest.Dial(t, addr))
	if n := s.watching(); n != 1 {
		t.Fatalf("%d watchers registered, want 1", n)
	}
	stream.Close()
	agenttest.WaitFor(t, "the watcher to unregister", func() bool { return s.watching() == 0 })
}

func TestWatchLimit(t *testing.T) {
	_, addr := serve(t, Config{History: 1})
	conn := agenttest.Dial(t, addr)
	for range maxWatchers {
		agenttest.Watch(t, conn)
	}
	ctx, cancel := context.WithTimeout(context.Background(), agenttest.Deadline)
	defer cancel()
	stream, err := heaptopv1.NewHeaptopClient(conn).Watch(ctx, &heaptopv1.WatchRequest{})
	if err == nil {
		_, err = stream.Recv()
	}
	want := "the agent already serves 64 Watch streams, its limit"
	if st := status.Convert(err); st.Code() != codes.ResourceExhausted || st.Message() != want {
		t.Errorf("stream %d: got %v %q, want ResourceExhausted %q", maxWatchers+1, st.Code(), st.Message(), want)
	}
}

// TestCoalesce offers a mailbox three real ticks before taking one: the
// client gets the newest tick with every pause of the three.
func TestCoalesce(t *testing.T) {
	ticks := realTicks(3, 2)
	originals := make([]*heaptopv1.Tick, len(ticks))
	for i, tk := range ticks {
		originals[i] = proto.CloneOf(tk)
	}
	w := newWatcher()
	for _, tk := range ticks {
		w.offer(tk)
	}
	got := w.take().GetTick()

	want := proto.CloneOf(ticks[2])
	want.Pauses = append(append(append([]*heaptopv1.GcPause(nil), ticks[0].Pauses...), ticks[1].Pauses...), ticks[2].Pauses...)
	if !proto.Equal(got, want) {
		t.Errorf("coalesced tick =\n%v\nwant\n%v", got, want)
	}
	if len(got.Pauses) != 6 {
		t.Errorf("coalesced tick has %d pauses, want the 6 forced", len(got.Pauses))
	}
	for i := range ticks {
		if !proto.Equal(ticks[i], originals[i]) {
			t.Errorf("published tick %d was modified by coalescing", i)
		}
	}
	if w.take() != nil {
		t.Error("mailbox not empty after take")
	}
}

// TestCoalesceCapsPauses lets a mailbox fill with more pauses than the cap:
// the newest maxPendingPauses stay and the rest are counted as missed.
func TestCoalesceCapsPauses(t *testing.T) {
	old := debug.SetGCPercent(-1) // only the forced cycles
	defer debug.SetGCPercent(old)
	ticks := realTicks(2, 150) // 300 pauses, none missed by the sampler
	w := newWatcher()
	w.offer(ticks[0])
	w.offer(ticks[1])
	got := w.take().GetTick()
	if len(got.Pauses) != maxPendingPauses || got.PausesMissed != 300-maxPendingPauses {
		t.Fatalf("got %d pauses and %d missed, want %d and %d", len(got.Pauses), got.PausesMissed, maxPendingPauses, 300-maxPendingPauses)
	}
	last := ticks[1].Pauses[len(ticks[1].Pauses)-1].Cycle
	for i, p := range got.Pauses {
		if want := last - uint64(maxPendingPauses-1-i); p.Cycle != want {
			t.Fatalf("pause %d is cycle %d, want %d (the newest, in order)", i, p.Cycle, want)
		}
	}
}

func TestRecoverStream(t *testing.T) {
	var reported any
	s := New(Config{Target: testTarget, OnPanic: func(r any, stack []byte) {
		if !strings.Contains(string(stack), "TestRecoverStream") {
			t.Errorf("stack does not show the panicking handler:\n%s", stack)
		}
		reported = r
	}})
	info := &grpc.StreamServerInfo{FullMethod: "/heaptop.v1.Heaptop/Watch"}
	err := s.recoverStream(nil, nil, info, func(any, grpc.ServerStream) error { panic("boom") })
	if reported != "boom" {
		t.Errorf("OnPanic got %v, want boom", reported)
	}
	want := "heaptop agent: /heaptop.v1.Heaptop/Watch failed; the agent reported why"
	if st := status.Convert(err); st.Code() != codes.Internal || st.Message() != want {
		t.Errorf("got %v %q, want Internal %q", st.Code(), st.Message(), want)
	}
	if err := s.recoverStream(nil, nil, info, func(any, grpc.ServerStream) error { return errors.ErrUnsupported }); err != errors.ErrUnsupported {
		t.Errorf("a handler's own error became %v", err)
	}
}

// TestRecoverUnary is TestRecoverStream for unary RPCs (Capture, Expand and
// Path, when they come): a panic ends the call, not the target.
func TestRecoverUnary(t *testing.T) {
	var reported any
	s := New(Config{Target: testTarget, OnPanic: func(r any, _ []byte) { reported = r }})
	info := &grpc.UnaryServerInfo{FullMethod: "/heaptop.v1.Heaptop/Capture"}
	_, err := s.recoverUnary(context.Background(), nil, info, func(context.Context, any) (any, error) { panic("boom") })
	want := "heaptop agent: /heaptop.v1.Heaptop/Capture failed; the agent reported why"
	if st := status.Convert(err); reported != "boom" || st.Code() != codes.Internal || st.Message() != want {
		t.Errorf("got %v %q (reported %v), want Internal %q (reported boom)", st.Code(), st.Message(), reported, want)
	}
}

// TestServeAfterStop: a listener handed over after Stop is closed at once,
// so Close cannot race a Start that is still setting up its listeners.
func TestServeAfterStop(t *testing.T) {
	s := New(Config{Target: testTarget, History: 1})
	s.Stop()
	l, err := net.Listen("unix", filepath.Join(t.TempDir(), "s.sock"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(l, Access{}); err != grpc.ErrServerStopped {
		t.Errorf("Serve after Stop: %v, want grpc.ErrServerStopped", err)
	}
	if _, err := l.Accept(); err == nil {
		t.Error("the listener is still open")
	}
}

// TestKeepalivePolicy keeps an idle connection that pings every 10 s (the
// TS client's setting; grpc-go's minimum) open for four pings: with
// grpc-go's default policy the server would answer the fourth with GOAWAY
// too_many_pings. It runs in parallel: it is slow by nature.
func TestKeepalivePolicy(t *testing.T) {
	t.Parallel()
	_, addr := serve(t, Config{History: 1})
	conn := agenttest.Dial(t, addr, grpc.WithKeepaliveParams(keepalive.ClientParameters{
		Time: 10 * time.Second, Timeout: 5 * time.Second, PermitWithoutStream: true,
	}))
	conn.Connect()
	ctx, cancel := context.WithTimeout(context.Background(), agenttest.Deadline)
	defer cancel()
	for s := conn.GetState(); s != connectivity.Ready; s = conn.GetState() {
		if !conn.WaitForStateChange(ctx, s) {
			t.Fatalf("connection stuck in %v", s)
		}
	}
	idle, cancelIdle := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancelIdle()
	if conn.WaitForStateChange(idle, connectivity.Ready) {
		t.Fatalf("idle connection pinging every 10 s left READY for %v", conn.GetState())
	}
}
