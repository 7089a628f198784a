//go:build goexperiment.simd && go1.27 && wasm

package unet

import (
	"simd/archsimd"

	"github.com/flowmatch/flowmatch/internal/fastexp"
)

// normSiLU sets dst[i] = SiLU(src[i]·scale + shift): fastexp.SiLU's float32 operations
// in order, four values at a time in WebAssembly SIMD (no fused multiply-adds, and
// f32x4.min and max keep a NaN as its comparisons do), so the result is normSiLUGo's
// bit for bit; the last len%4 values go through normSiLUGo itself.
func normSiLU(dst, src []float32, scale, shift float32) {
	n := len(src) &^ 3
	normSiLURun(dst, 0, src, n, []float32{scale}, []float32{shift})
	normSiLUGo(dst[n:len(src)], src[n:], scale, shift)
}

// normSiLURun is normSiLU on one run of m values (a multiple of 4) of each of the
// len(scale) channels of a blocked group: channel ch's values at src[ch·G:] go to
// dst[ch·planeLen:], with scale[ch] and shift[ch]; the constants are splatted once
// into locals (a struct of them would be loaded from memory at every use).
func normSiLURun(dst []float32, planeLen int, src []float32, m int, scale, shift []float32) {
	lo, hi := archsimd.BroadcastFloat32x4(fastexp.Lo), archsimd.BroadcastFloat32x4(fastexp.Hi)
	l2e, magic := archsimd.BroadcastFloat32x4(fastexp.Log2E), archsimd.BroadcastFloat32x4(fastexp.Magic)
	l2h, l2l := archsimd.BroadcastFloat32x4(fastexp.Ln2Hi), archsimd.BroadcastFloat32x4(fastexp.Ln2Lo)
	c1, c2, c3 := archsimd.BroadcastFloat32x4(fastexp.C1), archsimd.BroadcastFloat32x4(fastexp.C2), archsimd.BroadcastFloat32x4(fastexp.C3)
	c4, c5 := archsimd.BroadcastFloat32x4(fastexp.C4), archsimd.BroadcastFloat32x4(fastexp.C5)
	one := archsimd.BroadcastFloat32x4(1)
	bias := archsimd.BroadcastUint32x4(0x3f800000)
	for ch := range scale {
		d, s := dst[ch*planeLen:ch*planeLen+m], src[ch*G:ch*G+m]
		sc, sh := archsimd.BroadcastFloat32x4(scale[ch]), archsimd.BroadcastFloat32x4(shift[ch])
		for i := 0; i+4 <= len(s); i += 4 {
			z := archsimd.LoadFloat32x4(s[i:]).Mul(sc).Add(sh)
			y := z.Neg().Max(lo).Min(hi)
			t := y.Mul(l2e).Add(magic)
			n := t.Sub(magic)
			r := y.Sub(n.Mul(l2h)).Sub(n.Mul(l2l))
			r2 := r.Mul(r)
			p := one.Add(r).Add(r2.Mul(c1.Add(c2.Mul(r)).Add(r2.Mul(c3.Add(c4.Mul(r)).Add(r2.Mul(c5))))))
			e := t.ToBits().ShiftAllLeft(23).Add(bias).BitsToFloat32()
			z.Div(one.Add(p.Mul(e))).Store(d[i:])
		}
	}
}

// copyG copies one group's run of a column, six v128 loads and stores (a copy of
// 96 bytes through memmove costs a call and memory.copy's setup, the im2col's most).
func copyG(dst, src *[G]float32) {
	archsimd.LoadFloat32x4Array((*[4]float32)(src[0:4])).StoreArray((*[4]float32)(dst[0:4]))
	archsimd.LoadFloat32x4Array((*[4]float32)(src[4:8])).StoreArray((*[4]float32)(dst[4:8]))
	archsimd.LoadFloat32x4Array((*[4]float32)(src[8:12])).StoreArray((*[4]float32)(dst[8:12]))
	archsimd.LoadFloat32x4Array((*[4]float32)(src[12:16])).StoreArray((*[4]float32)(dst[12:16]))
	archsimd.LoadFloat32x4Array((*[4]float32)(src[16:20])).StoreArray((*[4]float32)(dst[16:20]))
	archsimd.LoadFloat32x4Array((*[4]float32)(src[20:24])).StoreArray((*[4]float32)(dst[20:24]))
}
