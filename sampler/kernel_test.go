package sampler

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/flowmatch/flowmatch/internal/fastexp"
)

// gemmRef is the kernels' contract in float64, straight from the layout's definition.
// For epiSiLUDeriv it writes the derivatives into aux; for epiMul it reads aux.
func gemmRef(dst, a []float32, ly *packedLayer, bias []float32, groups, aStride, dstStride, epi int, aux []float32) {
	for g := 0; g < groups; g++ {
		for o := 0; o < ly.np; o++ {
			j, c := o/panelCols, o%panelCols
			for r := 0; r < groupRows; r++ {
				z := float64(bias[o])
				for k := 0; k < ly.kp; k++ {
					z += float64(a[g*aStride+k*groupRows+r]) * float64(ly.w[j*ly.kp*panelCols+k*panelCols+c])
				}
				i := g*dstStride + o*groupRows + r
				switch epi {
				case epiSiLU:
					z = z / (1 + math.Exp(-z))
				case epiReLU:
					z = math.Max(z, 0)
				case epiSiLUDeriv:
					s := 1 / (1 + math.Exp(-z))
					aux[i] = float32(s + z*s*(1-s))
					z *= s
				case epiMul:
					z *= float64(aux[i])
				}
				dst[i] = float32(z)
			}
		}
	}
}

func randomLayer(rng *rand.Rand, out, in int) packedLayer {
	w, b := make([]float32, out*in), make([]float32, out)
	for i := range w {
		w[i] = float32(rng.NormFloat64() / math.Sqrt(float64(in)))
	}
	for i := range b {
		b[i] = float32(rng.NormFloat64())
	}
	return packLayer(w, b, out, in)
}

