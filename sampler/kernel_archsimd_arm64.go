//go:build goexperiment.simd && go1.27 && !purego

package sampler

import (
	"simd/archsimd"
	"unsafe"

	"github.com/flowmatch/flowmatch/internal/fastexp"
)

// The arm64 kernel in Go SIMD (simd/archsimd, GOEXPERIMENT=simd builds with Go 1.27 or
// later): Float32x4 vectors on NEON, which every arm64 CPU has. It does the AVX2
// kernels' operations (kernel_amd64.s, gemmX8) on 4 lanes: each output is the bias
// plus the products in k order with fused multiply-adds (FMLA), SiLU the fused Horner
// polynomial with the clamps keeping the bound where the argument is NaN, ReLU keeping
// NaN and −0. So its results are the AVX2 kernels' bit for bit (TestBitIdentical pins
// it to their hashes) and, like them, differ from gemmGo's in the last bits.
//
// NEON has 32 vector registers and FMLA accumulates in place, so a tile can be larger
// than on amd64: 12 rows (3 vectors) × one panel's 4 outputs, 12 accumulators, 3 inputs
// and 4 broadcast weights; a group is two such tiles. Its speed is not measured: the
// project's machines run arm64 code only under qemu.

// kernelName says which gemm kernel this build runs.
var kernelName = "neon-simd"

func gemmImpl(dst, a []float32, ly *packedLayer, bias []float32, groups, aStride, dstStride, epi int, aux []float32) {
	gemmNEON(dst, a, ly, bias, groups, aStride, dstStride, epi, aux)
}

// gemmNEON is the Go SIMD kernel for NEON.
func gemmNEON(dst, a []float32, ly *packedLayer, bias []float32, groups, aStride, dstStride, epi int, aux []float32) {
	const G = groupRows
	kp, panels := ly.kp, ly.np/panelCols
	ap, dp, wp := unsafe.Pointer(unsafe.SliceData(a)), unsafe.Pointer(unsafe.SliceData(dst)), unsafe.Pointer(unsafe.SliceData(ly.w))
	var xp unsafe.Pointer // aux, at dst's offsets
	if epi == epiSiLUDeriv || epi == epiMul {
		xp = unsafe.Pointer(unsafe.SliceData(aux))
	}
	k := newExpK4()
	for g := 0; g < groups; g++ {
		for j := 0; j < panels; j++ {
			b := (*[panelCols]float32)(bias[j*panelCols:])
			w := unsafe.Add(wp, 4*j*kp*panelCols)
			o := 4 * (g*dstStride + j*panelCols*G)
			for v := 0; v < G; v += 12 {
				tileNEON(unsafe.Add(dp, o+4*v), unsafe.Add(ap, 4*(g*aStride+v)), w, b, kp)
			}
			if epi != epiNone {
				epilogueNEON(unsafe.Add(dp, o), unsafe.Add(xp, o), epi, &k)
			}
		}
	}
}

// tileNEON computes 12 rows (inputs at a, input k at a + k·groupRows floats) × one
// panel (weights w, biases b) over kp inputs into o (output c at o + c·groupRows).
// gemmCheck has checked every bound; the pointers step on only while another trip
// follows, so that none points past its slice.
func tileNEON(o, a, w unsafe.Pointer, b *[panelCols]float32, kp int) {
	const G = groupRows
	c00 := archsimd.BroadcastFloat32x4(b[0])
	c01, c02 := c00, c00
	c10 := archsimd.BroadcastFloat32x4(b[1])
	c11, c12 := c10, c10
	c20 := archsimd.BroadcastFloat32x4(b[2])
	c21, c22 := c20, c20
	c30 := archsimd.BroadcastFloat32x4(b[3])
	c31, c32 := c30, c30
	for n := kp; ; {
		x := (*[12]float32)(a)
		x0 := archsimd.LoadFloat32x4Array((*[4]float32)(x[0:4]))
		x1 := archsimd.LoadFloat32x4Array((*[4]float32)(x[4:8]))
		x2 := archsimd.LoadFloat32x4Array((*[4]float32)(x[8:12]))
		p := (*[panelCols]float32)(w)
		b0 := archsimd.BroadcastFloat32x4(p[0])
		c00, c01, c02 = x0.MulAdd(b0, c00), x1.MulAdd(b0, c01), x2.MulAdd(b0, c02)
		b1 := archsimd.BroadcastFloat32x4(p[1])
		c10, c11, c12 = x0.MulAdd(b1, c10), x1.MulAdd(b1, c11), x2.MulAdd(b1, c12)
		b2 := archsimd.BroadcastFloat32x4(p[2])
		c20, c21, c22 = x0.MulAdd(b2, c20), x1.MulAdd(b2, c21), x2.MulAdd(b2, c22)
		b3 := archsimd.BroadcastFloat32x4(p[3])
		c30, c31, c32 = x0.MulAdd(b3, c30), x1.MulAdd(b3, c31), x2.MulAdd(b3, c32)
		if n--; n == 0 {
			break
		}
		a, w = unsafe.Add(a, G*4), unsafe.Add(w, panelCols*4)
	}
	t := (*[3*G + 12]float32)(o)
	c00.StoreArray((*[4]float32)(t[0*G:]))
	c01.StoreArray((*[4]float32)(t[0*G+4:]))
	c02.StoreArray((*[4]float32)(t[0*G+8:]))
	c10.StoreArray((*[4]float32)(t[1*G:]))
	c11.StoreArray((*[4]float32)(t[1*G+4:]))
	c12.StoreArray((*[4]float32)(t[1*G+8:]))
	c20.StoreArray((*[4]float32)(t[2*G:]))
	c21.StoreArray((*[4]float32)(t[2*G+4:]))
	c22.StoreArray((*[4]float32)(t[2*G+8:]))
	c30.StoreArray((*[4]float32)(t[3*G:]))
	c31.StoreArray((*[4]float32)(t[3*G+4:]))
	c32.StoreArray((*[4]float32)(t[3*G+8:]))
}

