//go:build !purego

package sampler

import "unsafe"

//go:generate go run kernel_gen.go

// The WebAssembly kernels, in kernel_wasm.s (written by kernel_gen.go).

//go:noescape
func gemmWasm(dst, a, w, bias *float32, groups, kp, panels, aStride, dstStride, epi int)

//go:noescape
func siluWasm(x *float32, n int)

// kernelName says which gemm kernel this build runs.
var kernelName = "wasm"

func gemmImpl(dst, a []float32, ly *packedLayer, bias []float32, groups, aStride, dstStride, epi int) {
	// gemmCheck has checked every length the kernel touches.
	gemmWasm(unsafe.SliceData(dst), unsafe.SliceData(a), unsafe.SliceData(ly.w), unsafe.SliceData(bias),
		groups, ly.kp, ly.np/panelCols, aStride, dstStride, epi)
	if epi == epiSiLU {
		n := ly.np * groupRows
		for g := 0; g < groups; g++ {
			siluWasm(unsafe.SliceData(dst[g*dstStride:g*dstStride+n]), n)
		}
	}
}
