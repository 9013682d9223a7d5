// Package units writes sizes the way the agent's reasons and notes show them
// to people: binary units, one decimal.
package units

import "fmt"

// Bytes is a size as people read it: "3.1 MiB", "512 B".
func Bytes[N int64 | uint64](n N) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
