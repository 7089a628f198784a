package unet

import "github.com/flowmatch/flowmatch/internal/fastexp"

// SiLU after GroupNorm's affine map, the network's one activation: normSiLUGo here, and
// normSiLU and normSiLURun, which are normSiLUGo or, in WebAssembly SIMD builds, the
// same float32 operations four lanes at a time (silu_simd_wasm.go), bit for bit. The
// SiLU itself is package fastexp's, the sampler's MLP's too.

// normSiLUGo sets dst[i] = SiLU(src[i]·scale + shift).
func normSiLUGo(dst, src []float32, scale, shift float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = v*scale + shift
	}
	fastexp.SiLU(dst)
}
