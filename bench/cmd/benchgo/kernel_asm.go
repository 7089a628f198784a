//go:build !purego && ((amd64 && !(goexperiment.simd && go1.27 && gosimd)) || (wasm && !(goexperiment.simd && go1.27)))

package main

// kernel names the sampler's kernel in this build: assembly (AVX-512 or AVX2/FMA on
// amd64 CPUs that have them, scalar WebAssembly under js/wasm).
const kernel = "asm"
