package metrics

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// gaussianMoments are exact moments (not sampled) of a Gaussian with a diagonal
// covariance, for the closed forms.
func gaussianMoments(mean, variance []float64) Moments {
	d := len(mean)
	m := Moments{N: 2, Mean: mean, Cov: make([]float64, d*d)}
	for j, v := range variance {
		m.Cov[j*d+j] = v
	}
	return m
}

// TestFrechetClosedForms: for diagonal covariances the distance is
// |μa − μb|² + Σ (σa − σb)²; in 1-D (μa − μb)² + (σa − σb)².
func TestFrechetClosedForms(t *testing.T) {
	for _, tc := range []struct {
		name           string
		ma, va, mb, vb []float64
	}{
		{"1-D", []float64{1}, []float64{4}, []float64{-2}, []float64{0.25}},
		{"diagonal", []float64{0, 1, 2}, []float64{1, 2, 3}, []float64{1, 1, 0}, []float64{4, 0.5, 3}},
		{"same", []float64{3, -1}, []float64{2, 5}, []float64{3, -1}, []float64{2, 5}},
		{"degenerate", []float64{0, 0}, []float64{0, 1}, []float64{0, 0}, []float64{1, 0}},
	} {
		want := 0.0
		for j := range tc.ma {
			want += (tc.ma[j]-tc.mb[j])*(tc.ma[j]-tc.mb[j]) + math.Pow(math.Sqrt(tc.va[j])-math.Sqrt(tc.vb[j]), 2)
		}
		got, err := FrechetDistance(gaussianMoments(tc.ma, tc.va), gaussianMoments(tc.mb, tc.vb))
		if err != nil || math.Abs(got-want) > 1e-9*(1+want) {
			t.Errorf("%s: %v (err %v), want %v", tc.name, got, err, want)
		}
	}
}

// TestFrechetRotated: a full covariance, the diagonal case rotated by the same
// orthogonal matrix on both sides, gives the same distance (it is rotation-invariant),
// and the distance is symmetric.
func TestFrechetRotated(t *testing.T) {
	c, s := math.Cos(0.7), math.Sin(0.7)
	rot := func(v [2]float64) []float64 { // R diag(v) Rᵀ
		return []float64{c*c*v[0] + s*s*v[1], c * s * (v[0] - v[1]), c * s * (v[0] - v[1]), s*s*v[0] + c*c*v[1]}
	}
	a := Moments{N: 2, Mean: []float64{0, 0}, Cov: rot([2]float64{4, 1})}
	b := Moments{N: 2, Mean: []float64{0, 0}, Cov: rot([2]float64{1, 9})}
	want := math.Pow(2-1, 2) + math.Pow(1-3, 2)
	ab, err1 := FrechetDistance(a, b)
	ba, err2 := FrechetDistance(b, a)
	if err1 != nil || err2 != nil || math.Abs(ab-want) > 1e-9 || math.Abs(ba-want) > 1e-9 {
		t.Fatalf("FD %v and %v (errors %v, %v), want %v", ab, ba, err1, err2, want)
	}
}

// TestFrechetSamples: equal sets give 0; the moments of samples match NumPy's
// conventions (unbiased covariance); two large samples of known Gaussians come within
// sampling error of the closed form.
func TestFrechetSamples(t *testing.T) {
	x := []float32{1, 2, 3, 5, 4, 4}
	m, err := NewMoments(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	// np.cov([[1,3,4],[2,5,4]]) = [[2.3333, 1.8333], [1.8333, 2.3333]]
	want := []float64{7.0 / 3, 11.0 / 6, 11.0 / 6, 7.0 / 3}
	for i, w := range want {
		if math.Abs(m.Cov[i]-w) > 1e-12 {
			t.Fatalf("cov %v, want %v", m.Cov, want)
		}
	}
	if fd, err := Frechet(x, x, 2); err != nil || fd > 1e-12 {
		t.Fatalf("equal sets: %v, %v", fd, err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	n, d := 200000, 3
	a, b := make([]float32, n*d), make([]float32, n*d)
	for i := range n {
		for j := range d {
			a[i*d+j] = float32(rng.NormFloat64())
			b[i*d+j] = float32(1 + 2*rng.NormFloat64())
		}
	}
	fd, err := Frechet(a, b, d)
	if wantFD := 3.0 * (1 + 1); err != nil || math.Abs(fd-wantFD) > 0.05 {
		t.Fatalf("N(0, I) vs N(1, 4I) in 3-D: %v (err %v), want %v ± 0.05", fd, err, wantFD)
	}
}

func TestFrechetBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b []float32
		d    int
		want string
	}{
		{"one point", []float32{1, 2}, []float32{1, 2, 3, 4}, 2, "at least 2"},
		{"ragged", []float32{1, 2, 3}, []float32{1, 2, 3, 4}, 2, "multiple"},
		{"NaN", []float32{1, float32(math.NaN()), 3, 4}, []float32{1, 2, 3, 4}, 2, "NaN"},
		{"empty", nil, []float32{1, 2, 3, 4}, 2, "no points"},
	} {
		_, err := Frechet(tc.a, tc.b, tc.d)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %q", tc.name, err, tc.want)
		}
	}
	if _, err := FrechetDistance(Moments{Mean: []float64{1}, Cov: []float64{1}}, Moments{Mean: []float64{1, 2}, Cov: make([]float64, 4)}); err == nil {
		t.Error("dimensions 1 and 2: no error")
	}
}
