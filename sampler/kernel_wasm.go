//go:build !purego && !(goexperiment.simd && go1.27)

package sampler

import "unsafe"

//go:generate go run kernel_gen.go

// The WebAssembly kernels, in kernel_wasm.s (written by kernel_gen.go). Built with
// GOEXPERIMENT=simd by Go 1.27 or later, kernel_simd.go selects the SIMD kernel instead.

//go:noescape
func gemmWasm(dst, a, w, bias *float32, groups, kp, panels, aStride, dstStride, epi int)

//go:noescape
func siluWasm(x *float32, n int)

//go:noescape
func siluDerivWasm(x, y *float32, n int)

//go:noescape
func mulWasm(x, y *float32, n int)

// kernelName says which gemm kernel this build runs.
var kernelName = "wasm"

func gemmImpl(dst, a []float32, ly *packedLayer, bias []float32, groups, aStride, dstStride, epi int, aux []float32) {
	// gemmCheck has checked every length the kernel touches. The kernel fuses ReLU; the
	// other epilogues run over each group's outputs while they are in cache.
	e := epi
	if e != epiReLU {
		e = epiNone
	}
	gemmWasm(unsafe.SliceData(dst), unsafe.SliceData(a), unsafe.SliceData(ly.w), unsafe.SliceData(bias),
		groups, ly.kp, ly.np/panelCols, aStride, dstStride, e)
	n := ly.np * groupRows
	switch epi {
	case epiSiLU:
		for g := 0; g < groups; g++ {
			siluWasm(unsafe.SliceData(dst[g*dstStride:g*dstStride+n]), n)
		}
	case epiSiLUDeriv:
		for g := 0; g < groups; g++ {
			o := g * dstStride
			siluDerivWasm(unsafe.SliceData(dst[o:o+n]), unsafe.SliceData(aux[o:o+n]), n)
		}
	case epiMul:
		for g := 0; g < groups; g++ {
			o := g * dstStride
			mulWasm(unsafe.SliceData(dst[o:o+n]), unsafe.SliceData(aux[o:o+n]), n)
		}
	}
}
