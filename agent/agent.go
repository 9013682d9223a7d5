// Package agent lets a Go program show its heap to heaptop: Start serves the
// program's runtime metrics, and heap snapshots on request, over gRPC on a
// per-user unix socket and announces it with a discovery file, until Close.
//
//	a, err := agent.Start(agent.Options{})
//	if err != nil {
//		log.Printf("heaptop agent: %v", err) // the program runs on without it
//	}
//	defer a.Close()
//
// Security: by default the agent listens only on a unix socket, mode 0600,
// in a directory only the user may enter (mode 0700; Start refuses a
// directory that is a symlink or belongs to someone else). Options.TCP adds
// a TCP listener, on which every request must carry Options.Token; Start
// refuses a TCP address that is not loopback unless TLS is given too (see
// Options.TCP for the rules). It sends counters, GC pause times and, for
// snapshots, addresses, sizes, type names, symbol names and file:line,
// never the contents of memory.
//
// Cost: sampling takes no stop-the-world and allocates one Tick per
// interval; a snapshot is taken only when a client asks, pauses the
// program for the clone of a confined copy that writes the dump (package
// capture), and holds the latest snapshot's arrays outside the Go heap
// until the next one. BENCHMARKS.md gives the measured figures.
package agent

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/heaptop/heaptop/agent/analysis"
	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/capture"
	"github.com/heaptop/heaptop/agent/internal/discovery"
	"github.com/heaptop/heaptop/agent/metrics"
	"github.com/heaptop/heaptop/agent/server"
	"github.com/heaptop/heaptop/agent/snapshot"
	"github.com/heaptop/heaptop/agent/symbols"
)

// Version is the version of this agent, announced to clients.
const Version = "0.1.0"

// minTickInterval is the shortest sampling interval Start accepts. A tick
// costs an otherwise idle process 0.3 ms of CPU with no client and 0.7 to
// 0.9 ms with one (mostly the scheduler waking up; 2 cores, load average
// 13-21; BENCHMARKS.md, BenchmarkAgentTick), so 100 ms (10 Hz) keeps the
// agent under 1% of a core with one client watching.
const minTickInterval = 100 * time.Millisecond

// Options configures an agent. The zero value is the production default.
type Options struct {
	// Dir is the directory holding the agent's socket (<pid>.sock) and
	// discovery file (<pid>.json); a relative path is taken from the
	// working directory at Start. Optional; default: $HEAPTOP_DIR, else
	// $XDG_RUNTIME_DIR/heaptop, else $TMPDIR/heaptop-<uid> ($TMPDIR
	// defaulting to /tmp), where heaptop looks by the same rule. It is
	// created with mode 0700, or set to it; Start fails if it is a symlink
	// or belongs to another user.
	Dir string

	// TickInterval is how often the agent samples the runtime and sends a
	// tick to each client. Optional; default 1 s; values under 100 ms are
	// raised to 100 ms.
	TickInterval time.Duration

	// History is how many recent ticks a client receives when it connects,
	// so that its graphs are full at once. Optional; default 300 (five
	// minutes at the default interval).
	History int

	// FullAllocSites gives every object allocated after Start its
	// allocation site (file:line in the heap views) by setting
	// runtime.MemProfileRate to 1, so the memory profiler records every
	// allocation; Close restores the rate it found, unless the program
	// changed it meanwhile. Objects allocated before Start keep no site
	// unless the default sampling picked them: enable it at the top of
	// main. It slows allocation-heavy code and keeps a profile bucket per
	// distinct allocation stack (BENCHMARKS.md, "naming"). Optional;
	// default false: sites come from the runtime's default sampling (on
	// average one object per 512 KiB allocated, so mostly the large ones),
	// and each capture reports the share of objects and bytes that have a
	// site; the rest read "not sampled".
	FullAllocSites bool

	// Logger receives the agent's rare reports, all at warning level or
	// above: serving without a discovery file, a panic it recovered from,
	// closing itself, requests refused for their token (one line a minute
	// at most). Optional; default slog.Default().
	Logger *slog.Logger

	// TCP is a "host:port" on which the agent serves over TCP too, for a
	// heaptop on another machine or in another container; the unix socket
	// stays, and serves as before. Optional; default "": no TCP. Port 0
	// takes a free port (Agent.TCPAddr says which). A host name is resolved
	// once, at Start, and the agent listens on the address it resolved to.
	//
	// Security: every request over TCP must carry Token, and an address
	// that is not loopback (127.0.0.0/8, ::1; "" and 0.0.0.0 are all
	// interfaces, not loopback) needs TLS as well. Loopback needs the token
	// too: any user of the machine can connect to it, unlike the unix
	// socket. Start refuses TCP that breaks these rules, and a Token or TLS
	// without TCP (they would protect nothing).
	TCP string

	// TLS is the TCP listener's TLS configuration: at least a certificate
	// (Certificates, GetCertificate or GetConfigForClient); client
	// certificates too if you want them (ClientAuth). Start raises a
	// MinVersion under TLS 1.2 to 1.2. Optional with a loopback TCP;
	// required otherwise. Default nil: plaintext.
	TLS *tls.Config

	// Token is the secret every request over TCP must carry, as gRPC
	// metadata "authorization: Bearer <Token>" (heaptop reads it from
	// $HEAPTOP_TOKEN or --token-file). It is compared in constant time;
	// a missing or wrong one is refused with codes.Unauthenticated and
	// counted (Agent.RefusedRequests). At least 16 characters of printable
	// ASCII; 32 random bytes, hex-encoded, make a good one. Required with
	// TCP; requests on the unix socket need none.
	Token string
}

