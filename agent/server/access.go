package server

// Access control. Each listener is served by a gRPC server of its own, with
// the Access it was given: the unix socket with none (its directory, mode
// 0700, admits only the user), the TCP listener with a token and maybe TLS.
// The token check is an interceptor on unary and stream RPCs alike, so an
// RPC added later is covered without a line of its own.

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"net"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// Access is how one listener admits requests. The zero value admits every
// request in plaintext: right for the per-user unix socket only.
type Access struct {
	// TLS, if not nil, is the listener's TLS configuration.
	TLS *tls.Config
	// Token, if not empty, must come with every request as gRPC metadata
	// "authorization: Bearer <Token>".
	Token string
}

// tokenHeader is the metadata key the token travels in, and tokenScheme its
// prefix (RFC 6750 §2.1; the scheme is matched without regard to case).
const (
	tokenHeader = "authorization"
	tokenScheme = "bearer "
)

// The refusals, as the client sees them: one line each, naming no token.
var (
	errNoToken    = status.Error(codes.Unauthenticated, "a token is required (metadata authorization: Bearer <token>)")
	errWrongToken = status.Error(codes.Unauthenticated, "wrong token")
)

// serverOptions returns the gRPC options of a listener with access a: its
// credentials and the interceptors every RPC passes, panic recovery
// outermost, then the token check.
func (s *Server) serverOptions(a Access) []grpc.ServerOption {
	var opts []grpc.ServerOption
	if a.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(a.TLS)))
	}
	unary := []grpc.UnaryServerInterceptor{s.recoverUnary}
	stream := []grpc.StreamServerInterceptor{s.recoverStream}
	if a.Token != "" {
		want := sha256.Sum256([]byte(a.Token))
		check := func(ctx context.Context) error { return s.admit(ctx, want) }
		unary = append(unary, func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			if err := check(ctx); err != nil {
				return nil, err
			}
			return handler(ctx, req)
		})
		stream = append(stream, func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			if err := check(ss.Context()); err != nil {
				return err
			}
			return handler(srv, ss)
		})
	}
	return append(opts, grpc.ChainUnaryInterceptor(unary...), grpc.ChainStreamInterceptor(stream...))
}

// admit returns nil if the request in ctx carries the token whose SHA-256 is
// want, and otherwise counts the refusal, reports it and returns it.
//
// The comparison is of SHA-256 digests in constant time, so that neither
// the token's bytes nor its length can be learnt from how long a refusal
// takes (subtle.ConstantTimeCompare returns at once on a length mismatch).
func (s *Server) admit(ctx context.Context, want [sha256.Size]byte) error {
	md, _ := metadata.FromIncomingContext(ctx)
	values := md.Get(tokenHeader)
	err := errNoToken
	if len(values) == 1 && len(values[0]) >= len(tokenScheme) && strings.EqualFold(values[0][:len(tokenScheme)], tokenScheme) {
		got := sha256.Sum256([]byte(values[0][len(tokenScheme):]))
		if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
			return nil
		}
		err = errWrongToken
	}
	s.refused.Add(1)
	var from net.Addr
	if p, ok := peer.FromContext(ctx); ok {
		from = p.Addr
	}
	s.onRefused(from, status.Convert(err).Message())
	return err
}

// Refused returns how many requests have been refused for a missing or
// wrong token since New.
func (s *Server) Refused() uint64 { return s.refused.Load() }
