// Program watch is a minimal heaptop client, so that benchmarks can watch an
// agent from another process and measure the agent alone. It watches the
// agent at the address given (unix:///path) and prints one line per event:
// "hello" first, then "tick <unix_nano>" for each tick, until the stream ends (exit 0
// at a clean end, 1 on an error such as the agent going away).
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: watch unix:///path/to/agent.sock")
		os.Exit(2)
	}
	conn, err := grpc.NewClient(os.Args[1], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Fprintln(os.Stderr, "watch:", err)
		os.Exit(2)
	}
	stream, err := heaptopv1.NewHeaptopClient(conn).Watch(context.Background(),
		&heaptopv1.WatchRequest{ClientSchemaVersion: uint32(heaptopv1.SchemaVersion_SCHEMA_VERSION_CURRENT)})
	for err == nil {
		var ev *heaptopv1.WatchEvent
		if ev, err = stream.Recv(); err == nil {
			if ev.GetHello() != nil {
				fmt.Println("hello")
			} else {
				fmt.Println("tick", ev.GetTick().GetUnixNano())
			}
		}
	}
	if err != io.EOF {
		fmt.Fprintln(os.Stderr, "watch:", err)
		os.Exit(1)
	}
}