// withDefaults returns o with every unset field filled in: the one place
// defaults live.
func (o Options) withDefaults() (Options, error) {
	var err error
	if o.Dir == "" {
		o.Dir, err = discovery.Dir()
	} else {
		o.Dir, err = filepath.Abs(o.Dir) // the address must be absolute
	}
	if err != nil {
		return o, err
	}
	if o.TickInterval <= 0 {
		o.TickInterval = time.Second
	}
	o.TickInterval = max(o.TickInterval, minTickInterval)
	if o.History <= 0 {
		o.History = 300
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.TLS != nil {
		o.TLS = o.TLS.Clone() // the caller's stays theirs
		o.TLS.MinVersion = max(o.TLS.MinVersion, tls.VersionTLS12)
	}
	return o, checkAccess(o)
}

// Agent is a running agent. Its methods are safe for concurrent use.
type Agent struct {
	// Read-only once Start returns.
	address string
	tcpAddr string // "" without TCP
	dir     string
	pid     int
	log     *slog.Logger
	srv     *server.Server
	snaps   *snapshot.Taker
	refusal *refusalLog

	fullSites    bool // FullAllocSites was set: Close restores previousRate
	previousRate int  // the MemProfileRate FullAllocSites replaced

	stop chan struct{}  // closed by Close: ends the sampling loop
	wg   sync.WaitGroup // the sampling loop and the gRPC serving goroutine

	closeOnce sync.Once
	closeErr  error // set by the Close that ran
}

// running is the process's agent: there is at most one, since the socket
// and discovery file are named after the pid.
var running struct {
	mu    sync.Mutex // guards agent
	agent *Agent
}

// Start starts the agent: it listens on <Dir>/<pid>.sock (and on TCP if
// asked), writes <Dir>/<pid>.json and samples the runtime every
// TickInterval until Close. It first removes what agents of dead processes
// left in Dir.
//
// Start fails if an agent is already running in this process (the error
// names its address), if the options break an access rule (Options.TCP), or
// if a listener cannot be created. If only the
// discovery file cannot be written, the agent keeps serving, reports why to
// the Logger, and heaptop can still reach it by its socket path.
func Start(o Options) (*Agent, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("heaptop agent: %w", err)
	}
	running.mu.Lock()
	defer running.mu.Unlock()
	if a := running.agent; a != nil {
		return nil, fmt.Errorf("heaptop agent: already running at %s", a.address)
	}
	keepMemProfile()
	sampler, err := metrics.New()
	if err != nil {
		return nil, fmt.Errorf("heaptop agent: %w", err)
	}
	a, err := start(o, sampler.Sample)
	if err != nil {
		return nil, fmt.Errorf("heaptop agent: %w", err)
	}
	running.agent = a
	return a, nil
}

