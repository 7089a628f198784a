//go:build purego || !(amd64 || wasm || (arm64 && goexperiment.simd && go1.27))

package main

// kernel names the sampler's kernel in this build: the pure-Go tiles.
const kernel = "purego"
