package unet

import "math"

// SiLU after GroupNorm's affine map, the network's one activation: siLU and normSiLUGo
// here, and normSiLU and normSiLURun, which are normSiLUGo or, in WebAssembly SIMD
// builds, the same float32 operations four lanes at a time (silu_simd_wasm.go), bit
// for bit.

// The sigmoid's e^−z, after Cephes' expf as the sampler's kernels have it: y = −z
// clamped to [expLo, expHi], n = round(y·log2 e) by the 1.5·2²³ trick, r = y − n·ln 2 in
// two parts, e^r by a degree-6 polynomial (Estrin's scheme) and 2^n built into the
// exponent bits.
const (
	expLo    = -87.0
	expHi    = 88.0
	expMagic = 12582912.0 // 1.5·2²³
	log2e    = 1.44269504088896341
	ln2Hi    = 0.693359375
	ln2Lo    = -2.12194440e-4
	expC1    = 4.9999993452e-01
	expC2    = 1.6666520689e-01
	expC3    = 4.1668387374e-02
	expC4    = 8.3687099603e-03
	expC5    = 1.3814613100e-03
)

// siLU is z·σ(z) = z/(1 + e^−z), within a few float32 ulps (TestSiLU). NaN stays NaN.
func siLU(z float32) float32 {
	y := -z
	if y < expLo { // (a NaN passes both tests and comes out NaN)
		y = expLo
	}
	if y > expHi {
		y = expHi
	}
	t := y*log2e + expMagic
	n := t - expMagic
	r := y - n*ln2Hi - n*ln2Lo
	r2 := r * r
	p := (1 + r) + r2*((expC1+expC2*r)+r2*((expC3+expC4*r)+r2*expC5))
	return z / (1 + p*math.Float32frombits(math.Float32bits(t)<<23+0x3f800000))
}

// normSiLUGo sets dst[i] = siLU(src[i]·scale + shift).
func normSiLUGo(dst, src []float32, scale, shift float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = siLU(v*scale + shift)
	}
}