// TestGemmKernels checks the kernel this build runs, and the pure-Go one, against the
// float64 definition, for odd shapes, strides wider than needed, every epilogue, and
// inputs large enough to reach SiLU's clamped range.
func TestGemmKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	kernels := []struct {
		name string
		f    func(dst, a []float32, ly *packedLayer, bias []float32, groups, aStride, dstStride, epi int, aux []float32)
	}{{"go", gemmGo}, {kernelName, gemmImpl}}
	for _, sh := range [][2]int{{4, 3}, {2, 64}, {64, 64}, {37, 19}, {256, 256}, {5, 130}} {
		out, in := sh[0], sh[1]
		ly := randomLayer(rng, out, in)
		for _, groups := range []int{1, 3} {
			aStride, dstStride := ly.kp*groupRows+8, ly.np*groupRows+groupRows
			a := make([]float32, groups*aStride+groupRows)
			for i := range a {
				a[i] = float32(rng.NormFloat64() * 3)
			}
			for i := 0; i < groupRows; i++ { // some huge values for the clamps
				a[rng.IntN(len(a))] = float32(rng.NormFloat64() * 1e3)
			}
			mulBy := make([]float32, groups*dstStride)
			for i := range mulBy {
				mulBy[i] = float32(rng.NormFloat64())
			}
			for epi := epiNone; epi <= epiMul; epi++ {
				newAux := func() []float32 {
					if epi == epiMul {
						return append([]float32(nil), mulBy...)
					}
					return make([]float32, groups*dstStride)
				}
				want, wantAux := make([]float32, groups*dstStride), newAux()
				gemmRef(want, a, &ly, ly.b, groups, aStride, dstStride, epi, wantAux)
				if kernelName == "wasm" {
					// The wasm kernel does the same float32 operations in the same order
					// as gemmGo: the results must be identical.
					g1, g2, x1, x2 := make([]float32, len(want)), make([]float32, len(want)), newAux(), newAux()
					gemmGo(g1, a, &ly, ly.b, groups, aStride, dstStride, epi, x1)
					gemmImpl(g2, a, &ly, ly.b, groups, aStride, dstStride, epi, x2)
					for i := range g1 {
						if math.Float32bits(g1[i]) != math.Float32bits(g2[i]) || math.Float32bits(x1[i]) != math.Float32bits(x2[i]) {
							t.Fatalf("wasm %dx%d epi %d: [%d] = %v %v, gemmGo %v %v", out, in, epi, i, g2[i], x2[i], g1[i], x1[i])
						}
					}
				}
				for _, k := range kernels {
					got, gotAux := make([]float32, groups*dstStride), newAux()
					k.f(got, a, &ly, ly.b, groups, aStride, dstStride, epi, gotAux)
					for g := 0; g < groups; g++ {
						for i := 0; i < ly.np*groupRows; i++ {
							// |error| ≤ 1e-5·Σ|a·w| bounds float32 summation error.
							scale := float32(0)
							o, r := i/groupRows, i%groupRows
							for kk := 0; kk < ly.kp; kk++ {
								scale += abs32(a[g*aStride+kk*groupRows+r] * ly.w[(o/panelCols)*ly.kp*panelCols+kk*panelCols+o%panelCols])
							}
							tol := 1e-5 * (1 + scale + abs32(ly.b[o]))
							at := g*dstStride + i
							if epi == epiMul {
								tol *= 1 + abs32(mulBy[at])
							}
							if w, v := want[at], got[at]; !(abs32(v-w) <= tol) {
								t.Fatalf("%s %dx%d groups %d epi %d: [%d][%d] = %v, want %v", k.name, out, in, groups, epi, g, i, v, w)
							}
							if w, v := wantAux[at], gotAux[at]; epi == epiSiLUDeriv && !(abs32(v-w) <= tol) {
								t.Fatalf("%s %dx%d groups %d: SiLU' [%d][%d] = %v, want %v", k.name, out, in, groups, g, i, v, w)
							}
						}
					}
				}
			}
		}
	}
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// TestSiLUAccuracy measures the fast SiLU and sigmoid against float64 over a dense set
// of float32 inputs: every 97th float32 in [−100, 100] (about 22 million values; every
// 997th under wasm) plus a uniform grid.
func TestSiLUAccuracy(t *testing.T) {
	step := uint32(97)
	if runtime.GOARCH == "wasm" {
		step = 997 // the same Go code as natively, ten times slower: a sparser sweep
	}
	if testing.Short() {
		step = 9973
	}
	worstS, worstSig := 0.0, 0.0
	var atS float32
	check := func(z float32) {
		zd := float64(z)
		want := zd / (1 + math.Exp(-zd))
		got := float64(silu(z))
		const minNormal = 0x1p-126 // below, float32 itself cannot hold a relative error
		if z >= fastexp.Lo {
			if math.Abs(want) < minNormal {
				if math.Abs(got-want) > 0x1p-149 {
					t.Fatalf("silu(%v) = %v, want %v", z, got, want)
				}
			} else {
				if e := math.Abs(got-want) / math.Abs(want); e > worstS {
					worstS, atS = e, z
				}
			}
		} else if math.Abs(got-want) > 1e-35 {
			t.Fatalf("silu(%v) = %v, want %v", z, got, want)
		}
		sw := 1 / (1 + math.Exp(-zd))
		if sw > minNormal {
			if e := math.Abs(float64(sigmoid(z))-sw) / sw; e > worstSig {
				worstSig = e
			}
		}
	}
	for b := uint32(0); b <= math.Float32bits(100); b += step {
		check(math.Float32frombits(b))
		check(-math.Float32frombits(b))
	}
	for i := -200000; i <= 200000; i++ {
		check(float32(i) / 2000)
	}
	ulp := math.Pow(2, -24)
	t.Logf("fast SiLU: max relative error %.3g (%.2f ulp) at z = %v; sigmoid: %.3g (%.2f ulp)",
		worstS, worstS/ulp, atS, worstSig, worstSig/ulp)
	if worstS > 4*ulp*2 || worstSig > 4*ulp*2 {
		t.Errorf("SiLU error %.3g, sigmoid error %.3g: want ≤ 8 ulp (%.3g)", worstS, worstSig, 8*ulp)
	}
	for _, z := range []float32{float32(math.Inf(1)), float32(math.Inf(-1)), 0, -0, 1e30, -1e30} {
		if got := silu(z); math.IsNaN(float64(got)) {
			t.Errorf("silu(%v) is NaN", z)
		}
	}
	if got := silu(float32(math.NaN())); !math.IsNaN(float64(got)) {
		t.Errorf("silu(NaN) = %v", got)
	}
}

