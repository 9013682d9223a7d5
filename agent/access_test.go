package agent_test

// The access rules (Options.TCP): what Start refuses, the token on every
// TCP request, TLS, and the unix socket left as it was.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/heaptop/heaptop/agent"
	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/internal/agenttest"
	"github.com/heaptop/heaptop/agent/internal/discovery"
)

// token is a good token: 32 hex characters.
const token = "0123456789abcdef0123456789abcdef"

func TestStartRefusesAccess(t *testing.T) {
	cert, _ := agenttest.SelfSigned(t)
	withCert := &tls.Config{Certificates: []tls.Certificate{cert}}
	tests := []struct {
		name    string
		o       agent.Options
		wantErr string
	}{
		{"token_without_tcp", agent.Options{Token: token},
			"heaptop agent: Options.Token and Options.TLS protect the TCP listener, and Options.TCP is empty; set TCP or drop them"},
		{"tls_without_tcp", agent.Options{TLS: withCert},
			"heaptop agent: Options.Token and Options.TLS protect the TCP listener, and Options.TCP is empty; set TCP or drop them"},
		{"loopback_without_token", agent.Options{TCP: "127.0.0.1:0"},
			"heaptop agent: TCP 127.0.0.1:0 needs a Token: every request over TCP must carry it (any local user can reach even a loopback port)"},
		{"non_loopback_with_tls_without_token", agent.Options{TCP: "0.0.0.0:0", TLS: withCert},
			"heaptop agent: TCP 0.0.0.0:0 needs a Token: every request over TCP must carry it (any local user can reach even a loopback port)"},
		{"short_token", agent.Options{TCP: "127.0.0.1:0", Token: "hunter2"},
			"heaptop agent: the Token has 7 characters, fewer than the 16 required; 32 random bytes, hex-encoded, make a good one"},
		{"token_with_newline", agent.Options{TCP: "127.0.0.1:0", Token: token + "\n"},
			"heaptop agent: the Token must be printable ASCII: it travels in a gRPC header"},
		{"tls_without_certificate", agent.Options{TCP: "127.0.0.1:0", Token: token, TLS: &tls.Config{Certificates: []tls.Certificate{}}},
			"heaptop agent: TLS has no certificate (Certificates, GetCertificate or GetConfigForClient)"},
		{"all_interfaces_without_tls", agent.Options{TCP: "0.0.0.0:0", Token: token},
			"heaptop agent: TCP 0.0.0.0:0 is not a loopback address: serving it needs both TLS and a Token"},
		{"no_host_without_tls", agent.Options{TCP: ":0", Token: token},
			"heaptop agent: TCP :0 is not a loopback address: serving it needs both TLS and a Token"},
		{"ipv6_any_without_tls", agent.Options{TCP: "[::]:0", Token: token},
			"heaptop agent: TCP [::]:0 is not a loopback address: serving it needs both TLS and a Token"},
		{"no_port", agent.Options{TCP: "127.0.0.1", Token: token},
			`heaptop agent: TCP "127.0.0.1": address 127.0.0.1: missing port in address`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Dir = filepath.Join(t.TempDir(), "ht")
			a, err := agent.Start(tt.o)
			if err == nil {
				a.Close()
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Start: %v\nwant: %s", err, tt.wantErr)
			}
			if _, err := os.Stat(tt.o.Dir); !os.IsNotExist(err) {
				t.Errorf("a refused Start touched %s (%v): it must check before it creates", tt.o.Dir, err)
			}
		})
	}
}

// watchErr opens a Watch stream on conn with the metadata md and returns
// the error it ends with before or instead of a Hello (nil after a Hello).
func watchErr(t *testing.T, conn *grpc.ClientConn, md ...string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), agenttest.Deadline)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, md...)
	stream, err := heaptopv1.NewHeaptopClient(conn).Watch(ctx, &heaptopv1.WatchRequest{ClientSchemaVersion: 1})
	if err != nil {
		return err
	}
	ev, err := stream.Recv()
	if err == nil && ev.GetHello() == nil {
		t.Fatalf("first event %v, want a Hello", ev)
	}
	return err
}

