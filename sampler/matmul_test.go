package sampler

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// mulRef is MatMul.Mul's definition in float64, and the SiLU' it writes to aux.
func mulRef(a, b []float32, m, k, n int, o MulOpts) (dst, aux []float64) {
	dst, aux = make([]float64, m*n), make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			if o.Bias != nil {
				s = float64(o.Bias[j])
			}
			for l := 0; l < k; l++ {
				av, bv := a[i*k+l], b[j*k+l]
				if o.TransA {
					av = a[l*m+i]
				}
				if o.NoTransB {
					bv = b[l*n+j]
				}
				s += float64(av) * float64(bv)
			}
			sg := 1 / (1 + math.Exp(-s))
			switch o.Epi {
			case EpiSiLU:
				s *= sg
			case EpiReLU:
				s = math.Max(s, 0)
			case EpiSiLUDeriv:
				aux[i*n+j] = sg + s*sg*(1-sg)
				s *= sg
			case EpiMul:
				s *= float64(o.Aux[i*n+j])
			}
			dst[i*n+j] = s
		}
	}
	return dst, aux
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// TestMatMul checks every option against the float64 definition, on shapes that are
// and are not multiples of the kernels' tiles, with one worker and several, and that a
// warm call allocates nothing.
func TestMatMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := [][3]int{{1, 1, 1}, {5, 3, 7}, {24, 4, 4}, {97, 33, 18}, {300, 65, 9}, {250, 130, 70}, {800, 20, 12}}
	epis := []Epilogue{EpiNone, EpiSiLU, EpiReLU, EpiSiLUDeriv, EpiMul}
	var mm MatMul
	for _, sh := range shapes {
		m, k, n := sh[0], sh[1], sh[2]
		for _, epi := range epis {
			for _, ta := range []bool{false, true} {
				for _, ntb := range []bool{false, true} {
					name := fmt.Sprintf("%dx%dx%d/epi%d/ta=%v/ntb=%v", m, k, n, epi, ta, ntb)
					a, b := randSlice(rng, m*k), randSlice(rng, k*n)
					o := MulOpts{TransA: ta, NoTransB: ntb, Epi: epi}
					if epi != EpiNone || m%2 == 0 {
						o.Bias = randSlice(rng, n)
					}
					if epi == EpiSiLUDeriv || epi == EpiMul {
						o.Aux = randSlice(rng, m*n)
					}
					want, wantAux := mulRef(a, b, m, k, n, o)
					dst := randSlice(rng, m*n)
					mm.Workers = 1 + m%3
					mm.Mul(dst, a, b, m, k, n, o)
					tol := 1e-5 * math.Sqrt(float64(k))
					for i := range want {
						scale := math.Max(1, math.Abs(want[i]))
						if d := math.Abs(float64(dst[i]) - want[i]); d > tol*scale*4 {
							t.Fatalf("%s: dst[%d] = %v, want %v", name, i, dst[i], want[i])
						}
						if epi == EpiSiLUDeriv {
							if d := math.Abs(float64(o.Aux[i]) - wantAux[i]); d > tol*4 {
								t.Fatalf("%s: aux[%d] = %v, want %v", name, i, o.Aux[i], wantAux[i])
							}
						}
					}
				}
			}
		}
	}
	a, b, dst := randSlice(rng, 200*64), randSlice(rng, 64*64), make([]float32, 200*64)
	mm.Workers = 1
	if n := testing.AllocsPerRun(5, func() { mm.Mul(dst, a, b, 200, 64, 64, MulOpts{}) }); n > 0 {
		t.Errorf("a warm Mul allocates %v times", n)
	}
}

// TestMatMulBadShapes checks that a short slice panics before any work.
func TestMatMulBadShapes(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic on a short dst")
		}
	}()
	var mm MatMul
	mm.Mul(make([]float32, 5), make([]float32, 6), make([]float32, 6), 2, 3, 3, MulOpts{})
}
