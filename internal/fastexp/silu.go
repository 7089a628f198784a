package fastexp

import "math"

// SiLU sets x[i] = x[i]·σ(x[i]) = x[i]/(1 + e^−x[i]), in place: the network's
// activation wherever it is computed in Go (the sampler's MLP, the U-Net). The
// polynomial goes by Estrin's scheme, (1 + r) + r²·((C1 + C2·r) + r²·((C3 + C4·r) +
// r²·C5)), a shorter dependency chain than Horner's; the sampler's assembly and SIMD
// kernels and the U-Net's WebAssembly SIMD SiLU take the same float32 operations in the
// same order, so they give these bits. The relative error is a few float32 ulps
// (TestSiLU); NaN stays NaN.
//
// The loop is written out rather than calling a scalar function per value: one would
// be over the compiler's inlining budget.
func SiLU(x []float32) { silu(x, nil) }

// SiLUDeriv sets x[i] to SiLU's value and d[i] to its derivative there, σ + x·σ·(1 − σ),
// with 1 − σ = e^−x·σ (training's backward pass needs both). d has at least len(x)
// values.
func SiLUDeriv(x, d []float32) { silu(x, d[:len(x)]) }

// silu is SiLU, and SiLUDeriv where d is not nil (the branch goes the same way every
// time, so it costs next to nothing).
func silu(x, d []float32) {
	for i, z := range x {
		y := -z
		if y < Lo { // (a NaN passes both tests and comes out NaN)
			y = Lo
		}
		if y > Hi {
			y = Hi
		}
		t := y*Log2E + Magic
		n := t - Magic
		r := y - n*Ln2Hi - n*Ln2Lo
		r2 := r * r
		p := (1 + r) + r2*((C1+C2*r)+r2*((C3+C4*r)+r2*C5))
		e := p * math.Float32frombits(math.Float32bits(t)<<23+0x3f800000)
		if d == nil {
			x[i] = z / (1 + e)
			continue
		}
		s := 1 / (1 + e)
		zs := z * s
		x[i] = zs
		d[i] = s + zs*(e*s)
	}
}
