package recipe

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/metrics"
)

func batchCost(name string, n int, rng *rand.Rand) []float64 {
	x1, _ := dataset.Sample(name, n, rng)
	cost := make([]float64, n*n)
	x0 := make([]float64, 2*n)
	for i := range x0 {
		x0[i] = rng.NormFloat64()
	}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			a := x0[2*i] - float64(x1[2*j])
			b := x0[2*i+1] - float64(x1[2*j+1])
			cost[i*n+j] = a*a + b*b
		}
	}
	return cost
}

// The auction's assignment is a permutation whose total equals Jonker–Volgenant's
// optimum (to 1e-9 relative).
func TestAuctionOptimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var s auction
	for _, name := range []string{"moons", "8gaussians", "rings", "checkerboard"} {
		for _, n := range []int{1, 2, 3, 17, 64, 200} {
			cost := batchCost(name, n, rng)
			perm := make([]int, n)
			s.assign(cost, n, perm)
			seen := make([]bool, n)
			got := 0.0
			for i, j := range perm {
				if j < 0 || j >= n || seen[j] {
					t.Fatalf("%s n=%d: not a permutation: %v", name, n, perm)
				}
				seen[j] = true
				got += cost[i*n+j]
			}
			_, want, err := metrics.Assign(cost, n)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-want) > 1e-9*math.Max(1, want) {
				t.Errorf("%s n=%d: auction total %.12g, optimum %.12g", name, n, got, want)
			}
		}
	}
	// Random uniform costs with many near-ties, and integer costs with exact ties.
	for _, n := range []int{50, 150} {
		cost := make([]float64, n*n)
		for i := range cost {
			cost[i] = rng.Float64()
		}
		icost := make([]float64, n*n)
		for i := range icost {
			icost[i] = float64(rng.IntN(5))
		}
		for _, c := range [][]float64{cost, icost} {
			perm := make([]int, n)
			s.assign(c, n, perm)
			got := 0.0
			for i, j := range perm {
				got += c[i*n+j]
			}
			_, want, _ := metrics.Assign(c, n)
			if math.Abs(got-want) > 1e-9*math.Max(1, want) {
				t.Errorf("n=%d: auction total %.12g, optimum %.12g", n, got, want)
			}
		}
	}
}

func benchAssign(b *testing.B, n int, jv bool) {
	rng := rand.New(rand.NewPCG(2, 2))
	cost := batchCost("moons", n, rng)
	perm := make([]int, n)
	var s auction
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if jv {
			metrics.Assign(cost, n)
		} else {
			s.assign(cost, n, perm)
		}
	}
}

func BenchmarkAuction256(b *testing.B)  { benchAssign(b, 256, false) }
func BenchmarkAuction1024(b *testing.B) { benchAssign(b, 1024, false) }
func BenchmarkJV256(b *testing.B)       { benchAssign(b, 256, true) }
