//go:build grpc

package main

import (
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// linkExtra links a gRPC server and client, as the heaptop agent does,
// without running them.
func linkExtra() {
	if len(os.Args) > 99 {
		s := grpc.NewServer()
		s.Stop()
		c, _ := grpc.NewClient(os.Args[1], grpc.WithTransportCredentials(insecure.NewCredentials()))
		_ = c.Close()
	}
}

// bigType is a value whose type reaches many others.
func bigType() any { return grpc.NewServer() }