// start does Start's work with the sampling function given, so that a test
// can make it panic. running.mu is held.
func start(o Options, sample func() *heaptopv1.Tick) (*Agent, error) {
	pid := os.Getpid()
	if err := discovery.Prepare(o.Dir); err != nil {
		return nil, err
	}
	sock, err := discovery.SocketPath(o.Dir, pid)
	if err != nil {
		return nil, err
	}
	discovery.List(o.Dir)        // removes the entries of dead processes
	discovery.Remove(o.Dir, pid) // and those of an earlier process with our pid
	l, err := net.Listen("unix", sock)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		l.Close()
		return nil, err
	}
	var tcp net.Listener
	if o.TCP != "" {
		if tcp, err = listenTCP(o.TCP); err != nil {
			l.Close()
			return nil, err
		}
	}

	started := time.Now()
	a := &Agent{
		address: discovery.Address(sock),
		dir:     o.Dir,
		pid:     pid,
		log:     o.Logger,
		refusal: &refusalLog{log: o.Logger},
		stop:    make(chan struct{}),
	}
	if tcp != nil {
		a.tcpAddr = tcp.Addr().String()
	}
	exe, _ := os.Executable()
	host, _ := os.Hostname()
	a.snaps = snapshot.NewTaker(snapshot.Config{
		Capturer: capture.New(capture.Options{}),
		Image:    symbols.Self(),
		Packages: analysis.ProgramPackages(),
		Released: released.list,
		Publish:  func(ev *heaptopv1.WatchEvent) { a.srv.PublishEvent(ev) },
		OnPanic: func(r any, stack []byte) {
			a.log.Error("heaptop agent: a capture failed on a panic; the agent and the program go on",
				"panic", fmt.Sprint(r), "stack", string(stack))
		},
	})
	a.srv = server.New(server.Config{
		Target: &heaptopv1.Target{
			Pid:           int64(pid),
			Executable:    exe,
			GoVersion:     runtime.Version(),
			StartUnixNano: started.UnixNano(),
			Address:       a.address,
			Hostname:      host,
			Platform:      runtime.GOOS + "/" + runtime.GOARCH,
			AgentVersion:  Version,
			Args:          os.Args,
		},
		TickInterval: o.TickInterval,
		History:      o.History,
		OnPanic: func(r any, stack []byte) {
			a.failed("panic in an RPC handler", r, stack)
		},
		OnRefused: a.refusal.note,
		Graphs:    a.snaps,
	})
	if o.FullAllocSites {
		a.fullSites, a.previousRate = true, enableFullSites()
	}
	a.wg.Add(2)
	go a.serve(l, server.Access{})
	go a.sampleLoop(sample, o.TickInterval)
	if tcp != nil {
		a.wg.Add(1)
		go a.serve(tcp, server.Access{TLS: o.TLS, Token: o.Token})
	}

	rec := discovery.Record{
		PID:          pid,
		Address:      a.address,
		Executable:   exe,
		GoVersion:    runtime.Version(),
		StartTime:    discovery.FormatStartTime(started),
		AgentVersion: Version,
		TCP:          a.tcpAddr,
		TLS:          o.TLS != nil,
	}
	if err := discovery.Write(o.Dir, rec); err != nil {
		a.log.Warn("heaptop agent: serving without a discovery file; heaptop will not list this process, give it the socket path",
			"address", a.address, "err", err)
	}
	return a, nil
}

// Address returns where the agent listens, as "unix:///path/<pid>.sock".
func (a *Agent) Address() string { return a.address }

// TCPAddr returns the "host:port" the agent listens on over TCP, with the
// port it took, or "" when it does not (Options.TCP was empty).
func (a *Agent) TCPAddr() string { return a.tcpAddr }

// RefusedRequests returns how many requests over TCP the agent has refused
// for a missing or wrong token since Start.
func (a *Agent) RefusedRequests() uint64 { return a.srv.Refused() }

// Close stops the agent: it ends every client's stream, stops sampling,
// waits for its goroutines to return and removes the socket and discovery
// file. Close on a closed (or nil) agent does nothing and returns what the
// first Close returned. After Close, Start may be called again.
func (a *Agent) Close() error {
	if a == nil {
		return nil
	}
	a.closeOnce.Do(func() {
		close(a.stop)
		a.srv.Stop()
		a.snaps.Close()
		a.wg.Wait()
		a.refusal.flush()
		a.closeErr = discovery.Remove(a.dir, a.pid)
		if a.fullSites {
			restoreSampling(a.previousRate)
		}
		running.mu.Lock()
		if running.agent == a {
			running.agent = nil
		}
		running.mu.Unlock()
	})
	return a.closeErr
}

// sampleLoop publishes a tick every interval until Close.
func (a *Agent) sampleLoop(sample func() *heaptopv1.Tick, every time.Duration) {
	defer a.wg.Done()
	defer a.recoverIn("the sampling loop")
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-t.C:
			a.srv.Publish(sample())
		}
	}
}

// serve runs the gRPC server on l until Close.
func (a *Agent) serve(l net.Listener, access server.Access) {
	defer a.wg.Done()
	defer a.recoverIn("the gRPC server")
	err := a.srv.Serve(l, access)
	if err != nil && !errors.Is(err, grpc.ErrServerStopped) { // stopped before it began: Close did it
		a.failed("the gRPC server stopped: "+err.Error(), nil, nil)
	}
}

// recoverIn is deferred by every goroutine the agent starts: a panic there
// closes the agent, never the program.
func (a *Agent) recoverIn(where string) {
	if r := recover(); r != nil {
		a.failed("panic in "+where, r, debug.Stack())
	}
}

// failed reports why the agent cannot go on and closes it. It is called from
// the agent's own goroutines, which Close waits for, so Close runs in a
// goroutine of its own.
func (a *Agent) failed(why string, recovered any, stack []byte) {
	args := []any{"address", a.address}
	if recovered != nil {
		args = append(args, "panic", fmt.Sprint(recovered), "stack", string(stack))
	}
	a.log.Error("heaptop agent: "+why+"; closing the agent, the program goes on", args...)
	go func() {
		defer func() { // Close must not take the program down either
			if r := recover(); r != nil {
				a.log.Error("heaptop agent: panic while closing", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			}
		}()
		if err := a.Close(); err != nil {
			a.log.Error("heaptop agent: closing", "err", err)
		}
	}()
}
