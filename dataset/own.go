package dataset

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// A user's own data: n rows of d numbers (n×d row-major float32), read from a CSV or
// .npy file (see [ReadFile]), standardised per dimension ([Standardize]) and split
// into training rows and a held-out tenth ([Holdout]) that evaluation recomputes from
// the seed alone, so a model file need not list the rows it never saw.

// Standardize returns the per-dimension mean and scale (the population standard
// deviation, dividing by n) of x, n×d row-major with n ≥ 1: the Mean and Std of a
// weights.Normalization, which maps network space to data space as
// x = mean + std·z. A constant column has std exactly 0 (and its mean is exactly its
// value, the sum of n ≤ 2²⁴ equal float32 values being exact in float64), so that a
// model keeps it constant rather than dividing by a rounding error. Sums are in
// float64, two passes, so that data far from 0 lose no digits to cancellation.
func Standardize(x []float32, d int) (mean, std []float64, err error) {
	if d < 1 || len(x) < d || len(x)%d != 0 {
		return nil, nil, fmt.Errorf("dataset: standardize: %d values do not make rows of %d", len(x), d)
	}
	n := len(x) / d
	mean = make([]float64, d)
	for i, v := range x {
		mean[i%d] += float64(v)
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	std = make([]float64, d)
	for i, v := range x {
		e := float64(v) - mean[i%d]
		std[i%d] += e * e
	}
	for j := range std {
		std[j] = math.Sqrt(std[j] / float64(n))
		if constantColumn(x, d, j) {
			std[j] = 0
		}
	}
	return mean, std, nil
}

// constantColumn reports whether column j of x (n×d) holds one value throughout.
func constantColumn(x []float32, d, j int) bool {
	for i := j + d; i < len(x); i += d {
		if x[i] != x[j] {
			return false
		}
	}
	return true
}

// ConstantColumns returns the columns (counted from 0) of x, n×d, that hold one value
// throughout.
func ConstantColumns(x []float32, d int) []int {
	var c []int
	for j := 0; j < d && len(x) >= d; j++ {
		if constantColumn(x, d, j) {
			c = append(c, j)
		}
	}
	return c
}

// HoldoutRule names the rule [Holdout] follows: HoldoutCount(n) rows chosen by
// selection sampling from PCG(seed, 0x686f6c646f7574). A model file records it beside
// the seed, so that a later version with another rule can tell the two apart.
const HoldoutRule = "dataset.Holdout/v1"

// HoldoutCount is the number of rows of n that [Holdout] holds out: n/10 rounded to
// the nearest, at least 1 when n ≥ 2 (so that every evaluation has a row) and 0 for
// n ≤ 1 (so that training keeps one).
func HoldoutCount(n int) int {
	k := (n + 5) / 10
	if k == 0 && n >= 2 {
		k = 1
	}
	return k
}

// Holdout returns which of n rows are held out of training: exactly HoldoutCount(n)
// of them, chosen uniformly among all subsets of that size by the seed alone (Knuth's
// selection sampling, Algorithm S, drawing from PCG(seed, a fixed stream)). It uses
// O(1) memory beyond the mask, so 10⁷ rows cost 10 MB, and the same seed and n always
// give the same rows.
func Holdout(n int, seed uint64) []bool {
	if n <= 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(seed, 0x686f6c646f7574)) // "holdout"
	held := make([]bool, n)
	k := HoldoutCount(n)
	for i := 0; i < n && k > 0; i++ {
		// Row i is chosen with probability k / (rows left), k being the rows still to choose.
		if rng.IntN(n-i) < k {
			held[i] = true
			k--
		}
	}
	return held
}

// Split divides x, n×d row-major, into the rows [Holdout] keeps for training and the
// held-out rows, each in file order, in fresh slices.
func Split(x []float32, d int, seed uint64) (train, held []float32, err error) {
	if d < 1 || len(x)%d != 0 {
		return nil, nil, fmt.Errorf("dataset: split: %d values do not make rows of %d", len(x), d)
	}
	n := len(x) / d
	mask := Holdout(n, seed)
	k := HoldoutCount(n)
	train = make([]float32, 0, (n-k)*d)
	held = make([]float32, 0, k*d)
	for i, h := range mask {
		row := x[i*d : (i+1)*d]
		if h {
			held = append(held, row...)
		} else {
			train = append(train, row...)
		}
	}
	return train, held, nil
}
