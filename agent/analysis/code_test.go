package analysis

import "testing"

func TestPackages(t *testing.T) {
	p := Packages{modules: []string{"example.com/svc", "google.golang.org/grpc", "golang.org/x/sys"}}
	for _, c := range []struct {
		symbol string
		want   Code
	}{
		{"main.cache", UserCode},
		{"main.(*lru).put", UserCode},
		{"example.com/svc/store.(*DB).Get.func1", UserCode},
		{"example.com/svcother.F", StdCode}, // not a package of example.com/svc
		{"google.golang.org/grpc.(*Server).Serve", UserCode},
		{"golang.org/x/sys/unix.Syscall", UserCode},
		{"net/http.(*conn).serve", StdCode},
		{"net/http.DefaultTransport", StdCode},
		{"vendor/golang.org/x/net/http2/hpack.huffmanDecode", StdCode},
		{"sync.(*Pool).Get", StdCode},
		{"runtime.allgs", RuntimeCode},
		{"runtime.gopark", RuntimeCode},
		{"internal/runtime/maps.(*Map).getWithKey", RuntimeCode},
		{"internal/poll.(*FD).Read", StdCode},
		{"github.com/heaptop/heaptop/agent.MarkReleased", AgentCode},
		{"github.com/heaptop/heaptop/agent/analysis.Analyse", AgentCode},
		{"main.Box[go.shape.int].Get", UserCode},
	} {
		if got := p.OfSymbol(c.symbol); got != c.want {
			t.Errorf("OfSymbol(%q) = %d, want %d", c.symbol, got, c.want)
		}
	}
	// Without build info, the import path's shape decides.
	var none Packages
	if none.Of("github.com/a/b") != UserCode || none.Of("net/http") != StdCode || none.Of("main") != UserCode {
		t.Error("shape fallback misclassifies")
	}
}
