package metrics

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// bruteAssign returns the minimal assignment total over all n! permutations.
func bruteAssign(cost []float64, n int) float64 {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	best := math.Inf(1)
	var rec func(k int)
	rec = func(k int) {
		if k == n {
			var s float64
			for i, j := range perm {
				s += cost[i*n+j]
			}
			if s < best {
				best = s
			}
			return
		}
		for i := k; i < n; i++ {
			perm[k], perm[i] = perm[i], perm[k]
			rec(k + 1)
			perm[k], perm[i] = perm[i], perm[k]
		}
	}
	rec(0)
	return best
}

// hungarian is an independent reference: the O(n³) potentials-based
// Hungarian method (Kuhn–Munkres with Dijkstra-style row insertion), written
// 1-indexed as it is usually presented. It returns the minimal total.
func hungarian(cost []float64, n int) float64 {
	u := make([]float64, n+1)
	v := make([]float64, n+1)
	p := make([]int, n+1)
	way := make([]int, n+1)
	for i := 1; i <= n; i++ {
		p[0] = i
		j0 := 0
		minv := make([]float64, n+1)
		used := make([]bool, n+1)
		for j := range minv {
			minv[j] = math.Inf(1)
		}
		for {
			used[j0] = true
			i0 := p[j0]
			delta := math.Inf(1)
			j1 := 0
			for j := 1; j <= n; j++ {
				if !used[j] {
					cur := cost[(i0-1)*n+(j-1)] - u[i0] - v[j]
					if cur < minv[j] {
						minv[j] = cur
						way[j] = j0
					}
					if minv[j] < delta {
						delta = minv[j]
						j1 = j
					}
				}
			}
			for j := 0; j <= n; j++ {
				if used[j] {
					u[p[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if p[j0] == 0 {
				break
			}
		}
		for {
			j1 := way[j0]
			p[j0] = p[j1]
			j0 = j1
			if j0 == 0 {
				break
			}
		}
	}
	var total float64
	for j := 1; j <= n; j++ {
		total += cost[(p[j]-1)*n+(j-1)]
	}
	return total
}

// checkPerm fails the test unless rowToCol is a permutation of 0..n-1 whose
// total under cost is total (to rounding).
func checkPerm(t *testing.T, cost []float64, n int, rowToCol []int, total float64) {
	t.Helper()
	if len(rowToCol) != n {
		t.Fatalf("len(rowToCol) = %d, want %d", len(rowToCol), n)
	}
	seen := make([]bool, n)
	var s float64
	for i, j := range rowToCol {
		if j < 0 || j >= n || seen[j] {
			t.Fatalf("rowToCol = %v is not a permutation", rowToCol)
		}
		seen[j] = true
		s += cost[i*n+j]
	}
	if math.Abs(s-total) > 1e-9*(1+math.Abs(s)) {
		t.Fatalf("returned total %v, but the assignment sums to %v", total, s)
	}
}

// costGen makes random n×n cost matrices of several kinds, including ones
// with many ties, which exercise the solver's degenerate branches.
var costGens = []struct {
	name string
	gen  func(r *rand.Rand, n int) []float64
}{
	{"uniform", func(r *rand.Rand, n int) []float64 {
		c := make([]float64, n*n)
		for k := range c {
			c[k] = r.Float64()
		}
		return c
	}},
	{"small-integers", func(r *rand.Rand, n int) []float64 {
		c := make([]float64, n*n)
		for k := range c {
			c[k] = float64(r.IntN(4))
		}
		return c
	}},
	{"signed-wide-range", func(r *rand.Rand, n int) []float64 {
		c := make([]float64, n*n)
		for k := range c {
			c[k] = (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(9)-3))
		}
		return c
	}},
	{"constant", func(r *rand.Rand, n int) []float64 {
		c := make([]float64, n*n)
		for k := range c {
			c[k] = 7
		}
		return c
	}},
	{"rank-one", func(r *rand.Rand, n int) []float64 {
		// c_ij = a_i·b_j: every permutation of a sorted pairing ties often.
		a := make([]float64, n)
		b := make([]float64, n)
		for i := range a {
			a[i] = float64(r.IntN(3))
			b[i] = float64(r.IntN(3))
		}
		c := make([]float64, n*n)
		for i := range a {
			for j := range b {
				c[i*n+j] = a[i] * b[j]
			}
		}
		return c
	}},
	{"sq-euclidean-2d", func(r *rand.Rand, n int) []float64 {
		a := make([]float32, 2*n)
		b := make([]float32, 2*n)
		for k := range a {
			a[k] = float32(r.NormFloat64())
			b[k] = float32(r.NormFloat64() + 0.5)
		}
		return sqDist(a, b, n, n, 2)
	}},
}

func TestAssignBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, g := range costGens {
		for n := 1; n <= 7; n++ {
			reps := 40
			if n == 7 {
				reps = 8
			}
			for rep := 0; rep < reps; rep++ {
				cost := g.gen(r, n)
				got, total, err := Assign(cost, n)
				if err != nil {
					t.Fatalf("%s n=%d: %v", g.name, n, err)
				}
				checkPerm(t, cost, n, got, total)
				want := bruteAssign(cost, n)
				if math.Abs(total-want) > 1e-9*(1+math.Abs(want)) {
					t.Fatalf("%s n=%d rep %d: total %v, brute force %v\ncost=%v", g.name, n, rep, total, want, cost)
				}
			}
		}
	}
}

func TestAssignHungarian(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, g := range costGens {
		for _, n := range []int{20, 63, 150} {
			cost := g.gen(r, n)
			got, total, err := Assign(cost, n)
			if err != nil {
				t.Fatalf("%s n=%d: %v", g.name, n, err)
			}
			checkPerm(t, cost, n, got, total)
			want := hungarian(cost, n)
			if math.Abs(total-want) > 1e-9*(1+math.Abs(want)) {
				t.Errorf("%s n=%d: total %v, reference Hungarian %v", g.name, n, total, want)
			}
		}
	}
}

func TestAssignKnown(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		cost  []float64
		want  []int
		total float64
	}{
		{"1x1", 1, []float64{-3}, []int{0}, -3},
		{"identity", 3, []float64{
			0, 1, 1,
			1, 0, 1,
			1, 1, 0}, []int{0, 1, 2}, 0},
		{"anti-diagonal", 3, []float64{
			5, 5, 1,
			5, 1, 5,
			1, 5, 5}, []int{2, 1, 0}, 3},
		{"textbook 3x3", 3, []float64{
			4, 1, 3,
			2, 0, 5,
			3, 2, 2}, []int{1, 0, 2}, 5},
		// The classic 4-worker example: rows are workers, columns jobs.
		{"workers", 4, []float64{
			82, 83, 69, 92,
			77, 37, 49, 92,
			11, 69, 5, 86,
			8, 9, 98, 23}, []int{2, 1, 0, 3}, 140},
		{"greedy-fails", 2, []float64{
			1, 2,
			2, 100}, []int{1, 0}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total, err := Assign(tt.cost, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if total != tt.total {
				t.Errorf("total = %v, want %v", total, tt.total)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("rowToCol = %v, want %v", got, tt.want)
					break
				}
			}
		})
	}
}

