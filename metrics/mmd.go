package metrics

import (
	"fmt"
	"math"
)

// DefaultBandwidths returns the RBF bandwidths h this project uses for 2D
// data on the FFJORD toy scale (a few units across): a fresh slice of
// 0.1, 0.2, 0.5, 1, 2.
func DefaultBandwidths() []float64 { return []float64{0.1, 0.2, 0.5, 1, 2} }

// MMD returns, for each bandwidth h in bandwidths, the biased (V-statistic)
// estimate of the squared maximum mean discrepancy between the empirical
// measures of a (n points) and b (m points), row-major with d coordinates
// per point, under the Gaussian RBF kernel k(x, y) = exp(−|x − y|² / (2h²)):
//
//	MMD²_b = (1/n²) Σ_{i,j} k(a_i, a_j) + (1/m²) Σ_{i,j} k(b_i, b_j) − (2/(nm)) Σ_{i,j} k(a_i, b_j).
//
// The biased estimate is the squared RKHS distance between the two kernel
// mean embeddings, so it is ≥ 0 (rounding below zero is clamped) and 0, to
// rounding, when a and b hold the same points; its expectation exceeds the true MMD² by
// O(1/n + 1/m). n and m may differ. The cost is O((n+m)² · (d + len(bandwidths))) time
// and O(m) memory: 2–3 s for two sets of [MaxN] points in 2D at the default
// bandwidths, on one core.
func MMD(a, b []float32, d int, bandwidths []float64) ([]float64, error) {
	return mmd("MMD", a, b, d, bandwidths, false)
}

// MMDUnbiased is [MMD] with the unbiased U-statistic: the within-set sums
// leave out the diagonal (i = j) and divide by n(n−1) and m(m−1). Its
// expectation is the true MMD², and it can be slightly negative. Each set
// needs at least two points.
func MMDUnbiased(a, b []float32, d int, bandwidths []float64) ([]float64, error) {
	return mmd("MMDUnbiased", a, b, d, bandwidths, true)
}

func mmd(fn string, a, b []float32, d int, bandwidths []float64, unbiased bool) ([]float64, error) {
	n, err := checkPoints(fn, "a", a, d)
	if err != nil {
		return nil, err
	}
	m, err := checkPoints(fn, "b", b, d)
	if err != nil {
		return nil, err
	}
	if len(bandwidths) == 0 {
		return nil, fmt.Errorf("metrics: %s: no bandwidths", fn)
	}
	gamma := make([]float64, len(bandwidths))
	for k, h := range bandwidths {
		if !(h > 0) || math.IsInf(h, 0) {
			return nil, fmt.Errorf("metrics: %s: bandwidths[%d] = %v, want finite and > 0", fn, k, h)
		}
		gamma[k] = 1 / (2 * h * h)
	}
	if unbiased && (n < 2 || m < 2) {
		return nil, fmt.Errorf("metrics: %s: a has %d points and b has %d; the unbiased estimate needs ≥ 2 in each", fn, n, m)
	}
	kaa := kernelSum(a, a, n, n, d, gamma, true)
	kbb := kernelSum(b, b, m, m, d, gamma, true)
	kab := kernelSum(a, b, n, m, d, gamma, false)
	out := make([]float64, len(gamma))
	nf, mf := float64(n), float64(m)
	for k := range out {
		if unbiased {
			// Remove the diagonal, where k(x, x) = 1.
			out[k] = (kaa[k]-nf)/(nf*(nf-1)) + (kbb[k]-mf)/(mf*(mf-1)) - 2*kab[k]/(nf*mf)
		} else {
			// A squared RKHS norm: clamp the rounding noise below zero.
			out[k] = max(0, kaa[k]/(nf*nf)+kbb[k]/(mf*mf)-2*kab[k]/(nf*mf))
		}
	}
	return out, nil
}

// kernelSum returns Σ_{i,j} exp(−gamma[k]·|p_i − q_j|²) for each k. When
// same is set, p and q are the same set and the symmetric half is summed
// twice, plus the diagonal.
func kernelSum(p, q []float32, n, m, d int, gamma []float64, same bool) []float64 {
	sums := make([]float64, len(gamma))
	row := make([]float64, m)
	for i := 0; i < n; i++ {
		j0 := 0
		if same {
			j0 = i + 1
		}
		pi := p[i*d : (i+1)*d]
		for j := j0; j < m; j++ {
			qj := q[j*d : (j+1)*d]
			var s float64
			for c, x := range pi {
				t := float64(x) - float64(qj[c])
				s += t * t
			}
			row[j] = s
		}
		for k, g := range gamma {
			var acc float64
			for _, s := range row[j0:m] {
				// exp(−36) ≈ 2e-16: such terms cannot move a sum whose
				// normalised value is compared with 1, so skip the exp.
				if e := g * s; e < 36 {
					acc += math.Exp(-e)
				}
			}
			sums[k] += acc
		}
	}
	if same {
		for k := range sums {
			sums[k] = 2*sums[k] + float64(n)
		}
	}
	return sums
}
