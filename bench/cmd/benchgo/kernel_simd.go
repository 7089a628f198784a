//go:build !purego && wasm && goexperiment.simd && go1.27

package main

// kernel names the sampler's kernel in this build: WebAssembly SIMD (Go 1.27 with
// GOEXPERIMENT=simd, sampler/kernel_simd_wasm.s).
const kernel = "simd"
