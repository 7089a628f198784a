//go:build goexperiment.simd && go1.27 && !purego

package sampler

import (
	"simd/archsimd"
	"unsafe"
)

// gemmX16 is the Go SIMD kernel for AVX-512: a tile is a group's 24 rows, as one
// Float32x16 (rows 0–15) and one Float32x8 (rows 16–23), by one panel's 4 outputs, 8
// accumulators, each weight broadcast once per width and overwritten by its one
// multiply-add. Its operations per output are gemmX8's (bias, then fused multiply-adds
// in k order, then epilogueX8), so its results are too. No CPU of this project's
// machines has AVX-512: TestX86KernelBitIdentical checks it against gemmX8 where one
// does.
func gemmX16(dst, a []float32, ly *packedLayer, bias []float32, groups, aStride, dstStride, epi int, aux []float32) {
	const G = groupRows
	kp, panels := ly.kp, ly.np/panelCols
	ap, dp, wp := unsafe.Pointer(unsafe.SliceData(a)), unsafe.Pointer(unsafe.SliceData(dst)), unsafe.Pointer(unsafe.SliceData(ly.w))
	var xp unsafe.Pointer // aux, at dst's offsets
	if epi == epiSiLUDeriv || epi == epiMul {
		xp = unsafe.Pointer(unsafe.SliceData(aux))
	}
	k := newExpK8()
	for g := 0; g < groups; g++ {
		ag := unsafe.Add(ap, 4*g*aStride)
		for j := 0; j < panels; j++ {
			o := 4 * (g*dstStride + j*panelCols*G)
			tileX16(unsafe.Add(dp, o), ag, unsafe.Add(wp, 4*j*kp*panelCols), (*[panelCols]float32)(bias[j*panelCols:]), kp)
			if epi != epiNone {
				for v := 0; v < G; v += 8 {
					epilogueX8(unsafe.Add(dp, o+4*v), unsafe.Add(xp, o+4*v), epi, &k)
				}
			}
		}
	}
}

// tileX16 computes one group's 24 rows (inputs at a, input k at a + k·groupRows
// floats) × one panel (weights w, biases b) into o (output c at o + c·groupRows). As
// in tileX8, the pointers step on only while another trip follows.
func tileX16(o, a, w unsafe.Pointer, b *[panelCols]float32, kp int) {
	const G = groupRows
	c0, d0 := archsimd.BroadcastFloat32x16(b[0]), archsimd.BroadcastFloat32x8(b[0])
	c1, d1 := archsimd.BroadcastFloat32x16(b[1]), archsimd.BroadcastFloat32x8(b[1])
	c2, d2 := archsimd.BroadcastFloat32x16(b[2]), archsimd.BroadcastFloat32x8(b[2])
	c3, d3 := archsimd.BroadcastFloat32x16(b[3]), archsimd.BroadcastFloat32x8(b[3])
	for n := kp; ; {
		x := archsimd.LoadFloat32x16Array((*[16]float32)(a))
		y := archsimd.LoadFloat32x8Array((*[8]float32)(unsafe.Add(a, 16*4)))
		p := (*[panelCols]float32)(w)
		c0, d0 = archsimd.BroadcastFloat32x16(p[0]).MulAdd(x, c0), archsimd.BroadcastFloat32x8(p[0]).MulAdd(y, d0)
		c1, d1 = archsimd.BroadcastFloat32x16(p[1]).MulAdd(x, c1), archsimd.BroadcastFloat32x8(p[1]).MulAdd(y, d1)
		c2, d2 = archsimd.BroadcastFloat32x16(p[2]).MulAdd(x, c2), archsimd.BroadcastFloat32x8(p[2]).MulAdd(y, d2)
		c3, d3 = archsimd.BroadcastFloat32x16(p[3]).MulAdd(x, c3), archsimd.BroadcastFloat32x8(p[3]).MulAdd(y, d3)
		if n--; n == 0 {
			break
		}
		a, w = unsafe.Add(a, G*4), unsafe.Add(w, panelCols*4)
	}
	c0.StoreArray((*[16]float32)(unsafe.Add(o, 0*G*4)))
	d0.StoreArray((*[8]float32)(unsafe.Add(o, (0*G+16)*4)))
	c1.StoreArray((*[16]float32)(unsafe.Add(o, 1*G*4)))
	d1.StoreArray((*[8]float32)(unsafe.Add(o, (1*G+16)*4)))
	c2.StoreArray((*[16]float32)(unsafe.Add(o, 2*G*4)))
	d2.StoreArray((*[8]float32)(unsafe.Add(o, (2*G+16)*4)))
	c3.StoreArray((*[16]float32)(unsafe.Add(o, 3*G*4)))
	d3.StoreArray((*[8]float32)(unsafe.Add(o, (3*G+16)*4)))
}