// TestKernelSiLUAccuracy runs the SiLU epilogue of this build's kernel (AVX2, wasm or
// Go) over the same dense set as TestSiLUAccuracy, through a layer that passes its
// first input through unchanged (z·1 + 0), and bounds the relative error.
func TestKernelSiLUAccuracy(t *testing.T) {
	w := make([]float32, panelCols*1)
	w[0] = 1 // output 0 = input 0
	ly := packLayer(w, make([]float32, panelCols), panelCols, 1)
	var zs []float32
	step := uint32(997)
	if testing.Short() {
		step = 99991
	}
	for b := uint32(0); b <= math.Float32bits(100); b += step {
		zs = append(zs, math.Float32frombits(b), -math.Float32frombits(b))
	}
	groups := (len(zs) + groupRows - 1) / groupRows
	a := make([]float32, groups*ly.kp*groupRows+groupRows)
	for i, z := range zs {
		a[(i/groupRows)*ly.kp*groupRows+i%groupRows] = z
	}
	dst := make([]float32, groups*ly.np*groupRows)
	gemmImpl(dst, a, &ly, ly.b, groups, ly.kp*groupRows, ly.np*groupRows, epiSiLU, nil)
	worst := 0.0
	for i, z := range zs {
		got := float64(dst[(i/groupRows)*ly.np*groupRows+i%groupRows])
		want := float64(z) / (1 + math.Exp(-float64(z)))
		if z < fastexp.Lo || math.Abs(want) < 0x1p-126 {
			if math.Abs(got-want) > 1e-35 {
				t.Fatalf("%s: silu(%v) = %v, want %v", kernelName, z, got, want)
			}
			continue
		}
		worst = max(worst, math.Abs(got-want)/math.Abs(want))
	}
	t.Logf("%s kernel SiLU: max relative error %.3g (%.2f ulp) over %d values", kernelName, worst, worst/0x1p-24, len(zs))
	if worst > 8*0x1p-24 {
		t.Errorf("%s kernel SiLU: relative error %.3g, want ≤ 8 ulp", kernelName, worst)
	}
}

// BenchmarkGemm times one layer over one block (groupsPerBlock groups), reporting
// GFLOP/s against both wall and CPU time (the latter is steadier on a shared machine).
func BenchmarkGemm(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	kernels := []struct {
		name string
		f    func(dst, a []float32, ly *packedLayer, bias []float32, groups, aStride, dstStride, epi int, aux []float32)
	}{{"go", gemmGo}, {kernelName, gemmImpl}}
	if kernelName == "go" {
		kernels = kernels[:1]
	}
	for _, h := range []int{64, 256} {
		ly := randomLayer(rng, h, h)
		a := make([]float32, groupsPerBlock*ly.kp*groupRows+groupRows)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		dst := make([]float32, groupsPerBlock*ly.np*groupRows)
		for _, k := range kernels {
			for _, epi := range []int{epiNone, epiSiLU} {
				b.Run(fmt.Sprintf("%s/H=%d/epi=%d", k.name, h, epi), func(b *testing.B) {
					c0 := cpuTime()
					for i := 0; i < b.N; i++ {
						k.f(dst, a, &ly, ly.b, groupsPerBlock, ly.kp*groupRows, ly.np*groupRows, epi, nil)
					}
					reportFlops(b, float64(2*h*h*blockRows), cpuTime()-c0)
				})
			}
		}
	}
}

func reportFlops(b *testing.B, flopsPerOp float64, cpu time.Duration) {
	f := flopsPerOp * float64(b.N)
	b.ReportMetric(f/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu > 0 {
		b.ReportMetric(f/cpu.Seconds()/1e9, "GFLOP/cpu-s")
	}
}

func BenchmarkSiLU(b *testing.B) {
	z := make([]float32, 4096)
	for i := range z {
		z[i] = float32(i-2048) / 256
	}
	dst := make([]float32, len(z))
	b.Run("fast", func(b *testing.B) {
		c0 := cpuTime()
		for i := 0; i < b.N; i++ {
			actSiLU.apply(dst, z)
		}
		b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/float64(b.N*len(z)), "cpu-ns/value")
	})
	b.Run("math.Exp", func(b *testing.B) {
		c0 := cpuTime()
		for i := 0; i < b.N; i++ {
			for j, v := range z {
				dst[j] = v / (1 + float32(math.Exp(float64(-v))))
			}
		}
		b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/float64(b.N*len(z)), "cpu-ns/value")
	})
}
