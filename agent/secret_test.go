package agent_test

// No object contents on the wire: a real program plants a secret in heap
// objects (string field, byte slice, map keys, an 8-byte integer pattern),
// globals (a string, an array in bss) and a goroutine's stack
// (testdata/progs/safety/secret.go); a client takes a capture through the
// agent, reads the Watch stream, expands every tree node the document
// shows and asks the path of every node, group and finding; every byte
// that crossed the socket, both ways, is searched for the secret.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	heaptopv1 "github.com/heaptop/heaptop/agent/api/heaptop/v1"
	"github.com/heaptop/heaptop/agent/internal/agenttest"
)

// tap is a net.Conn that keeps a copy of every byte read and written.
type tap struct {
	net.Conn
	mu   *sync.Mutex
	seen *bytes.Buffer
}

func (c tap) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.seen.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

func (c tap) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.mu.Lock()
	c.seen.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

func TestSecretsNeverOnTheWire(t *testing.T) {
	var raw [12]byte
	rand.Read(raw[:])
	secret := "Zq" + hex.EncodeToString(raw[:]) // 26 characters, in no file
	p, _ := startSafety(t, []string{"HEAPTOP_TEST_SECRET=" + secret}, "-objects=2000", "-max-pause=-1ns", "-min-interval=-1ns")

	var mu sync.Mutex
	var wire bytes.Buffer
	sock := strings.TrimPrefix(p.Agent, "unix://")
	conn := agenttest.Dial(t, p.Agent, grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, "unix", sock)
		if err != nil {
			return nil, err
		}
		return tap{c, &mu, &wire}, nil
	}))
	c := heaptopv1.NewHeaptopClient(conn)
	ev := collect(t, agenttest.Watch(t, conn))

	snap, err := capture(t, c, &heaptopv1.CaptureRequest{ForceGc: true})
	if err != nil {
		t.Fatal(err)
	}
	ev.find(t, "the snapshot on the stream", func(e *heaptopv1.WatchEvent) bool { return e.GetSnapshot().GetId() == snap.Id })

	ctx, cancel := context.WithTimeout(context.Background(), agenttest.Deadline)
	defer cancel()
	expanded, paths := 0, 0
	nodes := snap.Tree
	for i := 0; i < len(nodes) && expanded < 500; i++ {
		n := nodes[i]
		if n.ChildrenTotal == 0 {
			continue
		}
		r, err := c.Expand(ctx, &heaptopv1.ExpandRequest{SnapshotId: snap.Id, Node: n.Id, Limit: 200})
		if err != nil {
			t.Fatalf("Expand %d: %v", n.Id, err)
		}
		expanded++
		nodes = append(nodes, r.Nodes...)
	}
	var reqs []*heaptopv1.PathRequest
	for _, n := range nodes {
		reqs = append(reqs, &heaptopv1.PathRequest{SnapshotId: snap.Id, Of: &heaptopv1.PathRequest_Node{Node: n.Id}})
	}
	for _, g := range snap.Groups {
		reqs = append(reqs, &heaptopv1.PathRequest{SnapshotId: snap.Id, Of: &heaptopv1.PathRequest_GroupKey{GroupKey: g.Key}})
	}
	for _, f := range snap.Findings {
		reqs = append(reqs, &heaptopv1.PathRequest{SnapshotId: snap.Id, Of: &heaptopv1.PathRequest_FindingKey{FindingKey: f.Key}})
	}
	for _, r := range reqs {
		if len(reqs) > 2000 && paths == 2000 {
			break
		}
		if _, err := c.Path(ctx, r); err == nil {
			paths++
		}
	}
	time.Sleep(100 * time.Millisecond) // the last replies are read in full

	mu.Lock()
	seen := append([]byte(nil), wire.Bytes()...)
	mu.Unlock()
	// The capture saw the planted objects: their type, and the globals
	// and the goroutine holding them, are named on the wire.
	for _, named := range []string{"main.vault", "main.globalVault", "main.vaults"} {
		if !bytes.Contains(seen, []byte(named)) {
			t.Errorf("%q never crossed the wire: the capture did not reach the planted objects", named)
		}
	}
	var pattern [8]byte
	var head [8]byte
	copy(head[:], secret)
	binary.LittleEndian.PutUint64(pattern[:], binary.LittleEndian.Uint64(head[:])^0x5a5a5a5a5a5a5a5a)
	needles := map[string][]byte{
		"the secret":         []byte(secret),
		"its first half":     []byte(secret[:13]),
		"its second half":    []byte(secret[13:]),
		"the 8-byte pattern": pattern[:],
	}
	for what, n := range needles {
		if i := bytes.Index(seen, n); i >= 0 {
			t.Errorf("%s crossed the wire at byte %d of %d: %q", what, i, len(seen), seen[max(0, i-40):min(len(seen), i+60)])
		}
	}
	t.Logf("%d bytes crossed the socket: a snapshot of %d objects, %d tree nodes (%d expanded), %d paths, %d groups, %d findings, searched for the secret",
		len(seen), snap.Stats.Objects, len(nodes), expanded, paths, len(snap.Groups), len(snap.Findings))
}
