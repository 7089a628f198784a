package sampler

import (
	"fmt"
	"math"

	"github.com/flowmatch/flowmatch/internal/fastexp"
)

// The network kernels work on a blocked, batch-major layout. A block of rows is cut into
// groups of groupRows rows; inside a group the values are feature-major, so that the
// groupRows values of one feature sit next to each other:
//
//	buf[g*groupRows*width + k*groupRows + r]  is feature k of row r of group g.
//
// Widths are padded to a multiple of panelCols with features that are always zero. A
// layer's weights are packed into panels of panelCols outputs, each panel k-major:
//
//	w[j*kp*panelCols + k*panelCols + c]  is W[j*panelCols + c][k],
//
// zero for padded inputs and outputs. One kernel call computes a whole layer for a run
// of groups: for each group, for each panel, a groupRows×panelCols tile of outputs in
// registers (a 24×4 tile of 12 AVX2 vectors on amd64, 2×4 scalar sub-tiles elsewhere),
// with the bias added first and the activation applied before the tile is stored.
// Rows never mix: a row's outputs do not depend on the batch it came in, nor on how
// the batch was split between workers.
//
// Which kernel runs (kernelName): on amd64, kernel_amd64.s (AVX2 and FMA, when CPUID and
// the OS say both are usable), or kernel_avx512_amd64.s where AVX-512 F and VL are usable
// too (the same tiles' rows as 16- and 8-wide vectors, three panels at a time, with the
// same bits); under js/wasm, kernel_wasm.s (scalar WebAssembly, written
// by kernel_gen.go), or kernel_simd_wasm.s (WebAssembly SIMD, written by
// kernel_simd_gen.go) when built with Go 1.27 and GOEXPERIMENT=simd; on arm64 with Go
// 1.27 and GOEXPERIMENT=simd, kernel_archsimd_arm64.go (NEON through simd/archsimd);
// on amd64 with those and the build tag gosimd, kernel_archsimd_amd64.go (the assembly's
// operations in simd/archsimd, AVX2 or AVX-512, at about half its speed under Go 1.27.3,
// hence behind a tag); elsewhere, or with the build tag purego, gemmGo. The tests check
// each against a float64 definition and against gemmGo or the assembly.
const (
	groupRows = 24 // rows per group: 3 AVX2 vectors of 8 float32
	panelCols = 4  // outputs per weight panel
	// groupsPerBlock groups make a block, the unit of work of one worker: its
	// activations stay in L1/L2 cache while the block goes through every layer.
	groupsPerBlock = 4
	blockRows      = groupRows * groupsPerBlock
)

// KernelName says which gemm kernel this build runs: "avx2" (kernel_amd64.s), "avx512"
// (kernel_avx512_amd64.s, where the CPU has AVX-512 F and VL), "wasm"
// (kernel_wasm.s, scalar WebAssembly), "simd" (kernel_simd_wasm.s, WebAssembly SIMD,
// in GOEXPERIMENT=simd builds with Go 1.27 or later), "neon-simd" (arm64, the same
// builds), "avx2-simd" or "avx512-simd" (amd64, those builds with the tag gosimd) or
// "go" (gemmGo). The kernels of one architecture give bit-identical results (arm64's
// compiler fuses some of gemmGo's multiply-adds, so its bits are arm64's own); they
// differ only in speed.
func KernelName() string { return kernelName }

// Epilogues the kernels fuse into the tile store. The last two serve forward-mode
// differentiation (JVP, divergence): epiSiLUDeriv also writes SiLU'(z) to aux, and
// epiMul multiplies each output by aux (the derivative of the primal pass), where aux
// has dst's layout.
const (
	epiNone      = iota // bias only
	epiSiLU             // bias, then SiLU
	epiReLU             // bias, then ReLU
	epiSiLUDeriv        // bias, then SiLU; SiLU' into aux
	epiMul              // bias, then times aux
)

func padCols(n int) int { return (n + panelCols - 1) / panelCols * panelCols }

// packedLayer is a Linear layer in the kernels' layout.
type packedLayer struct {
	in, out int       // true sizes
	kp, np  int       // padded to panelCols
	w       []float32 // np/panelCols panels of kp×panelCols
	b       []float32 // np biases, zero padded
	zero    []float32 // np zeros: the bias of the tangent (linear) pass
}

// packLayer packs a [out][in] row-major weight matrix (PyTorch's layout) and its bias.
func packLayer(w, b []float32, out, in int) packedLayer {
	kp, np := padCols(in), padCols(out)
	ly := packedLayer{in: in, out: out, kp: kp, np: np,
		w: make([]float32, kp*np), b: make([]float32, np), zero: make([]float32, np)}
	for o := 0; o < out; o++ {
		j, c := o/panelCols, o%panelCols
		for i := 0; i < in; i++ {
			ly.w[j*kp*panelCols+i*panelCols+c] = w[o*in+i]
		}
	}
	copy(ly.b, b)
	return ly
}

