package server

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/heaptop/heaptop/agent/internal/agenttest"
)

// BenchmarkTickDelivery is the cost of getting one real tick (one GC pause
// in it) to n clients over the unix socket: Publish, the server's Send, and
// each client's Recv, in this one process, waiting for every client to have
// it before the next Publish. cpu-µs/tick is the process's user+system CPU
// per tick, so it includes the clients' decoding: an upper bound on what
// the agent spends. B/op likewise counts both sides.
func BenchmarkTickDelivery(b *testing.B) {
	tick := realTicks(1, 1)[0]
	for _, n := range []int{0, 1, 4} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			s, addr := serve(b, Config{History: 300})
			got := make(chan struct{}, n)
			for range n {
				stream := agenttest.Watch(b, agenttest.Dial(b, addr))
				go func() {
					for {
						if tk, err := stream.Next(); err != nil || tk == nil {
							return
						}
						got <- struct{}{}
					}
				}()
			}
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				s.Publish(tick)
				for range n {
					<-got
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/tick")
		})
	}
}

// cpuTime returns this process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
