package capture

import (
	"math"
	"runtime/metrics"
	"time"
)

const otherPausesMetric = "/sched/pauses/total/other:seconds"

// pauseHist is a snapshot of the runtime's histogram of non-GC
// stop-the-world pauses.
type pauseHist struct {
	counts  []uint64
	buckets []float64
}

func otherPauses() pauseHist {
	s := []metrics.Sample{{Name: otherPausesMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return pauseHist{}
	}
	h := s[0].Value.Float64Histogram()
	return pauseHist{counts: append([]uint64(nil), h.Counts...), buckets: h.Buckets}
}

// newestMax is the upper bound of the highest bucket that gained a sample
// between p and q: the longest non-GC pause in between, rounded up to its
// bucket (the histogram's buckets are a few percent wide).
func (p pauseHist) newestMax(q pauseHist) time.Duration {
	if len(p.counts) != len(q.counts) {
		return 0
	}
	for i := len(q.counts) - 1; i >= 0; i-- {
		if q.counts[i] > p.counts[i] {
			hi := q.buckets[i+1]
			if math.IsInf(hi, 1) {
				hi = q.buckets[i]
			}
			return time.Duration(hi * float64(time.Second))
		}
	}
	return 0
}
