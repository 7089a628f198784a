//go:build goexperiment.simd && go1.27 && !purego && gosimd

package sampler

import "simd/archsimd"

// With the build tag gosimd, a GOEXPERIMENT=simd build runs the Go SIMD kernels
// (kernel_archsimd_amd64.go) in place of kernel_amd64.s. They give the same bits; the
// assembly is faster (see kernel_archsimd_amd64.go), so it stays the default.

// gosimdTag says that this build runs the Go SIMD kernels.
const gosimdTag = true

// useX86 is the kernel this process runs.
var useX86 = x86Kernel(archsimd.X86.AVX2(), archsimd.X86.FMA(), archsimd.X86.AVX512())

// kernelName says which gemm kernel this build runs.
var kernelName = x86Names[useX86]

func gemmImpl(dst, a []float32, ly *packedLayer, bias []float32, groups, aStride, dstStride, epi int, aux []float32) {
	switch useX86 {
	case x86AVX512:
		gemmX16(dst, a, ly, bias, groups, aStride, dstStride, epi, aux)
	case x86AVX2:
		gemmX8(dst, a, ly, bias, groups, aStride, dstStride, epi, aux)
	default:
		gemmGo(dst, a, ly, bias, groups, aStride, dstStride, epi, aux)
	}
}