// epilogueNEON applies epilogue epi to one panel's stored outputs at o (4 outputs ×
// groupRows rows), with aux at x, at the same offsets (epiSiLUDeriv and epiMul).
func epilogueNEON(o, x unsafe.Pointer, epi int, k *expK4) {
	const n = panelCols * groupRows * 4 // bytes
	switch epi {
	case epiSiLU:
		for i := uintptr(0); i < n; i += 16 {
			p := (*[4]float32)(unsafe.Add(o, i))
			z := archsimd.LoadFloat32x4Array(p)
			z.Div(exp4(z, k).Add(k.one)).StoreArray(p)
		}
	case epiReLU:
		zero := archsimd.Float32x4{}
		for i := uintptr(0); i < n; i += 16 {
			p := (*[4]float32)(unsafe.Add(o, i))
			z := archsimd.LoadFloat32x4Array(p)
			// As VMAXPS in kernel_amd64.s: z, unless 0 > z (so NaN and −0 stay).
			zero.IfElse(zero.Greater(z), z).StoreArray(p)
		}
	case epiSiLUDeriv:
		for i := uintptr(0); i < n; i += 16 {
			p := (*[4]float32)(unsafe.Add(o, i))
			z := archsimd.LoadFloat32x4Array(p)
			// silu'(z) = s + (z·s)·(e·s), s = 1/(1+e), as kernel_amd64.s's SILUD.
			e := exp4(z, k)
			s := k.one.Div(e.Add(k.one))
			y := z.Mul(s)
			y.StoreArray(p)
			e.Mul(s).Mul(y).Add(s).StoreArray((*[4]float32)(unsafe.Add(x, i)))
		}
	case epiMul:
		for i := uintptr(0); i < n; i += 16 {
			p := (*[4]float32)(unsafe.Add(o, i))
			m := archsimd.LoadFloat32x4Array((*[4]float32)(unsafe.Add(x, i)))
			archsimd.LoadFloat32x4Array(p).Mul(m).StoreArray(p)
		}
	}
}

// expK4 holds exp4's constants, broadcast once per kernel call.
type expK4 struct {
	sign                           archsimd.Uint32x4
	lo, hi, log2e, magic, ln2Hi    archsimd.Float32x4
	ln2Lo, c5, c4, c3, c2, c1, one archsimd.Float32x4
	oneBits                        archsimd.Uint32x4
}

func newExpK4() expK4 {
	f := archsimd.BroadcastFloat32x4
	return expK4{archsimd.BroadcastUint32x4(1 << 31), f(fastexp.Lo), f(fastexp.Hi), f(fastexp.Log2E), f(fastexp.Magic), f(fastexp.Ln2Hi),
		f(fastexp.Ln2Lo), f(fastexp.C5), f(fastexp.C4), f(fastexp.C3), f(fastexp.C2), f(fastexp.C1), f(1), archsimd.BroadcastUint32x4(0x3f800000)}
}

// exp4 returns e^(−z) as exp8 (kernel_archsimd_amd64.go) does, operation for
// operation.
func exp4(z archsimd.Float32x4, k *expK4) archsimd.Float32x4 {
	y := z.ToBits().Xor(k.sign).BitsToFloat32()
	y = y.IfElse(y.Greater(k.lo), k.lo) // y > lo ? y : lo
	y = y.IfElse(y.Less(k.hi), k.hi)    // y < hi ? y : hi
	t := y.MulAdd(k.log2e, k.magic)
	n := t.Sub(k.magic)
	m := n.ToBits().Xor(k.sign).BitsToFloat32() // −n
	r := m.MulAdd(k.ln2Hi, y)
	r = m.MulAdd(k.ln2Lo, r)
	p := k.c5.MulAdd(r, k.c4)
	p = p.MulAdd(r, k.c3)
	p = p.MulAdd(r, k.c2)
	p = p.MulAdd(r, k.c1)
	p = p.MulAdd(r, k.one)
	p = p.MulAdd(r, k.one)
	return p.Mul(t.ToBits().ShiftAllLeft(23).Add(k.oneBits).BitsToFloat32())
}
