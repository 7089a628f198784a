//go:build goexperiment.simd && go1.27 && wasm && !purego

package sampler

import (
	"runtime"
	"unsafe"
)

//go:generate go run kernel_simd_gen.go

// The WebAssembly SIMD kernel: what GOEXPERIMENT=simd builds (Go 1.27 or later) run
// under js/wasm, in place of kernel_wasm.go's scalar kernel; the module then needs an
// engine with WebAssembly SIMD (128-bit). gemmSIMD, in kernel_simd_wasm.s (written by
// kernel_simd_gen.go), works on v128 vectors of 4 rows: a tile of 12 rows by 4 outputs
// keeps 12 accumulators, and the epilogue runs on each panel's outputs four at a time.
// It does gemmGo's float32 operations in gemmGo's order, SiLU included, so its results
// are bit-identical to gemmGo's and to the scalar wasm kernel's.
//
// It is written in Go's WebAssembly assembler (which has the SIMD instructions from
// Go 1.27) rather than with simd/archsimd: the same tiles compiled from archsimd ran
// 10–20% slower, and an archsimd SiLU at half the speed, since Go's wasm backend
// sends every loop back-edge through the function's br_table dispatch, spills past 16
// v128 registers, and archsimd has no pmin/pmax for SiLU's clamps (f32x4.min and max
// cost V8 several instructions each).

// gemmSIMD is the kernel in kernel_simd_wasm.s; auxOff is aux's address minus dst's, in
// bytes (epiSiLUDeriv and epiMul).
//
//go:noescape
func gemmSIMD(dst, a, w, bias *float32, groups, kp, panels, aStride, dstStride, epi int, auxOff uintptr)

// The scalar kernels of kernel_wasm.s, which this build assembles too; the tests compare
// against them.
//
//go:noescape
func gemmWasm(dst, a, w, bias *float32, groups, kp, panels, aStride, dstStride, epi int)

//go:noescape
func siluWasm(x *float32, n int)

//go:noescape
func siluDerivWasm(x, y *float32, n int)

//go:noescape
func mulWasm(x, y *float32, n int)

// kernelName says which gemm kernel this build runs.
var kernelName = "simd"

func gemmImpl(dst, a []float32, ly *packedLayer, bias []float32, groups, aStride, dstStride, epi int, aux []float32) {
	var auxOff uintptr
	if epi == epiSiLUDeriv || epi == epiMul {
		auxOff = uintptr(unsafe.Pointer(unsafe.SliceData(aux))) - uintptr(unsafe.Pointer(unsafe.SliceData(dst)))
	}
	// gemmCheck has checked every length the kernel touches.
	gemmSIMD(unsafe.SliceData(dst), unsafe.SliceData(a), unsafe.SliceData(ly.w), unsafe.SliceData(bias),
		groups, ly.kp, ly.np/panelCols, aStride, dstStride, epi, auxOff)
	runtime.KeepAlive(aux)
}
