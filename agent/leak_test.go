package agent_test

import (
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/heaptop/heaptop/agent"
	"github.com/heaptop/heaptop/agent/internal/agenttest"
)

// goroutines returns the stacks of all goroutines, by goroutine id.
func goroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	header := regexp.MustCompile(`^goroutine (\d+) `)
	out := map[string]string{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		if m := header.FindStringSubmatch(g); m != nil {
			out[m[1]] = g
		}
	}
	return out
}

// TestCloseLeavesNoGoroutine runs the agent with two clients mid-stream,
// one on the unix socket and one over TCP, closes it, closes the clients,
// and waits until every goroutine started since is gone. A first round runs before the count, so that goroutines
// grpc starts once per process are not taken for leaks.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	round := func() {
		a, _ := startIn(t, agent.Options{TickInterval: 50 * time.Millisecond, TCP: "127.0.0.1:0", Token: token})
		conns := []interface{ Close() error }{}
		for _, conn := range []*grpc.ClientConn{
			agenttest.Dial(t, a.Address()),
			agenttest.Dial(t, a.TCPAddr(), grpc.WithPerRPCCredentials(agenttest.Token(token))),
		} {
			conns = append(conns, conn)
			s := agenttest.Watch(t, conn)
			s.Tick(t) // mid-stream
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		for _, c := range conns {
			c.Close()
		}
	}
	round()
	before := goroutines()
	round()

	var left []string
	if !agenttest.Eventually(func() bool {
		left = left[:0]
		for id, stack := range goroutines() {
			if _, ok := before[id]; !ok {
				left = append(left, stack)
			}
		}
		return len(left) == 0
	}) {
		t.Fatalf("after %v, %d goroutines started since are still there:\n%s",
			agenttest.Deadline, len(left), strings.Join(left, "\n\n"))
	}
}
