//go:build !purego && amd64 && goexperiment.simd && go1.27 && gosimd

package main

// kernel names the sampler's kernel in this build: the amd64 kernel in Go SIMD
// (simd/archsimd; Go 1.27 with GOEXPERIMENT=simd and the build tag gosimd).
const kernel = "gosimd"
