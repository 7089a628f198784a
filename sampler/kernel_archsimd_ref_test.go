//go:build goexperiment.simd && go1.27 && !purego && (amd64 || arm64)

package sampler

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/flowmatch/flowmatch/internal/fastexp"
)

// fma32 is x·y + z rounded once to float32, as FMA instructions compute it (x·y is exact
// in float64; the sum is rounded to float64 and then to float32, which could differ
// from one rounding only at a float32 halfway point, never met by this test's values).
func fma32(x, y, z float32) float32 { return float32(math.FMA(float64(x), float64(y), float64(z))) }

// expFMA is e^(−z) as the Go SIMD kernels compute it (exp8, exp4), one value at a time.
func expFMA(z float32) float32 {
	y := -z
	if !(y > fastexp.Lo) {
		y = fastexp.Lo
	}
	if !(y < fastexp.Hi) {
		y = fastexp.Hi
	}
	t := fma32(y, fastexp.Log2E, fastexp.Magic)
	n := t - fastexp.Magic
	r := fma32(-n, fastexp.Ln2Hi, y)
	r = fma32(-n, fastexp.Ln2Lo, r)
	p := fma32(fastexp.C5, r, fastexp.C4)
	for _, c := range []float32{fastexp.C3, fastexp.C2, fastexp.C1, 1, 1} {
		p = fma32(p, r, c)
	}
	return p * math.Float32frombits(math.Float32bits(t)<<23+0x3f800000)
}

// gemmFMA is the Go SIMD kernels' arithmetic, one output at a time, in plain Go: the
// bias plus the products in k order with fused multiply-adds, then the epilogue (the
// explicit float32 conversions keep the compiler from fusing what the kernels do not).
func gemmFMA(dst, a []float32, ly *packedLayer, bias []float32, groups, aStride, dstStride, epi int, aux []float32) {
	for g := 0; g < groups; g++ {
		for o := 0; o < ly.np; o++ {
			j, c := o/panelCols, o%panelCols
			for r := 0; r < groupRows; r++ {
				z := bias[o]
				for k := 0; k < ly.kp; k++ {
					z = fma32(a[g*aStride+k*groupRows+r], ly.w[j*ly.kp*panelCols+k*panelCols+c], z)
				}
				i := g*dstStride + o*groupRows + r
				switch epi {
				case epiSiLU:
					z /= expFMA(z) + 1
				case epiReLU:
					if 0 > z {
						z = 0
					}
				case epiSiLUDeriv:
					e := expFMA(z)
					s := 1 / (e + 1)
					z = z * s
					aux[i] = float32(float32(e*s)*z) + s
				case epiMul:
					z = z * aux[i]
				}
				dst[i] = z
			}
		}
	}
}

// TestGoSIMDKernelFMA checks the Go SIMD kernel of this architecture (gemmX8 on amd64
// with AVX2, gemmNEON on arm64) against gemmFMA bit for bit, NaN payloads aside, for
// every epilogue, odd shapes, wide strides, inputs large enough for SiLU's clamps, and
// special values (zeros, infinities, NaN).
func TestGoSIMDKernelFMA(t *testing.T) {
	kernel, name := goSIMDKernel(t)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, sh := range [][2]int{{4, 3}, {2, 64}, {64, 64}, {37, 19}, {5, 130}} {
		out, in := sh[0], sh[1]
		ly := randomLayer(rng, out, in)
		groups := 3
		aStride, dstStride := ly.kp*groupRows+8, ly.np*groupRows+groupRows
		a := make([]float32, groups*aStride+groupRows)
		for i := range a {
			a[i] = float32(rng.NormFloat64() * 3)
		}
		for i, v := range []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e30, -1e30, 88, -88} {
			a[i*7] = v
		}
		for i := 0; i < groupRows; i++ {
			a[rng.IntN(len(a))] = float32(rng.NormFloat64() * 1e3)
		}
		mulBy := make([]float32, groups*dstStride)
		for i := range mulBy {
			mulBy[i] = float32(rng.NormFloat64())
		}
		n := groups * dstStride
		for epi := epiNone; epi <= epiMul; epi++ {
			want, wantAux, got, gotAux := make([]float32, n), slices.Clone(mulBy), make([]float32, n), slices.Clone(mulBy)
			gemmFMA(want, a, &ly, ly.b, groups, aStride, dstStride, epi, wantAux)
			gemmCheck(got, a, &ly, ly.b, groups, aStride, dstStride, epi, gotAux)
			kernel(got, a, &ly, ly.b, groups, aStride, dstStride, epi, gotAux)
			for i := range want {
				for _, c := range [][2]float32{{want[i], got[i]}, {wantAux[i], gotAux[i]}} {
					if math.IsNaN(float64(c[0])) && math.IsNaN(float64(c[1])) {
						continue
					}
					if math.Float32bits(c[0]) != math.Float32bits(c[1]) {
						t.Fatalf("%s %dx%d epi %d: [%d] = %v %v, want %v %v", name, out, in, epi, i, got[i], gotAux[i], want[i], wantAux[i])
					}
				}
			}
		}
	}
}
