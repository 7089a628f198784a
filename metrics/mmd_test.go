package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naiveMMD is a direct transcription of the definitions, for checking.
func naiveMMD(a, b []float32, d int, h float64, unbiased bool) float64 {
	n, m := len(a)/d, len(b)/d
	k := func(p []float32, i int, q []float32, j int) float64 {
		var s float64
		for c := 0; c < d; c++ {
			t := float64(p[i*d+c]) - float64(q[j*d+c])
			s += t * t
		}
		return math.Exp(-s / (2 * h * h))
	}
	var saa, sbb, sab float64
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if !unbiased || i != j {
				saa += k(a, i, a, j)
			}
		}
	}
	for i := 0; i < m; i++ {
		for j := 0; j < m; j++ {
			if !unbiased || i != j {
				sbb += k(b, i, b, j)
			}
		}
	}
	for i := 0; i < n; i++ {
		for j := 0; j < m; j++ {
			sab += k(a, i, b, j)
		}
	}
	nf, mf := float64(n), float64(m)
	if unbiased {
		return saa/(nf*(nf-1)) + sbb/(mf*(mf-1)) - 2*sab/(nf*mf)
	}
	return saa/(nf*nf) + sbb/(mf*mf) - 2*sab/(nf*mf)
}

func TestMMDNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	hs := []float64{0.3, 1, 4}
	for _, tc := range []struct{ n, m, d int }{{5, 5, 2}, {17, 9, 2}, {12, 30, 3}, {2, 2, 1}} {
		a := gaussCloud(r, tc.n, tc.d, 1)
		b := gaussCloud(r, tc.m, tc.d, 1.3)
		for _, unbiased := range []bool{false, true} {
			fn := MMD
			if unbiased {
				fn = MMDUnbiased
			}
			got, err := fn(a, b, tc.d, hs)
			if err != nil {
				t.Fatal(err)
			}
			for k, h := range hs {
				want := naiveMMD(a, b, tc.d, h, unbiased)
				if math.Abs(got[k]-want) > 1e-12 {
					t.Errorf("n=%d m=%d d=%d h=%v unbiased=%v: %v, naive %v", tc.n, tc.m, tc.d, h, unbiased, got[k], want)
				}
			}
		}
	}
}

func TestMMDIdentical(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	a := gaussCloud(r, 300, 2, 1)
	got, err := MMD(a, a, 2, DefaultBandwidths())
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range got {
		if math.Abs(v) > 1e-12 {
			t.Errorf("biased MMD²(a, a) at h=%v is %v, want 0", DefaultBandwidths()[k], v)
		}
	}
	// Different sets: strictly positive for the biased estimate.
	b := gaussCloud(r, 300, 2, 1)
	for k := range b {
		b[k] += 1
	}
	got, _ = MMD(a, b, 2, DefaultBandwidths())
	for k, v := range got {
		if !(v > 0) {
			t.Errorf("MMD² of shifted sets at h=%v is %v, want > 0", DefaultBandwidths()[k], v)
		}
	}
}

// TestMMDGaussians compares with the closed form for two isotropic
// Gaussians N(μa, σ²I) and N(μb, σ²I) in d dimensions:
//
//	E k(x, y) = (h²/(h²+2σ²))^{d/2} exp(−|μa−μb|² / (2(h²+2σ²)))
//	MMD²      = 2 (h²/(h²+2σ²))^{d/2} (1 − exp(−|μa−μb|² / (2(h²+2σ²)))).
func TestMMDGaussians(t *testing.T) {
	const n, d, sigma = 1200, 2, 1.0
	shift := []float64{1, 0}
	hs := []float64{0.5, 1, 2}
	r := rand.New(rand.NewPCG(25, 26))
	a := gaussCloud(r, n, d, sigma)
	b := gaussCloud(r, n, d, sigma)
	var dist2 float64
	for i := 0; i < n; i++ {
		for k := 0; k < d; k++ {
			b[i*d+k] += float32(shift[k])
		}
	}
	for _, s := range shift {
		dist2 += s * s
	}
	got, err := MMDUnbiased(a, b, d, hs)
	if err != nil {
		t.Fatal(err)
	}
	for k, h := range hs {
		s := h*h + 2*sigma*sigma
		want := 2 * math.Pow(h*h/s, d/2.0) * (1 - math.Exp(-dist2/(2*s)))
		t.Logf("h=%v: MMD²_u = %.5f, closed form %.5f", h, got[k], want)
		// The unbiased estimate's standard error at n = 1,200 is about five
		// thousandths here; allow 0.01 plus 10 %.
		if math.Abs(got[k]-want) > 0.01+0.1*want {
			t.Errorf("h=%v: MMD²_u = %.5f, closed form %.5f", h, got[k], want)
		}
	}
}

func TestMMDErrors(t *testing.T) {
	a := []float32{0, 0, 1, 1}
	tests := []struct {
		name string
		fn   func(a, b []float32, d int, hs []float64) ([]float64, error)
		a, b []float32
		d    int
		hs   []float64
	}{
		{"ragged", MMD, a, []float32{1, 2, 3}, 2, []float64{1}},
		{"empty", MMD, a, nil, 2, []float64{1}},
		{"no bandwidths", MMD, a, a, 2, nil},
		{"zero bandwidth", MMD, a, a, 2, []float64{1, 0}},
		{"negative bandwidth", MMD, a, a, 2, []float64{-1}},
		{"NaN bandwidth", MMD, a, a, 2, []float64{math.NaN()}},
		{"Inf bandwidth", MMD, a, a, 2, []float64{math.Inf(1)}},
		{"NaN point", MMD, a, []float32{0, float32(math.NaN())}, 2, []float64{1}},
		{"d=0", MMD, a, a, 0, []float64{1}},
		{"unbiased one point", MMDUnbiased, a, []float32{0, 0}, 2, []float64{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := tt.fn(tt.a, tt.b, tt.d, tt.hs); err == nil {
				t.Errorf("got %v with no error", got)
			}
		})
	}
}

func BenchmarkMMD2000(b *testing.B) {
	r := rand.New(rand.NewPCG(27, 28))
	p := gaussCloud(r, 2000, 2, 1)
	q := gaussCloud(r, 2000, 2, 1)
	hs := DefaultBandwidths()
	b.ResetTimer()
	for b.Loop() {
		if _, err := MMD(p, q, 2, hs); err != nil {
			b.Fatal(err)
		}
	}
}
