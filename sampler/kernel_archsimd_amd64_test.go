//go:build goexperiment.simd && go1.27 && !purego

package sampler

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"simd/archsimd"
	"slices"
	"strconv"
	"testing"
	"time"
	"unsafe"
)

func init() {
	// The Go SIMD kernels do kernel_amd64.s's operations in its order (see
	// kernel_archsimd_amd64.go): they share its pinned hashes.
	bitIdentHashes["avx2-simd"] = bitIdentHashes["avx2"]
	bitIdentHashes["avx512-simd"] = bitIdentHashes["avx2"]
}

type gemmFunc = func(dst, a []float32, ly *packedLayer, bias []float32, groups, aStride, dstStride, epi int, aux []float32)

// gemmAsm is kernel_asm_amd64.go's gemmImpl on a CPU with AVX2: the assembly kernel.
func gemmAsm(dst, a []float32, ly *packedLayer, bias []float32, groups, aStride, dstStride, epi int, aux []float32) {
	var auxOff uintptr
	if epi == epiSiLUDeriv || epi == epiMul {
		auxOff = uintptr(unsafe.Pointer(unsafe.SliceData(aux))) - uintptr(unsafe.Pointer(unsafe.SliceData(dst)))
	}
	gemmAVX2(unsafe.SliceData(dst), unsafe.SliceData(a), unsafe.SliceData(ly.w), unsafe.SliceData(bias),
		groups, ly.kp, ly.np/panelCols, aStride, dstStride, epi, auxOff)
	runtime.KeepAlive(aux)
}

// x86Peers are the kernels TestX86KernelBitIdentical compares, each with the one it
// must match bit for bit; those this CPU cannot run are left out.
func x86Peers(t *testing.T) (peers []struct {
	name      string
	f, wantOf gemmFunc
}) {
	if !useAVX2 {
		t.Skip("no AVX2 and FMA: neither the assembly nor the Go SIMD kernels run here")
	}
	peers = append(peers, struct {
		name      string
		f, wantOf gemmFunc
	}{"avx2-simd", gemmX8, gemmAsm})
	if archsimd.X86.AVX512() {
		peers = append(peers, struct {
			name      string
			f, wantOf gemmFunc
		}{"avx512-simd", gemmX16, gemmX8})
	} else {
		t.Log("no AVX-512 here: gemmX16 not run")
	}
	return peers
}

// TestX86KernelBitIdentical checks gemmX8 against the assembly kernel, and gemmX16
// against gemmX8 where AVX-512 is present, bit for bit, for every epilogue, odd
// shapes, wide strides, inputs large enough for SiLU's clamps, and aux on either side
// of dst.
func TestX86KernelBitIdentical(t *testing.T) {
	peers := x86Peers(t)
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
		for _, p := range peers {
			for epi := epiNone; epi <= epiMul; epi++ {
				newAux := func() []float32 {
					if epi == epiMul {
						return slices.Clone(mulBy)
					}
					return make([]float32, n)
				}
				want, wantAux := make([]float32, n), newAux()
				p.wantOf(want, a, &ly, ly.b, groups, aStride, dstStride, epi, wantAux)
				for _, auxFirst := range []bool{false, true} {
					buf := make([]float32, 2*n)
					got, gotAux := buf[:n], buf[n:]
					if auxFirst {
						gotAux, got = buf[:n], buf[n:]
					}
					copy(gotAux, newAux())
					gemmCheck(got, a, &ly, ly.b, groups, aStride, dstStride, epi, gotAux)
					p.f(got, a, &ly, ly.b, groups, aStride, dstStride, epi, gotAux)
					compareX86Bits(t, p.name, out, in, epi, want, got, wantAux, gotAux)
				}
			}
		}
	}
}

// TestX86SpecialValues runs every 997th float32 in [−100, 100], infinities, zeros,
// huge values and NaN through a layer that passes its input on (z·1 + 0) with each
// epilogue, against the kernel the Go SIMD one replaces, NaN payloads included.
func TestX86SpecialValues(t *testing.T) {
	peers := x86Peers(t)
	zs := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), 1e30, -1e30,
		float32(math.NaN()), -float32(math.NaN()), 87, -87, 88, -88, 89, -89}
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
	for _, p := range peers {
		for epi := epiNone; epi <= epiMul; epi++ {
			want, wantD, got, gotD := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range wantD {
				wantD[i] = float32(i%5) - 2
			}
			copy(gotD, wantD)
			p.wantOf(want, a, &ly, ly.b, groups, ly.kp*groupRows, ly.np*groupRows, epi, wantD)
			p.f(got, a, &ly, ly.b, groups, ly.kp*groupRows, ly.np*groupRows, epi, gotD)
			compareX86Bits(t, p.name, 1, 1, epi, want, got, wantD, gotD)
		}
	}
}

