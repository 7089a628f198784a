package runs

import (
	"sync"
	"testing"
)

// TestSplit: every sample in exactly one run, runs contiguous and in worker order, no
// empty run, for sizes around the worker count.
func TestSplit(t *testing.T) {
	for _, c := range [][2]int{{0, 3}, {1, 3}, {5, 3}, {6, 3}, {7, 3}, {10, 4}, {3, 8}, {4, 0}} {
		n, workers := c[0], c[1]
		var mu sync.Mutex
		got := map[int][2]int{}
		Split(n, workers, func(i, lo, hi int) {
			mu.Lock()
			defer mu.Unlock()
			got[i] = [2]int{lo, hi}
		})
		next := 0
		for i := 0; i < len(got); i++ {
			r, ok := got[i]
			if !ok || r[0] != next || r[1] <= r[0] {
				t.Fatalf("n %d, workers %d: runs %v", n, workers, got)
			}
			next = r[1]
		}
		if next != n || len(got) > max(1, workers) {
			t.Fatalf("n %d, workers %d: runs %v cover [0, %d)", n, workers, got, next)
		}
	}
}
