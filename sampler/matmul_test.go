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

// TestMatMulBlocked checks the blocked products against the row-major ones (the same
// kernel on the same operands: the same bits) and ColSums against float64 sums, with
// pad rows of a product's output holding nonzero values (SiLU of the bias).
func TestMatMulBlocked(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var mm, ref MatMul
	for _, sh := range [][3]int{{1, 1, 1}, {5, 3, 7}, {97, 33, 18}, {250, 64, 70}, {800, 20, 12}} {
		m, k, n := sh[0], sh[1], sh[2]
		x, w, bias := randSlice(rng, m*k), randSlice(rng, n*k), randSlice(rng, n)
		var a, h, d Blocked
		a.Resize(m, k)
		a.Load(x)
		mm.Workers = 1 + m%3
		// Forward: h = SiLU(x·wᵀ + b), d = SiLU'.
		mm.MulBlocked(&h, &a, w, n, BlockedOpts{Bias: bias, Epi: EpiSiLUDeriv, Aux: &d})
		wantH, wantD := make([]float32, m*n), make([]float32, m*n)
		ref.Mul(wantH, x, w, m, k, n, MulOpts{Bias: bias, Epi: EpiSiLUDeriv, Aux: wantD})
		gotH, gotD := make([]float32, m*n), make([]float32, m*n)
		h.Store(gotH)
		d.Store(gotD)
		if !equal32(gotH, wantH) || !equal32(gotD, wantD) {
			t.Fatalf("%v: MulBlocked's forward differs from Mul's", sh)
		}
		// Backward through it: g = (h·w2) ⊙ d, with w2 (n×n) as B.
		w2 := randSlice(rng, n*n)
		var g Blocked
		mm.MulBlocked(&g, &h, w2, n, BlockedOpts{NoTransB: true, Epi: EpiMul, Aux: &d})
		wantG, gotG := make([]float32, m*n), make([]float32, m*n)
		ref.Mul(wantG, wantH, w2, m, n, n, MulOpts{NoTransB: true, Epi: EpiMul, Aux: wantD})
		g.Store(gotG)
		if !equal32(gotG, wantG) {
			t.Fatalf("%v: MulBlocked's backward differs from Mul's", sh)
		}
		// Weight gradient hᵀ·a and bias gradient Σ h.
		gw := make([]float32, n*k)
		mm.MulTN(gw, &h, &a)
		want, _ := mulRef(wantH, x, n, m, k, MulOpts{TransA: true, NoTransB: true})
		for i, v := range want {
			if math.Abs(float64(gw[i])-v) > 1e-5*math.Sqrt(float64(m))*math.Max(1, math.Abs(v)) {
				t.Fatalf("%v: MulTN [%d] = %v, want %v", sh, i, gw[i], v)
			}
		}
		sums := make([]float32, n)
		h.ColSums(sums)
		for j := range sums {
			s := 0.0
			for i := 0; i < m; i++ {
				s += float64(wantH[i*n+j])
			}
			if float32(s) != sums[j] {
				t.Fatalf("%v: ColSums[%d] = %v, want %v", sh, j, sums[j], s)
			}
		}
	}
}

func equal32(a, b []float32) bool {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}
