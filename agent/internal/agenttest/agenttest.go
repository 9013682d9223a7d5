// Package agenttest holds what the agent's Go tests share: a heaptop client
// that takes an agent's address and gives the Hello and the Ticks of a Watch
// stream (failing the test on any error), a token and a self-signed TLS
// certificate for the access tests, the pid of a process known to be dead,
// a log sink, and the deadline every wait in the tests shares.
package agenttest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
)

// Deadline bounds every wait in the tests: generous, for a loaded 2-core
// machine; a passing run never comes near it.
const Deadline = 60 * time.Second

// Dial returns a client connection to addr ("unix:///path" or
// "host:port"), closed when the test ends. It is plaintext unless opts give
// other transport credentials.
func Dial(t testing.TB, addr string, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// Stream is one Watch stream whose Hello has been received.
type Stream struct {
	Hello  *heaptopv1.Hello
	stream grpc.ServerStreamingClient[heaptopv1.WatchEvent]
	cancel context.CancelFunc
}

// WatchErr opens a Watch stream as a client of schema version v and returns
// the error the stream ends with before or instead of a Hello.
func WatchErr(t testing.TB, conn *grpc.ClientConn, v uint32) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Deadline)
	defer cancel()
	stream, err := heaptopv1.NewHeaptopClient(conn).Watch(ctx, &heaptopv1.WatchRequest{ClientSchemaVersion: v})
	if err != nil {
		return err
	}
	_, err = stream.Recv()
	return err
}

// Watch opens a Watch stream on conn, as a client of the current schema,
// and receives its Hello. The stream ends when the test does, or after
// Deadline.
func Watch(t testing.TB, conn *grpc.ClientConn) *Stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Deadline)
	t.Cleanup(cancel)
	stream, err := heaptopv1.NewHeaptopClient(conn).Watch(ctx, &heaptopv1.WatchRequest{
		ClientSchemaVersion: uint32(heaptopv1.SchemaVersion_SCHEMA_VERSION_CURRENT),
	})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := stream.Recv()
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	if ev.GetHello() == nil {
		t.Fatalf("first event is %v, want a Hello", ev)
	}
	return &Stream{Hello: ev.GetHello(), stream: stream, cancel: cancel}
}

// Next receives the next event, which must be a Tick. Unlike Tick it may be
// called from any goroutine.
func (s *Stream) Next() (*heaptopv1.Tick, error) {
	ev, err := s.stream.Recv()
	if err != nil {
		return nil, err
	}
	return ev.GetTick(), nil
}

// Tick receives the next tick, failing the test on an error or another event.
func (s *Stream) Tick(t testing.TB) *heaptopv1.Tick {
	t.Helper()
	tk, err := s.Next()
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	if tk == nil {
		t.Fatal("Watch: an event that is not a Tick")
	}
	return tk
}

// Event receives the next event of any kind, failing the test on an error.
func (s *Stream) Event(t testing.TB) *heaptopv1.WatchEvent {
	t.Helper()
	ev, err := s.stream.Recv()
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	return ev
}

// Close ends the stream from the client's side.
func (s *Stream) Close() { s.cancel() }

// WaitFor polls cond until it holds, failing the test after Deadline.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if !Eventually(cond) {
		t.Fatalf("after %v: still waiting for %s", Deadline, what)
	}
}

// Eventually polls cond until it holds and reports whether it did before
// Deadline.
func Eventually(cond func() bool) bool {
	for end := time.Now().Add(Deadline); !cond(); {
		if time.Now().After(end) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// ExitedPid returns the pid of a child process that has exited and been
// reaped: kill(pid, 0) fails with ESRCH for it.
func ExitedPid(t testing.TB) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	if syscall.Kill(pid, 0) != syscall.ESRCH {
		t.Skipf("pid %d was reused at once", pid)
	}
	return pid
}

// Log collects what a logger writes from any goroutine.
type Log struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Token is a per-RPC credential that sends itself as the agent's token,
// "authorization: Bearer <token>", on every call of a connection (pass
// grpc.WithPerRPCCredentials(agenttest.Token(t)) to Dial). It is allowed on
// plaintext connections, as the agent allows a token on loopback.
type Token string

func (t Token) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(t)}, nil
}

func (Token) RequireTransportSecurity() bool { return false }

// SelfSigned returns a TLS certificate for localhost, 127.0.0.1 and ::1,
// made now with a fresh ECDSA P-256 key and valid for an hour, and a pool
// that trusts it: what a test server and its client need.
func SelfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	cert, err := NewSelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	return cert, pool
}

// NewSelfSigned is SelfSigned for a program: it returns the certificate,
// its own CA, or an error.
func NewSelfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "heaptop test agent"},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// PEM encodes a certificate made by NewSelfSigned and its key, as
// tls.LoadX509KeyPair and heaptop's --ca read them.
func PEM(cert tls.Certificate) (certPEM, keyPEM []byte, err error) {
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})
	return certPEM, keyPEM, nil
}
