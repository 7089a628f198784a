package fastexp

import (
	"math"
	"testing"
)

// TestSiLU: SiLU and SiLUDeriv against float64 on a grid over [−100, 100]: the value
// within 4e-7 of max(|z·σ(z)|, 1e-30) relative (a few float32 ulps; tiny below −80), the
// derivative within 1e-6 absolute (it lies in [−0.1, 1.1]); SiLUDeriv's values (z·(1/(1 +
// e^−z)), one rounding more) as close; NaN stays NaN.
func TestSiLU(t *testing.T) {
	const n = 400001
	x, xd, d := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(float64(i-n/2) * 5e-4)
	}
	copy(xd, x)
	SiLU(x)
	SiLUDeriv(xd, d)
	for i := range x {
		z := float64(float32(float64(i-n/2) * 5e-4))
		s := 1 / (1 + math.Exp(-z))
		want, wantD := z*s, s+z*s*(1-s)
		for _, got := range []float32{x[i], xd[i]} {
			if math.Abs(float64(got)-want) > 4e-7*max(math.Abs(want), 1e-30) && !(z < -80 && math.Abs(want) < 1e-32) {
				t.Fatalf("SiLU(%g) = %g (SiLU) and %g (SiLUDeriv), want %g", z, x[i], xd[i], want)
			}
		}
		if got := float64(d[i]); math.Abs(got-wantD) > 1e-6 {
			t.Fatalf("SiLUDeriv's derivative at %g is %g, want %g", z, got, wantD)
		}
	}
	nan := []float32{float32(math.NaN())}
	if SiLU(nan); !math.IsNaN(float64(nan[0])) {
		t.Errorf("SiLU(NaN) = %g", nan[0])
	}
}
