// Command demo is a small service to point heaptop at: a pool of workers
// answers jobs taken from a queue with customers' account statements,
// rendering each statement once and keeping recent ones in an LRU cache.
// It allocates steadily (every answer is a fresh buffer, every cache miss a
// rendering), so the GC runs every second or two at the default rate.
//
// It starts the heaptop agent, prints one line
//
//	heaptop demo: pid=<pid> agent=<address>
//
// (and "heaptop demo: tcp=<host:port>" when it serves TCP too), and runs
// until -duration has passed or SIGINT/SIGTERM arrives; then it stops taking
// jobs, closes the agent and exits 0.
//
//	go run ./examples/demo -rate 200 -workers 4
//
// With -tcp the agent also serves TCP; the token comes from $HEAPTOP_TOKEN
// (the variable heaptop reads too), TLS from -tls-cert and -tls-key:
//
//	export HEAPTOP_TOKEN=$(head -c 32 /dev/urandom | xxd -p -c 64)
//	go run ./examples/demo -tcp 127.0.0.1:7070 &
//	heaptop 127.0.0.1:7070
//
// With -full-sites every object allocated after start has an allocation
// site (agent.Options.FullAllocSites). Two bugs are planted for heaptop to
// show, a dangling uintptr and a leak (bugs.go); -bugs=false leaves them
// out.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/heaptop/heaptop/agent"
)

func main() {
	rate := flag.Int("rate", 200, "jobs per second (0: none, the process idles)")
	workers := flag.Int("workers", 4, "worker goroutines")
	cacheSize := flag.Int("cache", 500, "statements kept in the LRU cache")
	customers := flag.Int("customers", 5000, "distinct customers jobs are drawn from")
	duration := flag.Duration("duration", 0, "stop after this long (0: run until SIGINT/SIGTERM)")
	tick := flag.Duration("tick", 0, "agent tick interval (0: the agent's default)")
	withAgent := flag.Bool("agent", true, "start the heaptop agent (false: to measure what it costs)")
	tcp := flag.String("tcp", "", "serve the agent on this host:port too (token from $HEAPTOP_TOKEN)")
	tlsCert := flag.String("tls-cert", "", "with -tcp: serve TLS with this certificate (PEM)")
	tlsKey := flag.String("tls-key", "", "with -tls-cert: its private key (PEM)")
	fullSites := flag.Bool("full-sites", false, "record the allocation site of every object (agent.Options.FullAllocSites)")
	withBugs := flag.Bool("bugs", true, "plant a dangling uintptr and a MarkReleased leak for heaptop to show (bugs.go)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}

	address := "off"
	var a *agent.Agent
	if *withAgent {
		o := agent.Options{TickInterval: *tick, TCP: *tcp, Token: os.Getenv("HEAPTOP_TOKEN"), FullAllocSites: *fullSites}
		if *tcp == "" {
			o.Token = "" // a token in the environment is for heaptop, not for us
		}
		if *tlsCert != "" {
			cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
			if err != nil {
				fmt.Fprintf(os.Stderr, "heaptop demo: %v\n", err)
				os.Exit(1)
			}
			o.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		}
		var err error
		if a, err = agent.Start(o); err != nil {
			fmt.Fprintf(os.Stderr, "heaptop demo: %v\n", err)
			os.Exit(1)
		}
		address = a.Address()
	}
	fmt.Printf("heaptop demo: pid=%d agent=%s\n", os.Getpid(), address)
	if a != nil && a.TCPAddr() != "" {
		fmt.Printf("heaptop demo: tcp=%s\n", a.TCPAddr())
	}

	s := &service{cache: newLRU(*cacheSize), queue: make(chan job, 1024), bugs: *withBugs}
	if s.bugs {
		s.cache.evicted = planted.logEviction
	}
	var wg sync.WaitGroup
	for range *workers {
		wg.Go(s.work)
	}
	s.produce(ctx, *rate, *customers)
	close(s.queue)
	wg.Wait()

	if err := a.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "heaptop demo: %v\n", err)
	}
}

// job asks for the statement of one customer's account.
type job struct {
	customer int
}

// statement is a rendered account statement: what the cache keeps.
type statement struct {
	customer int
	total    int64
	text     []byte
}

type service struct {
	cache *lru
	queue chan job
	bugs  bool          // the planted bugs are on (bugs.go)
	sent  atomic.Uint64 // checksum of every answer, so none is optimised away
}

// produce enqueues rate jobs per second until ctx ends. Customers follow a
// Zipf distribution, so a few are asked for often and the cache has hits.
// A job that finds the queue full is dropped, as a load shedder would.
func (s *service) produce(ctx context.Context, rate, customers int) {
	if rate <= 0 {
		<-ctx.Done()
		return
	}
	zipf := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.1, 1, uint64(customers-1))
	t := time.NewTicker(time.Second / time.Duration(rate))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			select {
			case s.queue <- job{customer: int(zipf.Uint64())}:
			default:
			}
		}
	}
}

// work serves jobs until the queue is closed.
func (s *service) work() {
	for j := range s.queue {
		s.serve(j)
	}
}

// serve answers one job.
func (s *service) serve(j job) {
	var sess *session
	if s.bugs {
		sess = openSession(j.customer)
	}
	st, ok := s.cache.get(j.customer)
	if !ok {
		st = render(j.customer)
		s.cache.put(j.customer, st)
	}
	s.sent.Add(uint64(crc32.ChecksumIEEE(answer(st))))
	if sess != nil {
		planted.closeSession(sess)
	}
}

// answer is what would go on the wire: a header and the statement, in a
// buffer of its own.
func answer(st *statement) []byte {
	b := fmt.Appendf(nil, "200 OK customer=%d total=%d length=%d\n\n", st.customer, st.total, len(st.text))
	return append(b, st.text...)
}

// render builds a customer's statement: between 20 and 200 lines of
// transactions (about 1 to 10 KiB), grown by appending, as real formatting
// code does.
func render(customer int) *statement {
	r := rand.New(rand.NewPCG(uint64(customer), 0))
	st := &statement{customer: customer}
	st.text = fmt.Appendf(nil, "statement for customer %d\n", customer)
	for i := range 20 + r.IntN(180) {
		amount := r.Int64N(100_000) - 50_000
		st.total += amount
		st.text = fmt.Appendf(st.text, "%6d  txn-%08x  %+10.2f\n", i, r.Uint32(), float64(amount)/100)
	}
	st.text = fmt.Appendf(st.text, "total %+.2f\n", float64(st.total)/100)
	return st
}