// gemmCheck checks the shapes of one kernel call, so that the kernels may index freely.
func gemmCheck(dst, a []float32, ly *packedLayer, bias []float32, groups, aStride, dstStride, epi int, aux []float32) {
	if groups <= 0 {
		return
	}
	n := (groups-1)*dstStride + ly.np*groupRows
	ok := aStride >= ly.kp*groupRows && dstStride >= ly.np*groupRows &&
		len(a) >= (groups-1)*aStride+ly.kp*groupRows+groupRows && // + slack, see gemmGo
		len(dst) >= n && len(bias) >= ly.np && len(ly.w) >= ly.kp*ly.np && ly.kp > 0 && ly.kp%panelCols == 0 &&
		epi >= epiNone && epi <= epiMul && (epi < epiSiLUDeriv || len(aux) >= n)
	if !ok {
		panic(fmt.Sprintf("sampler: kernel: bad shapes (groups %d, strides %d %d, kp %d np %d, lens %d %d)",
			groups, aStride, dstStride, ly.kp, ly.np, len(a), len(dst)))
	}
}

// gemm computes one layer for groups groups of groupRows rows:
//
//	dst[g*dstStride + o*groupRows + r] = epi(bias[o] + Σ_k a[g*aStride + k*groupRows + r]·W[o][k])
//
// for every padded output o. a must extend groupRows values past its last group. aux
// (epiSiLUDeriv and epiMul only) is indexed like dst.
func gemm(dst, a []float32, ly *packedLayer, bias []float32, groups, aStride, dstStride, epi int, aux []float32) {
	gemmCheck(dst, a, ly, bias, groups, aStride, dstStride, epi, aux)
	if groups <= 0 {
		return
	}
	gemmImpl(dst, a, ly, bias, groups, aStride, dstStride, epi, aux)
}

// epilogueGo applies the epilogues that a kernel leaves to Go (see gemmImpl) to the n
// outputs of each group.
func epilogueGo(dst []float32, groups, dstStride, n, epi int, aux []float32) {
	for g := 0; g < groups; g++ {
		o := dst[g*dstStride : g*dstStride+n]
		switch epi {
		case epiSiLU:
			fastexp.SiLU(o)
		case epiSiLUDeriv:
			fastexp.SiLUDeriv(o, aux[g*dstStride:g*dstStride+n])
		case epiMul:
			mulInto(o, aux[g*dstStride:g*dstStride+n])
		}
	}
}

// gemmGo is the pure-Go kernel: 2×4 register tiles of scalar accumulators (as many as
// the amd64 and wasm register files hold without spilling), inner loops free of bounds
// checks (check with go build -gcflags=-d=ssa/check_bce).
func gemmGo(dst, a []float32, ly *packedLayer, bias []float32, groups, aStride, dstStride, epi int, aux []float32) {
	const G = groupRows
	kp, panels := ly.kp, ly.np/panelCols
	for g := 0; g < groups; g++ {
		// ag reaches G values past the group, so that ak = ak[G:] below is always in
		// range and the loop needs no exit test but the weights'.
		ag := a[g*aStride : g*aStride+kp*G+G]
		dg := dst[g*dstStride : g*dstStride+panels*panelCols*G]
		for j := 0; j < panels; j++ {
			wj := ly.w[j*kp*panelCols : (j+1)*kp*panelCols]
			bj := (*[panelCols]float32)(bias[j*panelCols:])
			oj := (*[panelCols * G]float32)(dg[j*panelCols*G:])
			for r := 0; r < G-1; r += 2 { // r+1 < G, provably: no bounds checks on oj
				c00, c01, c02, c03 := bj[0], bj[1], bj[2], bj[3]
				c10, c11, c12, c13 := c00, c01, c02, c03
				ak, wk := ag[r:], wj
				for len(wk) >= 4 && len(ak) >= G {
					a0, a1 := ak[0], ak[1]
					b0, b1, b2, b3 := wk[0], wk[1], wk[2], wk[3]
					c00 += a0 * b0
					c10 += a1 * b0
					c01 += a0 * b1
					c11 += a1 * b1
					c02 += a0 * b2
					c12 += a1 * b2
					c03 += a0 * b3
					c13 += a1 * b3
					ak, wk = ak[G:], wk[4:]
				}
				if epi == epiReLU {
					c00, c01, c02, c03 = max(c00, 0), max(c01, 0), max(c02, 0), max(c03, 0)
					c10, c11, c12, c13 = max(c10, 0), max(c11, 0), max(c12, 0), max(c13, 0)
				}
				oj[0*G+r], oj[0*G+r+1] = c00, c10
				oj[1*G+r], oj[1*G+r+1] = c01, c11
				oj[2*G+r], oj[2*G+r+1] = c02, c12
				oj[3*G+r], oj[3*G+r+1] = c03, c13
			}
			if epi >= epiSiLU && epi != epiReLU { // on the tile, while it is in L1
				off := g*dstStride + j*panelCols*G
				epilogueGo(dst[off:], 1, 0, panelCols*G, epi, aux[min(off, len(aux)):])
			}
		}
	}
}

