//go:build !purego

package sampler

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"unsafe"
)

func init() {
	// gemmAVX512 does gemmAVX2's operations in its order: it shares its pinned hashes.
	bitIdentHashes["avx512"] = bitIdentHashes["avx2"]
}

// asmGemm calls one of the assembly kernels (gemmAVX2, gemmAVX512) as gemmImpl does.
func asmGemm(kernel func(dst, a, w, bias *float32, groups, kp, panels, aStride, dstStride, epi int, auxOff uintptr),
	dst, a []float32, ly *packedLayer, bias []float32, groups, aStride, dstStride, epi int, aux []float32) {
	gemmCheck(dst, a, ly, bias, groups, aStride, dstStride, epi, aux)
	var auxOff uintptr
	if epi == epiSiLUDeriv || epi == epiMul {
		auxOff = uintptr(unsafe.Pointer(unsafe.SliceData(aux))) - uintptr(unsafe.Pointer(unsafe.SliceData(dst)))
	}
	kernel(unsafe.SliceData(dst), unsafe.SliceData(a), unsafe.SliceData(ly.w), unsafe.SliceData(bias),
		groups, ly.kp, ly.np/panelCols, aStride, dstStride, epi, auxOff)
	runtime.KeepAlive(aux)
}

func needAVX512(t testing.TB) {
	t.Helper()
	if !useAVX512 {
		t.Skip("no AVX-512 F and VL here: gemmAVX512 not run")
	}
}

// TestAVX512BitIdentical checks gemmAVX512 against gemmAVX2 bit for bit (NaN payloads
// included), for every epilogue, panel counts that take the 3-panel tile, the 1-panel
// tile and both, odd widths, wide strides, inputs large enough for SiLU's clamps, aux
// on either side of dst, and special values (infinities, NaN, ±0, the clamps' edges).
func TestAVX512BitIdentical(t *testing.T) {
	needAVX512(t)
	rng := rand.New(rand.NewPCG(5, 6))
	shapes := [][2]int{{4, 3}, {2, 64}, {8, 5}, {12, 8}, {16, 20}, {28, 4}, {64, 64}, {37, 19}, {5, 130}, {24, 256}, {256, 8}, {256, 256}}
	for _, sh := range shapes {
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
		specials := []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), -float32(math.NaN()),
			0, float32(math.Copysign(0, -1)), 87, -87, 88, -88, 89, -89, 1e30, -1e30}
		for i, z := range specials {
			a[i*7%len(a)] = z
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
			asmGemm(gemmAVX2, want, a, &ly, ly.b, groups, aStride, dstStride, epi, wantAux)
			for _, auxFirst := range []bool{false, true} {
				buf := make([]float32, 2*n)
				got, gotAux := buf[:n], buf[n:]
				if auxFirst {
					gotAux, got = buf[:n], buf[n:]
				}
				copy(gotAux, newAux())
				asmGemm(gemmAVX512, got, a, &ly, ly.b, groups, aStride, dstStride, epi, gotAux)
				for i := range want {
					if math.Float32bits(want[i]) != math.Float32bits(got[i]) || math.Float32bits(wantAux[i]) != math.Float32bits(gotAux[i]) {
						t.Fatalf("%dx%d epi %d: [%d] = %v %v, want %v %v", out, in, epi, i, got[i], gotAux[i], want[i], wantAux[i])
					}
				}
			}
		}
	}
}

// TestAsmKernelName: the kernel each set of CPU features gets in a build without the
// tag gosimd.
func TestAsmKernelName(t *testing.T) {
	for _, c := range []struct {
		avx2, avx512 bool
		want         string
	}{{false, false, "go"}, {false, true, "go"}, {true, false, "avx2"}, {true, true, "avx512"}} {
		if got := asmKernelName(c.avx2, c.avx512); got != c.want {
			t.Errorf("AVX2 %v, AVX-512 %v: %q, want %q", c.avx2, c.avx512, got, c.want)
		}
	}
}

// BenchmarkAVX512 times one layer over one block with gemmAVX2 and gemmAVX512
// (GFLOP/s against wall and CPU time).
func BenchmarkAVX512(b *testing.B) {
	needAVX512(b)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, h := range []int{64, 256} {
		ly := randomLayer(rng, h, h)
		a := make([]float32, groupsPerBlock*ly.kp*groupRows+groupRows)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		dst := make([]float32, groupsPerBlock*ly.np*groupRows)
		for _, k := range []struct {
			name string
			f    func(dst, a, w, bias *float32, groups, kp, panels, aStride, dstStride, epi int, auxOff uintptr)
		}{{"avx2", gemmAVX2}, {"avx512", gemmAVX512}} {
			for _, epi := range []int{epiNone, epiSiLU} {
				b.Run(fmt.Sprintf("%s/H=%d/epi=%d", k.name, h, epi), func(b *testing.B) {
					c0 := cpuTime()
					for i := 0; i < b.N; i++ {
						asmGemm(k.f, dst, a, &ly, ly.b, groupsPerBlock, ly.kp*groupRows, ly.np*groupRows, epi, nil)
					}
					reportFlops(b, float64(2*h*h*blockRows), cpuTime()-c0)
				})
			}
		}
	}
}