func wantStatus(t *testing.T, what string, err error, code codes.Code, msg string) {
	t.Helper()
	if st := status.Convert(err); st.Code() != code || st.Message() != msg {
		t.Errorf("%s: got %v %q, want %v %q", what, st.Code(), st.Message(), code, msg)
	}
}

// TestTCPToken serves loopback TCP with a token and tries every way of
// presenting one: only the exact token is admitted, on the stream RPC and
// on a unary one alike (Capture, not implemented yet: the token check comes
// first), each refusal is counted, and the log says so once, not per
// request. The unix socket still needs no token.
func TestTCPToken(t *testing.T) {
	var logs agenttest.Log
	a, _ := startIn(t, agent.Options{TCP: "127.0.0.1:0", Token: token, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if !strings.HasPrefix(a.TCPAddr(), "127.0.0.1:") || strings.HasSuffix(a.TCPAddr(), ":0") {
		t.Fatalf("TCPAddr() = %q, want 127.0.0.1 and the port taken", a.TCPAddr())
	}
	conn := agenttest.Dial(t, a.TCPAddr())

	const missing = "a token is required (metadata authorization: Bearer <token>)"
	refusals := []struct {
		name string
		md   []string
		msg  string
	}{
		{"none", nil, missing},
		{"wrong", []string{"authorization", "Bearer " + strings.ToUpper(token)}, "wrong token"},
		{"prefix_of_the_token", []string{"authorization", "Bearer " + token[:20]}, "wrong token"},
		{"token_and_more", []string{"authorization", "Bearer " + token + "0"}, "wrong token"},
		{"empty_bearer", []string{"authorization", "Bearer "}, "wrong token"},
		{"no_scheme", []string{"authorization", token}, missing},
		{"basic_scheme", []string{"authorization", "Basic " + token}, missing},
		{"other_header", []string{"x-token", token}, missing},
		{"twice", []string{"authorization", "Bearer " + token, "authorization", "Bearer " + token}, missing},
	}
	for _, r := range refusals {
		wantStatus(t, "Watch with token "+r.name, watchErr(t, conn, r.md...), codes.Unauthenticated, r.msg)
	}
	for _, ok := range [][]string{
		{"authorization", "Bearer " + token},
		{"authorization", "bearer " + token}, // the scheme is case-insensitive (RFC 7235)
	} {
		if err := watchErr(t, conn, ok...); err != nil {
			t.Errorf("Watch with %q: %v", ok[1], err)
		}
	}
	if err := watchErr(t, agenttest.Dial(t, a.TCPAddr(), grpc.WithPerRPCCredentials(agenttest.Token(token)))); err != nil {
		t.Errorf("Watch with the token as a per-RPC credential: %v", err)
	}

	client := heaptopv1.NewHeaptopClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), agenttest.Deadline)
	defer cancel()
	_, err := client.Capture(ctx, &heaptopv1.CaptureRequest{})
	wantStatus(t, "Capture without a token", err, codes.Unauthenticated, missing)
	_, err = client.Capture(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token), &heaptopv1.CaptureRequest{})
	if err != nil {
		t.Errorf("Capture with the token: %v, want a snapshot", err)
	}

	want := uint64(len(refusals) + 1)
	if got := a.RefusedRequests(); got != want {
		t.Errorf("RefusedRequests() = %d, want %d", got, want)
	}
	if err := watchErr(t, agenttest.Dial(t, a.Address())); err != nil {
		t.Errorf("Watch on the unix socket without a token: %v", err)
	}
	if got := a.RefusedRequests(); got != want {
		t.Errorf("after the unix socket: RefusedRequests() = %d, want %d still", got, want)
	}

	line := `level=WARN msg="heaptop agent: refused requests over TCP for a missing or wrong token (refused: since the previous such line)"`
	if n := strings.Count(logs.String(), line); n != 1 {
		t.Errorf("log has %d refusal lines after %d refusals in well under a minute, want 1:\n%s", n, want, logs.String())
	}
	if !strings.Contains(logs.String(), ` refused=1 latest_from=127.0.0.1:`) || strings.Contains(logs.String(), token[:16]) {
		t.Errorf("first refusal line should count 1, name the peer and never the token:\n%s", logs.String())
	}
	a.Close()
	if n := strings.Count(logs.String(), line); n != 2 || !strings.Contains(logs.String(), " refused="+strconv.FormatUint(want-1, 10)+" ") {
		t.Errorf("after Close the log should report the other %d refusals in a second line:\n%s", want-1, logs.String())
	}
}