// expNeg returns e^(−z) for the sigmoid 1/(1+e^(−z)), in float32: package fastexp's
// method, the polynomial by Horner's scheme (the assembly and SIMD kernels do the same
// operations in the same order).
func expNeg(z float32) float32 {
	y := min(max(-z, fastexp.Lo), fastexp.Hi)
	t := y*fastexp.Log2E + fastexp.Magic
	n := t - fastexp.Magic
	r := y - n*fastexp.Ln2Hi - n*fastexp.Ln2Lo
	p := (((((fastexp.C5*r+fastexp.C4)*r+fastexp.C3)*r+fastexp.C2)*r+fastexp.C1)*r+1)*r + 1
	return p * math.Float32frombits(math.Float32bits(t)<<23+0x3f800000)
}

// silu is z·σ(z) = z/(1+e^(−z)). Its relative error against the exact value is at most
// a few float32 ulps for z ≥ −87 (see TestSiLUAccuracy); below, where the true value is
// smaller than 1e−36 in magnitude, the absolute error is as small. NaN stays NaN.
func silu(z float32) float32 { return z / (1 + expNeg(z)) }

// mulInto sets dst[i] *= f[i].
func mulInto(dst, f []float32) {
	f = f[:len(dst)]
	for i := range dst {
		dst[i] *= f[i]
	}
}

// sigmoid is σ(z) = 1/(1+e^(−z)) with the same approximation.
func sigmoid(z float32) float32 { return 1 / (1 + expNeg(z)) }

// epilogue is the kernel epilogue that applies a, or epiNone when the kernels cannot
// (the caller then applies it with apply or derive).
func (a act) epilogue() int {
	switch a {
	case actSiLU:
		return epiSiLU
	case actReLU:
		return epiReLU
	}
	return epiNone
}

// apply writes act(z) into dst (as long as z), for activations the kernels do not fuse.
func (a act) apply(dst, z []float32) {
	dst = dst[:len(z)]
	switch a {
	case actSiLU:
		copy(dst, z)
		fastexp.SiLU(dst)
	case actReLU:
		for i, v := range z {
			dst[i] = max(v, 0)
		}
	case actTanh:
		for i, v := range z {
			dst[i] = float32(math.Tanh(float64(v)))
		}
	case actSELU:
		for i, v := range z {
			dst[i] = float32(selu(float64(v)))
		}
	case actGELU:
		for i, v := range z {
			dst[i] = float32(gelu(float64(v)))
		}
	}
}

// derive writes act(z) into dst and act'(z) into deriv (both as long as z). The layers
// call it for ReLU, tanh, SELU and GELU, whose derivatives the kernels do not fuse; for
// SiLU it computes what gemmGo's epiSiLUDeriv does. At SELU's kink, z = 0, it takes
// the left derivative λ·α, as PyTorch's backward does.
func (a act) derive(dst, deriv, z []float32) {
	dst = dst[:len(z)]
	deriv = deriv[:len(z)]
	switch a {
	case actSiLU:
		copy(dst, z)
		fastexp.SiLUDeriv(dst, deriv)
	case actReLU:
		for i, v := range z {
			dst[i] = max(v, 0)
			deriv[i] = 0
			if v > 0 {
				deriv[i] = 1
			}
		}
	case actTanh:
		for i, v := range z {
			th := float32(math.Tanh(float64(v)))
			dst[i] = th
			deriv[i] = 1 - th*th
		}
	case actSELU:
		for i, v := range z {
			z := float64(v)
			dst[i] = float32(selu(z))
			deriv[i] = seluScale
			if !(z > 0) {
				deriv[i] = float32(seluScale * seluAlpha * math.Exp(z))
			}
		}
	case actGELU:
		for i, v := range z {
			z := float64(v)
			dst[i] = float32(gelu(z))
			deriv[i] = float32(0.5*(1+math.Erf(z*math.Sqrt2/2)) + z*math.Exp(-z*z/2)/math.Sqrt(2*math.Pi))
		}
	}
}

// SELU's constants, as PyTorch defines them (Klambauer et al., 2017).
const (
	seluAlpha = 1.6732632423543772848170429916717
	seluScale = 1.0507009873554804934193349852946
)

// selu is PyTorch's SELU, λ·z for z > 0 and λ·α·(e^z − 1) otherwise, in float64; the
// layers round it to float32. NaN stays NaN.
func selu(z float64) float64 {
	if z > 0 {
		return seluScale * z
	}
	return seluScale * seluAlpha * math.Expm1(z)
}

// gelu is PyTorch's exact GELU, z·Φ(z) = z/2·(1 + erf(z/√2)), in float64.
func gelu(z float64) float64 { return 0.5 * z * (1 + math.Erf(z*math.Sqrt2/2)) }
