//go:build goexperiment.simd && go1.27 && !purego

package sampler

import (
	"simd/archsimd"
	"unsafe"

	"github.com/flowmatch/flowmatch/internal/fastexp"
)

// The amd64 kernel in Go SIMD (simd/archsimd, GOEXPERIMENT=simd builds with Go 1.27 or
// later): Float32x8 vectors on AVX2 and FMA. It does what kernel_amd64.s does, operation
// for operation: each output is the bias plus the products in k order, with fused
// multiply-adds, and SiLU is the same fused Horner polynomial with the same clamps (and
// ReLU the same NaN rules as VMAXPS). So its results are bit-identical to the assembly
// kernel's (TestBitIdentical pins both to the same hashes) and, like them, differ from
// gemmGo's in the last bits.
//
// It runs at about half the assembly's speed (TestX86KernelTable, BenchmarkX86Kernels),
// so kernel_amd64.s stays the default and this kernel runs only with the build tag
// gosimd (kernel_archsimd_gosimd_amd64.go); SIMD builds compile it either way, so that
// its tests run. What Go 1.27.3's compiler does with archsimd, and the assembly
// avoids: it keeps X15 zero, leaving 15 YMM registers; MulAdd is VFMADD213PS, whose
// result overwrites a multiplicand, so a multiplicand used twice is copied first and
// the accumulators come back through register moves each trip; a broadcast weight is a
// scalar load plus a shuffle (VBROADCASTSS from memory is a load alone); and the
// scheduler hoists every load of a loop body to its top, so the assembly's tile (24
// rows × 4 outputs: 12 accumulators, 3 inputs and a weight) spills. The tile here is
// the largest that does not: 2 vectors of 8 rows × one panel's 4 outputs, 8
// accumulators, 2 inputs and 4 weights. Unrolled, or as 8 rows × 8 outputs, it spills.

// gemmX8 is the Go SIMD kernel for AVX2 and FMA.
func gemmX8(dst, a []float32, ly *packedLayer, bias []float32, groups, aStride, dstStride, epi int, aux []float32) {
	const G = groupRows
	kp, panels := ly.kp, ly.np/panelCols
	ap, dp, wp := unsafe.Pointer(unsafe.SliceData(a)), unsafe.Pointer(unsafe.SliceData(dst)), unsafe.Pointer(unsafe.SliceData(ly.w))
	var xp unsafe.Pointer // aux, at dst's offsets
	if epi == epiSiLUDeriv || epi == epiMul {
		xp = unsafe.Pointer(unsafe.SliceData(aux))
	}
	// The call's 8-row vectors (3 per group) go in pairs, each pair through every
	// panel while its inputs stay in L1; an odd last vector pairs with itself.
	nv := 3 * groups
	k := newExpK8()
	for v := 0; v < nv; v += 2 {
		u := min(v+1, nv-1)
		av, au := 4*(v/3*aStride+v%3*8), 4*(u/3*aStride+u%3*8)
		ov, ou := 4*(v/3*dstStride+v%3*8), 4*(u/3*dstStride+u%3*8)
		for j := 0; j < panels; j++ {
			b := (*[panelCols]float32)(bias[j*panelCols:])
			do := 4 * j * panelCols * G
			tileX8(unsafe.Add(dp, ov+do), unsafe.Add(dp, ou+do), unsafe.Add(ap, av), unsafe.Add(ap, au),
				unsafe.Add(wp, 4*j*kp*panelCols), b, kp)
			if epi != epiNone {
				epilogueX8(unsafe.Add(dp, ov+do), unsafe.Add(xp, ov+do), epi, &k)
				if u != v {
					epilogueX8(unsafe.Add(dp, ou+do), unsafe.Add(xp, ou+do), epi, &k)
				}
			}
		}
	}
}

