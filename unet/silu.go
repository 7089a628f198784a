package unet

import (
	"math"

	"github.com/flowmatch/flowmatch/internal/fastexp"
)

// SiLU after GroupNorm's affine map, the network's one activation: siLU and normSiLUGo
// here, and normSiLU and normSiLURun, which are normSiLUGo or, in WebAssembly SIMD
// builds, the same float32 operations four lanes at a time (silu_simd_wasm.go), bit
// for bit.

// siLU is z·σ(z) = z/(1 + e^−z), within a few float32 ulps (TestSiLU). NaN stays NaN.
// The sigmoid's e^−z is package fastexp's, its polynomial by Estrin's scheme.
func siLU(z float32) float32 {
	y := -z
	if y < fastexp.Lo { // (a NaN passes both tests and comes out NaN)
		y = fastexp.Lo
	}
	if y > fastexp.Hi {
		y = fastexp.Hi
	}
	t := y*fastexp.Log2E + fastexp.Magic
	n := t - fastexp.Magic
	r := y - n*fastexp.Ln2Hi - n*fastexp.Ln2Lo
	r2 := r * r
	p := (1 + r) + r2*((fastexp.C1+fastexp.C2*r)+r2*((fastexp.C3+fastexp.C4*r)+r2*fastexp.C5))
	return z / (1 + p*math.Float32frombits(math.Float32bits(t)<<23+0x3f800000))
}

// normSiLUGo sets dst[i] = siLU(src[i]·scale + shift).
func normSiLUGo(dst, src []float32, scale, shift float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = siLU(v*scale + shift)
	}
}
