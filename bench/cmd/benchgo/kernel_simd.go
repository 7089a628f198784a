//go:build !purego && (wasm || arm64) && goexperiment.simd && go1.27

package main

// kernel names the sampler's kernel in this build: WebAssembly SIMD (Go 1.27 with
// GOEXPERIMENT=simd, sampler/kernel_simd_wasm.s), or on arm64 the NEON kernel in Go
// SIMD (sampler/kernel_archsimd_arm64.go).
const kernel = "simd"