// TestX86KernelDispatch checks which Go SIMD kernel each set of CPU features gets, and
// that this process runs the kernel its CPU and build call for (archsimd's feature test
// agreeing with kernel_amd64.go's CPUID one).
func TestX86KernelDispatch(t *testing.T) {
	for _, c := range []struct {
		avx2, fma, avx512 bool
		want              string
	}{
		{false, false, false, "go"},
		{true, false, false, "go"}, // AVX2 without FMA: the kernels fuse multiply-adds
		{false, true, false, "go"},
		{true, true, false, "avx2-simd"},
		{true, true, true, "avx512-simd"},
	} {
		if got := x86Names[x86Kernel(c.avx2, c.fma, c.avx512)]; got != c.want {
			t.Errorf("AVX2 %v, FMA %v, AVX-512 %v: kernel %q, want %q", c.avx2, c.fma, c.avx512, got, c.want)
		}
	}
	if got := archsimd.X86.AVX2() && archsimd.X86.FMA(); got != useAVX2 {
		t.Errorf("archsimd says AVX2 and FMA %v, CPUID %v", got, useAVX2)
	}
	want := asmKernelName(useAVX2, useAVX512) // kernel_asm_amd64.go
	if gosimdTag {
		want = x86Names[x86Kernel(useAVX2, useAVX2, archsimd.X86.AVX512())]
	}
	if kernelName != want || KernelName() != want {
		t.Errorf("kernel %q, want %q on this CPU (build tag gosimd %v)", kernelName, want, gosimdTag)
	}
	if archsimd.X86.AVX512() != useAVX512 {
		t.Errorf("archsimd says AVX-512 %v, CPUID %v", archsimd.X86.AVX512(), useAVX512)
	}
	t.Logf("this CPU: AVX2+FMA %v, AVX-512 %v: kernel %s", useAVX2, archsimd.X86.AVX512(), kernelName)
}

// TestX86KernelTable (FLOWMATCH_SIMD_ROUNDS=n) times one layer over one block with the
// assembly and the Go SIMD kernels, interleaved over n rounds after a warm-up round,
// and logs each one's best round and the ratio: on a shared machine the best of
// several interleaved rounds is steadier than one long run.
func TestX86KernelTable(t *testing.T) {
	rounds, _ := strconv.Atoi(os.Getenv("FLOWMATCH_SIMD_ROUNDS"))
	if rounds == 0 {
		t.Skip("FLOWMATCH_SIMD_ROUNDS not set")
	}
	peers := x86Peers(t)
	kernels := []struct {
		name string
		f    gemmFunc
	}{{"asm", gemmAsm}}
	for _, p := range peers {
		kernels = append(kernels, struct {
			name string
			f    gemmFunc
		}{p.name, p.f})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, h := range []int{64, 256} {
		ly := randomLayer(rng, h, h)
		a := make([]float32, groupsPerBlock*ly.kp*groupRows+groupRows)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		dst, aux := make([]float32, groupsPerBlock*ly.np*groupRows), make([]float32, groupsPerBlock*ly.np*groupRows)
		flops := float64(2 * h * h * blockRows)
		reps := 1 + 2e8/int(flops)
		for _, epi := range []int{epiNone, epiSiLU, epiSiLUDeriv} {
			best := make([]time.Duration, len(kernels))
			for r := -1; r < rounds; r++ {
				for i, k := range kernels {
					t0 := time.Now()
					for range reps {
						k.f(dst, a, &ly, ly.b, groupsPerBlock, ly.kp*groupRows, ly.np*groupRows, epi, aux)
					}
					if d := time.Since(t0); r >= 0 && (best[i] == 0 || d < best[i]) {
						best[i] = d
					}
				}
			}
			for i, k := range kernels {
				s := best[i].Seconds() / float64(reps)
				t.Logf("H=%d epi=%d %-11s %6.2f GFLOP/s  %.3f× asm", h, epi, k.name, flops/s/1e9,
					best[0].Seconds()/best[i].Seconds())
			}
		}
	}
}

// compareX86Bits fails t at the first value, or aux value, whose bits (NaN payloads
// included) differ from want's.
func compareX86Bits(t *testing.T, name string, out, in, epi int, want, got, wantAux, gotAux []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) || math.Float32bits(wantAux[i]) != math.Float32bits(gotAux[i]) {
			t.Fatalf("%s %dx%d epi %d: [%d] = %v %v, want %v %v", name, out, in, epi, i, got[i], gotAux[i], want[i], wantAux[i])
		}
	}
}

// BenchmarkX86Kernels times one layer over one block with the assembly and the Go SIMD
// kernels (GFLOP/s against wall and CPU time).
func BenchmarkX86Kernels(b *testing.B) {
	if !useAVX2 {
		b.Skip("no AVX2 and FMA")
	}
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
			f    gemmFunc
		}{{"asm", gemmAsm}, {"avx2-simd", gemmX8}} {
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

// goSIMDKernel is the Go SIMD kernel TestGoSIMDKernelFMA checks.
func goSIMDKernel(t *testing.T) (gemmFunc, string) {
	if !useAVX2 {
		t.Skip("no AVX2 and FMA")
	}
	return gemmX8, "avx2-simd"
}