// TestTCPDiscovery checks what the discovery file says of a TCP listener:
// its address and whether it speaks TLS, and never the token.
func TestTCPDiscovery(t *testing.T) {
	a, dir := startIn(t, agent.Options{TCP: "127.0.0.1:0", Token: token})
	b, err := os.ReadFile(discovery.FilePath(dir, os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), token) {
		t.Errorf("the discovery file holds the token: %s", b)
	}
	var rec map[string]any
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	if rec["tcp"] != a.TCPAddr() || rec["address"] != a.Address() {
		t.Errorf("discovery tcp %v address %v, want %s %s", rec["tcp"], rec["address"], a.TCPAddr(), a.Address())
	}
	if _, ok := rec["tls"]; ok {
		t.Errorf("discovery tls = %v for a plaintext listener, want it absent", rec["tls"])
	}
	if got := mode(t, discovery.FilePath(dir, os.Getpid())); got != 0o600 {
		t.Errorf("discovery file mode %v, want 0600", got)
	}
}

// TestTCPTLS serves TCP on every interface, which needs TLS and a token,
// with a certificate made in the test: a client that trusts it and has the
// token is admitted; one that does not trust it, one without TLS and one
// without the token are not.
func TestTCPTLS(t *testing.T) {
	cert, pool := agenttest.SelfSigned(t)
	a, dir := startIn(t, agent.Options{TCP: "0.0.0.0:0", Token: token, TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	port := a.TCPAddr()[strings.LastIndex(a.TCPAddr(), ":")+1:]
	addr := "127.0.0.1:" + port

	trusting := grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool}))
	if err := watchErr(t, agenttest.Dial(t, addr, trusting, grpc.WithPerRPCCredentials(agenttest.Token(token)))); err != nil {
		t.Errorf("TLS client with the CA and the token: %v", err)
	}
	if err := watchErr(t, agenttest.Dial(t, "localhost:"+port, trusting, grpc.WithPerRPCCredentials(agenttest.Token(token)))); err != nil {
		t.Errorf("TLS client by the name localhost: %v", err)
	}
	wantStatus(t, "TLS client without the token", watchErr(t, agenttest.Dial(t, addr, trusting)),
		codes.Unauthenticated, "a token is required (metadata authorization: Bearer <token>)")

	untrusting := grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: x509.NewCertPool()}))
	if err := watchErr(t, agenttest.Dial(t, addr, untrusting, grpc.WithPerRPCCredentials(agenttest.Token(token)))); status.Code(err) != codes.Unavailable ||
		!strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Errorf("TLS client that does not trust the certificate: %v, want Unavailable, unknown authority", err)
	}
	if err := watchErr(t, agenttest.Dial(t, addr), "authorization", "Bearer "+token); status.Code(err) != codes.Unavailable {
		t.Errorf("plaintext client to the TLS listener: %v, want Unavailable", err)
	}
	if got := a.RefusedRequests(); got != 1 {
		t.Errorf("RefusedRequests() = %d, want 1 (TLS failures are no requests)", got)
	}

	b, err := os.ReadFile(discovery.FilePath(dir, os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		TCP string `json:"tcp"`
		TLS bool   `json:"tls"`
	}
	if err := json.Unmarshal(b, &rec); err != nil || rec.TCP != a.TCPAddr() || !rec.TLS {
		t.Errorf("discovery file %s: want tcp %s and tls true (%v)", b, a.TCPAddr(), err)
	}
}
