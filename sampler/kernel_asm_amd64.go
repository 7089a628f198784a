//go:build !purego && !(goexperiment.simd && go1.27 && gosimd)

package sampler

import (
	"runtime"
	"unsafe"
)

// The assembly kernel's dispatch: every amd64 build but those with GOEXPERIMENT=simd
// (Go 1.27) and the build tag gosimd, which run the Go SIMD kernels instead
// (kernel_archsimd_gosimd_amd64.go).

// gosimdTag says that this build runs the Go SIMD kernels.
const gosimdTag = false

// kernelName says which gemm kernel this build runs.
var kernelName = asmKernelName(useAVX2, useAVX512)

func gemmImpl(dst, a []float32, ly *packedLayer, bias []float32, groups, aStride, dstStride, epi int, aux []float32) {
	if !useAVX2 {
		gemmGo(dst, a, ly, bias, groups, aStride, dstStride, epi, aux)
		return
	}
	var auxOff uintptr
	if epi == epiSiLUDeriv || epi == epiMul {
		auxOff = uintptr(unsafe.Pointer(unsafe.SliceData(aux))) - uintptr(unsafe.Pointer(unsafe.SliceData(dst)))
	}
	// gemmCheck has checked every length the kernel touches.
	kernel := gemmAVX2
	if useAVX512 {
		kernel = gemmAVX512
	}
	kernel(unsafe.SliceData(dst), unsafe.SliceData(a), unsafe.SliceData(ly.w), unsafe.SliceData(bias),
		groups, ly.kp, ly.np/panelCols, aStride, dstStride, epi, auxOff)
	runtime.KeepAlive(aux)
}