// tileX8 computes 2 vectors of 8 rows (inputs at a0 and a1, outputs at o0 and o1, as
// in the blocked layout: input k at a + k·groupRows floats, output c at o +
// c·groupRows) × one panel (weights w, biases b) over kp inputs. gemmCheck has checked
// every bound, so the loop indexes with unsafe.Add: slices would cost it a bounds
// check and a pointer mask per step.
func tileX8(o0, o1, a0, a1, w unsafe.Pointer, b *[panelCols]float32, kp int) {
	const G = groupRows
	c00, c10 := archsimd.BroadcastFloat32x8(b[0]), archsimd.BroadcastFloat32x8(b[0])
	c01, c11 := archsimd.BroadcastFloat32x8(b[1]), archsimd.BroadcastFloat32x8(b[1])
	c02, c12 := archsimd.BroadcastFloat32x8(b[2]), archsimd.BroadcastFloat32x8(b[2])
	c03, c13 := archsimd.BroadcastFloat32x8(b[3]), archsimd.BroadcastFloat32x8(b[3])
	// The pointers step on only while another trip follows, so that none points past
	// its slice.
	for n := kp; ; {
		x0 := archsimd.LoadFloat32x8Array((*[8]float32)(a0))
		x1 := archsimd.LoadFloat32x8Array((*[8]float32)(a1))
		p := (*[panelCols]float32)(w)
		b0 := archsimd.BroadcastFloat32x8(p[0])
		c00, c10 = b0.MulAdd(x0, c00), b0.MulAdd(x1, c10)
		b1 := archsimd.BroadcastFloat32x8(p[1])
		c01, c11 = b1.MulAdd(x0, c01), b1.MulAdd(x1, c11)
		b2 := archsimd.BroadcastFloat32x8(p[2])
		c02, c12 = b2.MulAdd(x0, c02), b2.MulAdd(x1, c12)
		b3 := archsimd.BroadcastFloat32x8(p[3])
		c03, c13 = b3.MulAdd(x0, c03), b3.MulAdd(x1, c13)
		if n--; n == 0 {
			break
		}
		a0, a1, w = unsafe.Add(a0, G*4), unsafe.Add(a1, G*4), unsafe.Add(w, panelCols*4)
	}
	c00.StoreArray((*[8]float32)(unsafe.Add(o0, 0*G*4)))
	c01.StoreArray((*[8]float32)(unsafe.Add(o0, 1*G*4)))
	c02.StoreArray((*[8]float32)(unsafe.Add(o0, 2*G*4)))
	c03.StoreArray((*[8]float32)(unsafe.Add(o0, 3*G*4)))
	c10.StoreArray((*[8]float32)(unsafe.Add(o1, 0*G*4)))
	c11.StoreArray((*[8]float32)(unsafe.Add(o1, 1*G*4)))
	c12.StoreArray((*[8]float32)(unsafe.Add(o1, 2*G*4)))
	c13.StoreArray((*[8]float32)(unsafe.Add(o1, 3*G*4)))
}

// epilogueX8 applies epilogue epi to the 4 vectors of a tile at o (output c at o +
// c·groupRows floats), with aux at x, at the same offsets (epiSiLUDeriv and epiMul).
func epilogueX8(o, x unsafe.Pointer, epi int, k *expK8) {
	const G = groupRows
	switch epi {
	case epiSiLU:
		for c := uintptr(0); c < panelCols; c++ {
			p := (*[8]float32)(unsafe.Add(o, c*G*4))
			z := archsimd.LoadFloat32x8Array(p)
			z.Div(exp8(z, k).Add(k.one)).StoreArray(p)
		}
	case epiReLU:
		zero := archsimd.Float32x8{}
		for c := uintptr(0); c < panelCols; c++ {
			p := (*[8]float32)(unsafe.Add(o, c*G*4))
			z := archsimd.LoadFloat32x8Array(p)
			// kernel_amd64.s's VMAXPS: z, unless 0 > z (so NaN and −0 stay).
			zero.IfElse(zero.Greater(z), z).StoreArray(p)
		}
	case epiSiLUDeriv:
		for c := uintptr(0); c < panelCols; c++ {
			p := (*[8]float32)(unsafe.Add(o, c*G*4))
			z := archsimd.LoadFloat32x8Array(p)
			// silu'(z) = s + (z·s)·(e·s), s = 1/(1+e), as kernel_amd64.s's SILUD.
			e := exp8(z, k)
			s := k.one.Div(e.Add(k.one))
			y := z.Mul(s)
			y.StoreArray(p)
			e.Mul(s).Mul(y).Add(s).StoreArray((*[8]float32)(unsafe.Add(x, c*G*4)))
		}
	case epiMul:
		for c := uintptr(0); c < panelCols; c++ {
			p := (*[8]float32)(unsafe.Add(o, c*G*4))
			m := archsimd.LoadFloat32x8Array((*[8]float32)(unsafe.Add(x, c*G*4)))
			archsimd.LoadFloat32x8Array(p).Mul(m).StoreArray(p)
		}
	}
}

