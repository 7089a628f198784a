package metrics

import (
	"fmt"
	"math"
)

// checkPoints validates a row-major point set of dimension d and returns the
// number of points in it.
func checkPoints(fn, which string, p []float32, d int) (int, error) {
	return checkPointsMax(fn, which, p, d, 0)
}

// checkPointsMax is checkPoints refusing more than maxN points (when maxN > 0)
// before it scans them.
func checkPointsMax(fn, which string, p []float32, d, maxN int) (int, error) {
	if d < 1 {
		return 0, fmt.Errorf("metrics: %s: dimension d = %d, want ≥ 1", fn, d)
	}
	if len(p) == 0 {
		return 0, fmt.Errorf("metrics: %s: %s has no points: %w", fn, which, ErrEmpty)
	}
	if len(p)%d != 0 {
		return 0, fmt.Errorf("metrics: %s: len(%s) = %d is not a multiple of d = %d", fn, which, len(p), d)
	}
	if maxN > 0 && len(p)/d > maxN {
		return 0, tooLarge(fn, len(p)/d)
	}
	for k, x := range p {
		if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("metrics: %s: %s[%d] (point %d, coordinate %d) is %v", fn, which, k, k/d, k%d, x)
		}
	}
	return len(p) / d, nil
}

// SqDistMatrix returns the n×m row-major matrix of squared Euclidean
// distances, in float64, between the n points of a and the m points of b
// (both row-major with d coordinates per point).
func SqDistMatrix(a, b []float32, d int) ([]float64, error) {
	n, err := checkPoints("SqDistMatrix", "a", a, d)
	if err != nil {
		return nil, err
	}
	m, err := checkPoints("SqDistMatrix", "b", b, d)
	if err != nil {
		return nil, err
	}
	return sqDist(a, b, n, m, d), nil
}

func sqDist(a, b []float32, n, m, d int) []float64 {
	out := make([]float64, n*m)
	if d == 2 {
		for i := 0; i < n; i++ {
			ax, ay := float64(a[2*i]), float64(a[2*i+1])
			row := out[i*m : (i+1)*m]
			for j := range row {
				dx := ax - float64(b[2*j])
				dy := ay - float64(b[2*j+1])
				row[j] = dx*dx + dy*dy
			}
		}
		return out
	}
	for i := 0; i < n; i++ {
		ai := a[i*d : (i+1)*d]
		row := out[i*m : (i+1)*m]
		for j := range row {
			bj := b[j*d : (j+1)*d]
			var s float64
			for k, x := range ai {
				t := float64(x) - float64(bj[k])
				s += t * t
			}
			row[j] = s
		}
	}
	return out
}

// W2 returns the 2-Wasserstein distance between the empirical measures of
// two point sets of equal size n, each row-major with d coordinates per
// point:
//
//	W2(a, b) = sqrt( min over permutations σ of (1/n) Σ_i |a_i − b_σ(i)|² ).
//
// The optimal matching is exact (see [Assign]), computed in float64. Sets of
// different sizes, more than [MaxN] points, d < 1, empty sets and NaN or
// infinite coordinates are errors.
func W2(a, b []float32, d int) (float64, error) {
	n, err := checkPointsMax("W2", "a", a, d, MaxN)
	if err != nil {
		return 0, err
	}
	m, err := checkPointsMax("W2", "b", b, d, MaxN)
	if err != nil {
		return 0, err
	}
	if n != m {
		return 0, fmt.Errorf("metrics: W2: a has %d points and b has %d; W2 needs equal sizes", n, m)
	}
	cost := sqDist(a, b, n, n, d)
	_, total, err := Assign(cost, n)
	if err != nil {
		return 0, fmt.Errorf("metrics: W2: %w", err)
	}
	return math.Sqrt(math.Max(total, 0) / float64(n)), nil
}

// Sampler draws n points, row-major with a fixed number of coordinates per
// point. A closure over a dataset and a random source is the usual one.
type Sampler func(n int) ([]float32, error)

// W2Floor estimates the W2 "floor" of a distribution: the mean, over reps
// repetitions, of W2 between two independent n-point draws from sample. A
// model's samples cannot be expected to score much below it at the same n,
// so W2 / floor is a scale-free quality figure (1 is perfect). It returns
// the mean and the sample standard deviation over the repetitions (0 when
// reps is 1). n is at most [MaxN].
func W2Floor(sample Sampler, d, n, reps int) (mean, std float64, err error) {
	if sample == nil {
		return 0, 0, fmt.Errorf("metrics: W2Floor: nil sampler")
	}
	if n < 1 || reps < 1 {
		return 0, 0, fmt.Errorf("metrics: W2Floor: n = %d, reps = %d, want both ≥ 1", n, reps)
	}
	if n > MaxN {
		return 0, 0, tooLarge("W2Floor", n)
	}
	ws := make([]float64, reps)
	for r := range ws {
		a, err := sample(n)
		if err != nil {
			return 0, 0, fmt.Errorf("metrics: W2Floor: rep %d: %w", r, err)
		}
		b, err := sample(n)
		if err != nil {
			return 0, 0, fmt.Errorf("metrics: W2Floor: rep %d: %w", r, err)
		}
		if len(a) != n*d || len(b) != n*d {
			return 0, 0, fmt.Errorf("metrics: W2Floor: rep %d: sampler returned %d and %d values, want n*d = %d", r, len(a), len(b), n*d)
		}
		if ws[r], err = W2(a, b, d); err != nil {
			return 0, 0, fmt.Errorf("metrics: W2Floor: rep %d: %w", r, err)
		}
	}
	mean, std = MeanStd(ws)
	return mean, std, nil
}

// MeanStd is the mean and sample standard deviation of xs (0 for one value), summed in
// order, as the floors here report them: callers that repeat a floor themselves use it
// to reproduce those figures to the bit.
func MeanStd(xs []float64) (mean, std float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}
