//go:build purego || !(amd64 || wasm)

package main

// kernel names the sampler's kernel in this build: the pure-Go tiles.
const kernel = "purego"