func TestAssignErrors(t *testing.T) {
	tests := []struct {
		name string
		cost []float64
		n    int
	}{
		{"n=0", nil, 0},
		{"n<0", nil, -1},
		{"short", []float64{1, 2, 3}, 2},
		{"long", []float64{1, 2, 3, 4, 5}, 2},
		{"NaN", []float64{1, math.NaN(), 3, 4}, 2},
		{"+Inf", []float64{1, 2, math.Inf(1), 4}, 2},
		{"-Inf", []float64{math.Inf(-1)}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := Assign(tt.cost, tt.n); err == nil {
				t.Errorf("Assign(%v, %d) returned no error", tt.cost, tt.n)
			}
		})
	}
	if _, _, err := Assign(nil, 0); !errors.Is(err, ErrEmpty) {
		t.Errorf("Assign(nil, 0) error %v, want ErrEmpty", err)
	}
}

// TestAssignLarge1D checks a large case against a closed form: on the line,
// with squared-distance cost, pairing the sorted points in order is optimal.
func TestAssignLarge1D(t *testing.T) {
	const n = 400
	r := rand.New(rand.NewPCG(5, 6))
	a := make([]float32, n)
	b := make([]float32, n)
	for i := range a {
		a[i] = float32(r.NormFloat64())
		b[i] = float32(r.ExpFloat64())
	}
	got, err := W2(a, b, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := sortedW2(a, b)
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("W2 = %.12f, sorted pairing gives %.12f", got, want)
	}
}

func benchmarkAssign(b *testing.B, n int) {
	r := rand.New(rand.NewPCG(7, 8))
	p := make([]float32, 2*n)
	q := make([]float32, 2*n)
	for k := range p {
		p[k] = float32(r.NormFloat64())
		q[k] = float32(r.NormFloat64())
	}
	cost := sqDist(p, q, n, n, 2)
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := Assign(cost, n); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAssign2000 solves one 2,000-point squared-Euclidean matching
// between two standard normal clouds in 2D.
func BenchmarkAssign2000(b *testing.B) { benchmarkAssign(b, 2000) }

func BenchmarkAssign500(b *testing.B) { benchmarkAssign(b, 500) }
