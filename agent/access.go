package agent

// The access rules of Options.TCP, Options.TLS and Options.Token, checked
// at Start before anything listens, and the bounded log of refused tokens.

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// minTokenLen is the shortest Token Start accepts: 16 characters leave a
// guesser 2^64 tries at the least (hex), where a person-chosen password
// would not.
const minTokenLen = 16

// refusalLogEvery bounds the log lines about refused tokens: a client
// hammering the port with a wrong token costs one line a minute, not one a
// request. The count itself is exact (Agent.RefusedRequests).
const refusalLogEvery = time.Minute

// checkAccess enforces the rules documented on Options.TCP. It resolves the
// TCP host to decide whether it is loopback; listenTCP listens on exactly
// what this resolved, so the check holds for the address served.
func checkAccess(o Options) error {
	if o.TCP == "" {
		if o.Token != "" || o.TLS != nil {
			return errors.New("Options.Token and Options.TLS protect the TCP listener, and Options.TCP is empty; set TCP or drop them")
		}
		return nil
	}
	if o.Token == "" {
		return fmt.Errorf("TCP %s needs a Token: every request over TCP must carry it (any local user can reach even a loopback port)", o.TCP)
	}
	if len(o.Token) < minTokenLen {
		return fmt.Errorf("the Token has %d characters, fewer than the %d required; 32 random bytes, hex-encoded, make a good one", len(o.Token), minTokenLen)
	}
	for _, c := range []byte(o.Token) {
		if c < 0x20 || c > 0x7e {
			return errors.New("the Token must be printable ASCII: it travels in a gRPC header")
		}
	}
	if o.TLS != nil && len(o.TLS.Certificates) == 0 && o.TLS.GetCertificate == nil && o.TLS.GetConfigForClient == nil {
		return errors.New("TLS has no certificate (Certificates, GetCertificate or GetConfigForClient)")
	}
	addr, err := resolveTCP(o.TCP)
	if err != nil {
		return err
	}
	if !addr.IP.IsLoopback() && o.TLS == nil {
		return fmt.Errorf("TCP %s is not a loopback address: serving it needs both TLS and a Token", o.TCP)
	}
	return nil
}

// resolveTCP resolves a TCP option to the one address the agent will
// listen on. A missing host is every interface (IPv4 and IPv6).
func resolveTCP(hostPort string) (*net.TCPAddr, error) {
	if _, _, err := net.SplitHostPort(hostPort); err != nil {
		return nil, fmt.Errorf("TCP %q: %w", hostPort, err)
	}
	addr, err := net.ResolveTCPAddr("tcp", hostPort)
	if err != nil {
		return nil, fmt.Errorf("TCP %s: %w", hostPort, err)
	}
	return addr, nil
}

// listenTCP listens on the address checkAccess approved.
func listenTCP(hostPort string) (net.Listener, error) {
	addr, err := resolveTCP(hostPort)
	if err != nil {
		return nil, err
	}
	l, err := net.ListenTCP("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("TCP %s: %w", hostPort, err)
	}
	return l, nil
}

// refusalLog reports refused tokens to the Logger at a bounded rate: the
// first refusal at once, then at most one line per refusalLogEvery with the
// number refused since the last line, and what is left at Close.
type refusalLog struct {
	log *slog.Logger // read-only

	mu       sync.Mutex // guards the fields below
	lastLine time.Time  // when the last line was written
	pending  uint64     // refusals not yet in a line
	from     string     // peer of the latest refusal
	why      string     // reason of the latest refusal
}

// note counts one refusal and writes a line if one is due. It is the
// server's OnRefused.
func (r *refusalLog) note(from net.Addr, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending++
	r.from, r.why = "unknown", why
	if from != nil {
		r.from = from.String()
	}
	if now := time.Now(); now.Sub(r.lastLine) >= refusalLogEvery {
		r.lineLocked()
		r.lastLine = now
	}
}

// flush writes a line for refusals not yet reported.
func (r *refusalLog) flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending > 0 {
		r.lineLocked()
	}
}

func (r *refusalLog) lineLocked() {
	r.log.Warn("heaptop agent: refused requests over TCP for a missing or wrong token (refused: since the previous such line)",
		"refused", r.pending, "latest_from", r.from, "latest_reason", r.why)
	r.pending = 0
}
