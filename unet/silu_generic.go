//go:build !(goexperiment.simd && go1.27 && wasm)

package unet

// normSiLU sets dst[i] = SiLU(src[i]·scale + shift).
func normSiLU(dst, src []float32, scale, shift float32) { normSiLUGo(dst, src, scale, shift) }

// normSiLURun is normSiLU on one run of m values of each of the len(scale) channels of
// a blocked group: channel ch's values at src[ch·G:] go to dst[ch·planeLen:], with
// scale[ch] and shift[ch].
func normSiLURun(dst []float32, planeLen int, src []float32, m int, scale, shift []float32) {
	for ch := range scale {
		normSiLUGo(dst[ch*planeLen:ch*planeLen+m], src[ch*G:ch*G+m], scale[ch], shift[ch])
	}
}

// copyG copies one group's run of a column.
func copyG(dst, src *[G]float32) { *dst = *src }
