package metrics

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// MaxFrechetDim bounds the feature dimension of [NewMoments] (a d×d covariance and its
// O(d³) eigendecompositions).
const MaxFrechetDim = 4096

// Moments are a feature set's mean and covariance, what the Fréchet distance compares:
// computing them once lets one reference set be compared with many.
type Moments struct {
	N    int       // points they were computed from
	Mean []float64 // d values
	Cov  []float64 // d×d, row-major, the unbiased (n − 1) sample covariance
}

// Dim is the feature dimension d.
func (m Moments) Dim() int { return len(m.Mean) }

// NewMoments computes the mean and covariance of x (n points, row-major, d values
// each; n ≥ 2), in float64.
func NewMoments(x []float32, d int) (Moments, error) {
	n, err := checkPoints("NewMoments", "x", x, d)
	if err != nil {
		return Moments{}, err
	}
	if n < 2 {
		return Moments{}, fmt.Errorf("metrics: NewMoments: %d point, want at least 2 for a covariance", n)
	}
	if d > MaxFrechetDim {
		return Moments{}, fmt.Errorf("metrics: NewMoments: dimension %d, want at most %d", d, MaxFrechetDim)
	}
	m := Moments{N: n, Mean: make([]float64, d), Cov: make([]float64, d*d)}
	for i := range n {
		for j, v := range x[i*d : (i+1)*d] {
			m.Mean[j] += float64(v)
		}
	}
	for j := range m.Mean {
		m.Mean[j] /= float64(n)
	}
	c := make([]float64, d)
	for i := range n {
		for j, v := range x[i*d : (i+1)*d] {
			c[j] = float64(v) - m.Mean[j]
		}
		for j, cj := range c { // upper triangle only; mirrored below
			row := m.Cov[j*d:]
			for k := j; k < d; k++ {
				row[k] += cj * c[k]
			}
		}
	}
	for j := range d {
		for k := j; k < d; k++ {
			v := m.Cov[j*d+k] / float64(n-1)
			m.Cov[j*d+k], m.Cov[k*d+j] = v, v
		}
	}
	return m, nil
}

// FrechetDistance returns the Fréchet distance between the Gaussians with the moments
// of a and b, the squared 2-Wasserstein distance between them (the quantity FID
// reports, in whatever features a and b hold):
//
//	|μa − μb|² + tr(Σa + Σb − 2 (Σa^½ Σb Σa^½)^½).
//
// Both square roots are of symmetric positive semi-definite matrices, taken by
// symmetric eigendecomposition with eigenvalues below zero (rounding) clamped to 0, so
// the result is real; a tiny negative total (rounding, for equal sets) is clamped to 0.
func FrechetDistance(a, b Moments) (float64, error) {
	d := a.Dim()
	if d == 0 || b.Dim() != d || len(a.Cov) != d*d || len(b.Cov) != d*d {
		return 0, fmt.Errorf("metrics: FrechetDistance: dimensions %d and %d (covariances of %d and %d values)", d, b.Dim(), len(a.Cov), len(b.Cov))
	}
	var mean, trace float64
	for j := range d {
		mean += (a.Mean[j] - b.Mean[j]) * (a.Mean[j] - b.Mean[j])
		trace += a.Cov[j*d+j] + b.Cov[j*d+j]
	}
	sa, err := sqrtSym(mat.NewSymDense(d, append([]float64(nil), a.Cov...)))
	if err != nil {
		return 0, err
	}
	var prod mat.Dense
	prod.Mul(sa, mat.NewSymDense(d, append([]float64(nil), b.Cov...)))
	prod.Mul(&prod, sa)
	sym := mat.NewSymDense(d, nil)
	for i := range d {
		for j := i; j < d; j++ {
			sym.SetSym(i, j, (prod.At(i, j)+prod.At(j, i))/2) // symmetric up to rounding
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(sym, false) {
		return 0, fmt.Errorf("metrics: FrechetDistance: eigendecomposition failed")
	}
	var cross float64
	for _, l := range eig.Values(nil) {
		cross += math.Sqrt(max(l, 0))
	}
	fd := mean + trace - 2*cross
	if math.IsNaN(fd) || math.IsInf(fd, 0) {
		return 0, fmt.Errorf("metrics: FrechetDistance: %v (non-finite moments?)", fd)
	}
	return max(fd, 0), nil
}

// Frechet is FrechetDistance between the moments of the point sets a and b (n and m
// points of d values; n, m ≥ 2).
func Frechet(a, b []float32, d int) (float64, error) {
	ma, err := NewMoments(a, d)
	if err != nil {
		return 0, err
	}
	mb, err := NewMoments(b, d)
	if err != nil {
		return 0, err
	}
	return FrechetDistance(ma, mb)
}

// sqrtSym returns the symmetric square root V·diag(√max(λ, 0))·Vᵀ of a symmetric
// matrix.
func sqrtSym(s *mat.SymDense) (*mat.Dense, error) {
	var eig mat.EigenSym
	if !eig.Factorize(s, true) {
		return nil, fmt.Errorf("metrics: FrechetDistance: eigendecomposition failed")
	}
	vals := eig.Values(nil)
	var v mat.Dense
	eig.VectorsTo(&v)
	d := len(vals)
	scaled := mat.NewDense(d, d, nil)
	for i := range d {
		for j := range d {
			scaled.Set(i, j, v.At(i, j)*math.Sqrt(max(vals[j], 0)))
		}
	}
	var r mat.Dense
	r.Mul(scaled, v.T())
	return &r, nil
}
