package naming_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"testing"

	"github.com/heaptop/heaptop/agent/capture"
	"github.com/heaptop/heaptop/agent/internal/pipeline"
	"github.com/heaptop/heaptop/agent/naming"
	"github.com/heaptop/heaptop/agent/symbols"
)

// benchRecord is one entry of the benchmark's heap: seven objects (the
// record, its name's bytes, its tags' backing array and two tags' bytes,
// a boxed payload, a buffer) reached through a map.
type benchRecord struct {
	name    string
	tags    []string
	next    *benchRecord
	payload any
	buf     []byte
}

type benchPayload struct {
	id, size int
}

// benchHeap holds the planted heap through an interface, so that typing
// starts from an interface word: go test binaries have no DWARF for
// globals.
var benchHeap any

func plantBenchHeap(records int) {
	m := make(map[string]*benchRecord, records)
	var prev *benchRecord
	for i := range records {
		r := &benchRecord{
			name:    "record-" + strconv.Itoa(i),
			tags:    []string{"tag-" + strconv.Itoa(i%97), "kind-" + strconv.Itoa(i%13)},
			next:    prev,
			payload: benchPayload{id: i, size: 64},
			buf:     make([]byte, 64+i%200),
		}
		m[r.name] = r
		prev = r
	}
	benchHeap = m
}

// BenchmarkName measures naming.Name alone (typing and sites) on a
// captured graph of this process holding about 7 objects per planted
// record, at the default MemProfileRate:
//
//	go test -run '^$' -bench Name -benchtime 5x ./naming
func BenchmarkName(b *testing.B) {
	for _, records := range []int{15_000, 150_000} {
		b.Run(fmt.Sprintf("records=%d", records), func(b *testing.B) {
			plantBenchHeap(records)
			runtime.GC()
			im := symbols.Self()
			in, err := pipeline.Input(im)
			if err != nil {
				b.Fatal(err)
			}
			g, _, _, err := pipeline.Build(context.Background(), capture.New(capture.Options{}), in, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer g.Close()
			if _, err := naming.Name(g, im); err != nil { // loads the image's symbols once
				b.Fatal(err)
			}
			var cv naming.Coverage
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				n, err := naming.Name(g, im)
				if err != nil {
					b.Fatal(err)
				}
				cv = n.Coverage()
			}
			b.StopTimer()
			objects := float64(g.NumObjects())
			b.ReportMetric(objects, "objects")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/objects, "ns/object")
			b.ReportMetric(100*float64(cv.TypedBytes)/float64(cv.Bytes), "%bytes-typed")
			b.ReportMetric(100*float64(cv.TypedObjects)/float64(cv.Objects), "%objects-typed")
			benchHeap = nil
		})
	}
}
