package metrics

import "runtime/metrics"

// Uint64s reads the named runtime/metrics values, without stopping the
// world, as int64s in the order given. A name this Go version does not
// have, or one that is not a uint64, reads 0. The capture and snapshot
// budgets size their predictions with it.
func Uint64s(names ...string) []int64 {
	s := make([]metrics.Sample, len(names))
	for i, n := range names {
		s[i].Name = n
	}
	metrics.Read(s)
	v := make([]int64, len(s))
	for i := range s {
		if s[i].Value.Kind() == metrics.KindUint64 {
			v[i] = int64(s[i].Value.Uint64())
		}
	}
	return v
}