// expK8 holds exp8's constants, broadcast once per kernel call.
type expK8 struct {
	sign                           archsimd.Uint32x8
	lo, hi, log2e, magic, ln2Hi    archsimd.Float32x8
	ln2Lo, c5, c4, c3, c2, c1, one archsimd.Float32x8
	oneBits                        archsimd.Uint32x8
}

func newExpK8() expK8 {
	f := archsimd.BroadcastFloat32x8
	return expK8{archsimd.BroadcastUint32x8(1 << 31), f(fastexp.Lo), f(fastexp.Hi), f(fastexp.Log2E), f(fastexp.Magic), f(fastexp.Ln2Hi),
		f(fastexp.Ln2Lo), f(fastexp.C5), f(fastexp.C4), f(fastexp.C3), f(fastexp.C2), f(fastexp.C1), f(1), archsimd.BroadcastUint32x8(0x3f800000)}
}

// exp8 returns e^(−z) clamped as in expNeg, with kernel_amd64.s's operations: the
// clamps keep the bound where −z is NaN (VMAXPS and VMINPS), the reduction and the
// polynomial (Horner's) use fused multiply-adds.
func exp8(z archsimd.Float32x8, k *expK8) archsimd.Float32x8 {
	y := z.AsUint32x8().Xor(k.sign).AsFloat32x8()
	y = y.IfElse(y.Greater(k.lo), k.lo) // y > lo ? y : lo
	y = y.IfElse(y.Less(k.hi), k.hi)    // y < hi ? y : hi
	t := y.MulAdd(k.log2e, k.magic)
	n := t.Sub(k.magic)
	m := n.AsUint32x8().Xor(k.sign).AsFloat32x8() // −n
	r := m.MulAdd(k.ln2Hi, y)
	r = m.MulAdd(k.ln2Lo, r)
	p := k.c5.MulAdd(r, k.c4)
	p = p.MulAdd(r, k.c3)
	p = p.MulAdd(r, k.c2)
	p = p.MulAdd(r, k.c1)
	p = p.MulAdd(r, k.one)
	p = p.MulAdd(r, k.one)
	return p.Mul(t.AsUint32x8().ShiftAllLeft(23).Add(k.oneBits).AsFloat32x8())
}

// The x86 kernels this build can run, best first.
const (
	x86Go     = iota // gemmGo: no AVX2 and FMA
	x86AVX2          // gemmX8
	x86AVX512        // gemmX16
)

// x86Kernel picks the kernel for a CPU with the given features (and OS support for
// their registers, which archsimd.X86 checks).
func x86Kernel(avx2, fma, avx512 bool) int {
	switch {
	case avx512 && fma:
		return x86AVX512
	case avx2 && fma:
		return x86AVX2
	}
	return x86Go
}

// x86Names are the kernels' names as KernelName reports them.
var x86Names = [...]string{x86Go: "go", x86AVX2: "avx2-simd", x86AVX512: "avx512-simd"}
