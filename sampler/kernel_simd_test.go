//go:build goexperiment.simd && go1.27 && wasm && !purego

package sampler

import (
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

func init() {
	// The SIMD kernel does gemmGo's float32 operations in gemmGo's order (see
	// kernel_simd.go): it shares the Go kernel's pinned hashes.
	bitIdentHashes["simd"] = bitIdentHashes["go"]
}

// gemmScalarWasm is kernel_wasm.go's gemmImpl, the scalar wasm kernel.
func gemmScalarWasm(dst, a []float32, ly *packedLayer, bias []float32, groups, aStride, dstStride, epi int, aux []float32) {
	e := epi
	if e != epiReLU {
		e = epiNone
	}
	gemmWasm(&dst[0], &a[0], &ly.w[0], &bias[0], groups, ly.kp, ly.np/panelCols, aStride, dstStride, e)
	n := ly.np * groupRows
	for g := 0; g < groups; g++ {
		o := g * dstStride
		switch epi {
		case epiSiLU:
			siluWasm(&dst[o], n)
		case epiSiLUDeriv:
			siluDerivWasm(&dst[o], &aux[o], n)
		case epiMul:
			mulWasm(&dst[o], &aux[o], n)
		}
	}
}

// TestSIMDKernelBitIdentical checks the SIMD kernel against gemmGo and the scalar wasm
// kernel, bit for bit, for every epilogue, odd shapes, wide strides, inputs large
// enough for SiLU's clamps, and aux on either side of dst.
func TestSIMDKernelBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sh := range [][2]int{{4, 3}, {2, 64}, {64, 64}, {37, 19}, {5, 130}, {24, 256}, {256, 8}} {
		out, in := sh[0], sh[1]
		ly := randomLayer(rng, out, in)
		groups := 3
		aStride, dstStride := ly.kp*groupRows+8, ly.np*groupRows+groupRows
		a := make([]float32, groups*aStride+groupRows)
		for i := range a {
			a[i] = float32(rng.NormFloat64() * 3)
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
			newAux := func() []float32 {
				if epi == epiMul {
					return slices.Clone(mulBy)
				}
				return make([]float32, n)
			}
			want, wantAux := make([]float32, n), newAux()
			gemmGo(want, a, &ly, ly.b, groups, aStride, dstStride, epi, wantAux)
			got, gotAux := make([]float32, n), newAux()
			gemmScalarWasm(got, a, &ly, ly.b, groups, aStride, dstStride, epi, gotAux)
			compareBits(t, "scalar wasm", out, in, epi, want, got, wantAux, gotAux)
			for _, auxFirst := range []bool{false, true} {
				buf := make([]float32, 2*n)
				got, gotAux := buf[:n], buf[n:]
				if auxFirst {
					gotAux, got = buf[:n], buf[n:]
				}
				copy(gotAux, newAux())
				gemm(got, a, &ly, ly.b, groups, aStride, dstStride, epi, gotAux)
				compareBits(t, "simd", out, in, epi, want, got, wantAux, gotAux)
			}
		}
	}
}

func compareBits(t *testing.T, name string, out, in, epi int, want, got, wantAux, gotAux []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) || math.Float32bits(wantAux[i]) != math.Float32bits(gotAux[i]) {
			t.Fatalf("%s %dx%d epi %d: [%d] = %v %v, gemmGo %v %v", name, out, in, epi, i, got[i], gotAux[i], want[i], wantAux[i])
		}
	}
}

// TestSIMDSiLUBitIdentical runs every 997th float32 in [−100, 100], infinities, zeros,
// huge values and NaN through a layer that passes its input on (z·1 + 0) with the SiLU
// epilogues, against gemmGo (fastexp.SiLU and fastexp.SiLUDeriv).
func TestSIMDSiLUBitIdentical(t *testing.T) {
	zs := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), 1e30, -1e30, float32(math.NaN())}
	for b := uint32(0); b <= math.Float32bits(100); b += 997 {
		zs = append(zs, math.Float32frombits(b), -math.Float32frombits(b))
	}
	ly := packLayer([]float32{1}, []float32{0}, 1, 1)
	groups := (len(zs) + groupRows - 1) / groupRows
	a := make([]float32, groups*ly.kp*groupRows+groupRows)
	for i, z := range zs {
		a[(i/groupRows)*ly.kp*groupRows+i%groupRows] = z
	}
	n := groups * ly.np * groupRows
	for _, epi := range []int{epiSiLU, epiSiLUDeriv} {
		want, wantD, got, gotD := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		gemmGo(want, a, &ly, ly.b, groups, ly.kp*groupRows, ly.np*groupRows, epi, wantD)
		gemm(got, a, &ly, ly.b, groups, ly.kp*groupRows, ly.np*groupRows, epi, gotD)
		for i := range want {
			for _, c := range [][2]float32{{want[i], got[i]}, {wantD[i], gotD[i]}} {
				if math.IsNaN(float64(c[0])) && math.IsNaN(float64(c[1])) {
					continue // NaN payloads may differ
				}
				if math.Float32bits(c[0]) != math.Float32bits(c[1]) {
					t.Fatalf("epi %d: [%d] = %v %v, gemmGo %v %v", epi, i, got[i], gotD[i], want[i], wantD[i])
				}
			}
		}
	}
}

// TestSIMDKernelTable (FLOWMATCH_SIMD_ROUNDS=n) times one layer over one block with the
// SIMD and the scalar wasm kernels, interleaved over n rounds after a warm-up round,
// and logs each one's best round: on a shared machine the best of several interleaved
// rounds is steadier than one long run.
func TestSIMDKernelTable(t *testing.T) {
	rounds, _ := strconv.Atoi(os.Getenv("FLOWMATCH_SIMD_ROUNDS"))
	if rounds == 0 {
		t.Skip("FLOWMATCH_SIMD_ROUNDS not set")
	}
	kernels := []struct {
		name string
		f    func(dst, a []float32, ly *packedLayer, bias []float32, groups, aStride, dstStride, epi int, aux []float32)
	}{{"simd", gemmImpl}, {"wasm", gemmScalarWasm}}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, h := range []int{64, 256} {
		ly := randomLayer(rng, h, h)
		a := make([]float32, groupsPerBlock*ly.kp*groupRows+groupRows)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		dst := make([]float32, groupsPerBlock*ly.np*groupRows)
		flops := float64(2 * h * h * blockRows)
		reps := 1 + 2e8/int(flops)
		for _, epi := range []int{epiNone, epiSiLU} {
			best := make([]time.Duration, len(kernels))
			for r := -1; r < rounds; r++ {
				for i, k := range kernels {
					t0 := time.Now()
					for range reps {
						k.f(dst, a, &ly, ly.b, groupsPerBlock, ly.kp*groupRows, ly.np*groupRows, epi, nil)
					}
					if d := time.Since(t0); r >= 0 && (best[i] == 0 || d < best[i]) {
						best[i] = d
					}
				}
			}
			for i, k := range kernels {
				s := best[i].Seconds() / float64(reps)
				t.Logf("H=%d epi=%d %-4s %6.2f GFLOP/s", h, epi, k.name, flops/s/1e9)
			}
		}
	}
}
