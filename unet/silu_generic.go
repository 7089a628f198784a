//go:build !(goexperiment.simd && go1.27 && wasm)

package unet

// normSiLU sets dst[i] = siLU(src[i]·scale + shift).
func normSiLU(dst, src []float32, scale, shift float32) { normSiLUGo(dst, src, scale, shift) }

// copyG copies one group's run of a column.
func copyG(dst, src *[G]float32) { *dst = *src }
