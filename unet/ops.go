package unet

import (
	"math"

	"github.com/flowmatch/flowmatch/sampler"
)

// The operations work on batches of images stored NHWC: sample, row, column, then
// channel fastest, so that a convolution is one matrix product whose rows are pixels
// and whose columns are output channels, and the result is NHWC again.

// colRows bounds the rows of one im2col block, so the scratch stays a few MB whatever
// the batch.
const colRows = 2048

// conv3 computes a 3×3 convolution with zero padding 1 (PyTorch's Conv2d(ci, co, 3,
// padding=1)): dst (n·h·w × co) from src (n·h·w × ci). w is the weight in
// kernel-position-major layout [co, 3, 3, ci] (see permute3), Bᵀ of the product with the
// im2col rows, each the nine neighbours' ci channels one after another, so that a row
// is nine contiguous copies from NHWC. col is scratch of at least colRows·ci·9 values.
func conv3(mm *sampler.MatMul, dst, src, col, w, bias []float32, n, h, wd, ci, co int) {
	rows, k := n*h*wd, ci*9
	for r0 := 0; r0 < rows; r0 += colRows {
		r1 := min(rows, r0+colRows)
		for r := r0; r < r1; r++ {
			im2colRow(col[(r-r0)*k:(r-r0+1)*k], src, r, h, wd, ci)
		}
		mm.Mul(dst[r0*co:r1*co], col, w, r1-r0, k, co, sampler.MulOpts{Bias: bias})
	}
}

// im2colRow writes the 3×3 neighbourhood of pixel r (an index into n·h·w) into row:
// for each kernel position (row-major), the neighbour's ci channels, zeros outside.
func im2colRow(row, src []float32, r, h, wd, ci int) {
	x := r % wd
	y := (r / wd) % h
	base := r - y*wd - x // the sample's first pixel
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			dst := row[((dy+1)*3+dx+1)*ci:][:ci]
			yy, xx := y+dy, x+dx
			if yy >= 0 && yy < h && xx >= 0 && xx < wd {
				copy(dst, src[(base+yy*wd+xx)*ci:][:ci])
			} else {
				clear(dst)
			}
		}
	}
}

// permute3 returns a 3×3 convolution's weight, PyTorch's [co, ci, 3, 3], in conv3's
// [co, 3, 3, ci] layout.
func permute3(w []float32, co, ci int) []float32 {
	p := make([]float32, len(w))
	for o := range co {
		for c := range ci {
			for k := range 9 {
				p[(o*9+k)*ci+c] = w[(o*ci+c)*9+k]
			}
		}
	}
	return p
}

// conv1 computes a 1×1 convolution: dst (pixels × co) = src (pixels × ci) · wᵀ + bias,
// w in PyTorch's [co, ci, 1, 1] layout.
func conv1(mm *sampler.MatMul, dst, src, w, bias []float32, pixels, ci, co int) {
	mm.Mul(dst, src, w, pixels, ci, co, sampler.MulOpts{Bias: bias})
}

// groupNorm computes PyTorch's GroupNorm(groups, c, eps=1e-5) over each sample's hw
// pixels, with the affine gamma and beta, then SiLU when silu is set. The statistics
// are accumulated in float64 (per channel, pixel by pixel, then per group), the variance
// biased and two-pass. st is scratch of at least 3c values.
func groupNorm(dst, src, gamma, beta []float32, n, hw, c, groups int, silu bool, st []float64) {
	cg := c / groups
	sum, ss := st[:c], st[c:2*c]
	scale, shift := make([]float32, c), make([]float32, c) // small: one per channel
	mean := st[2*c : 3*c]
	for b := range n {
		s := src[b*hw*c : (b+1)*hw*c]
		d := dst[b*hw*c : (b+1)*hw*c]
		clear(sum)
		for p := range hw {
			for ch, v := range s[p*c : (p+1)*c] {
				sum[ch] += float64(v)
			}
		}
		for g := range groups {
			var t float64
			for _, v := range sum[g*cg : (g+1)*cg] {
				t += v
			}
			for ch := g * cg; ch < (g+1)*cg; ch++ {
				mean[ch] = t / float64(hw*cg)
			}
		}
		clear(ss)
		for p := range hw {
			for ch, v := range s[p*c : (p+1)*c] {
				e := float64(v) - mean[ch]
				ss[ch] += e * e
			}
		}
		for g := range groups {
			var t float64
			for _, v := range ss[g*cg : (g+1)*cg] {
				t += v
			}
			inv := 1 / math.Sqrt(t/float64(hw*cg)+1e-5)
			for ch := g * cg; ch < (g+1)*cg; ch++ {
				scale[ch] = float32(inv) * gamma[ch]
				shift[ch] = beta[ch] - float32(mean[ch])*scale[ch]
			}
		}
		for p := range hw {
			row, out := s[p*c:(p+1)*c], d[p*c:(p+1)*c]
			for ch, v := range row {
				out[ch] = v*scale[ch] + shift[ch]
			}
			if silu {
				for ch, v := range out {
					out[ch] = siLU(v)
				}
			}
		}
	}
}

// siLU is z·σ(z) = z/(1 + e^−z), with e^−z from expf.
func siLU(v float32) float32 {
	if v < -80 {
		return 0 // |z·e^z| < 2e-33
	}
	return v / (1 + expf(-v))
}

// expf is e^x in float32 for −87.3 ≤ x ≤ 88.7 (Cephes' expf: x = k·ln 2 + r, |r| ≤
// ln 2 / 2, a degree-6 polynomial for e^r), within 2 ulp; above it returns +Inf, below
// 0 (e^−87.3 is the smallest normal float32). It is
// several times faster than math.Exp in float64, which dominated the forward pass.
func expf(x float32) float32 {
	switch {
	case x > 88.7:
		return float32(math.Inf(1))
	case x < -87.3:
		return 0
	}
	k := float32(math.Floor(float64(x*1.44269504088896341 + 0.5)))
	x -= k * 0.693359375
	x -= k * -2.12194440e-4
	z := x * x
	y := ((((1.9875691500e-4*x+1.3981999507e-3)*x+8.3334519073e-3)*x+4.1665795894e-2)*x+1.6666665459e-1)*x + 5.0000001201e-1
	y = y*z + x + 1
	return y * math.Float32frombits(uint32(int32(k)+127)<<23)
}

// addShift adds shift[b, ch] (n × c) to every pixel of sample b, channel ch.
func addShift(x, shift []float32, n, hw, c int) {
	for b := range n {
		sh := shift[b*c : (b+1)*c]
		for p := range hw {
			row := x[(b*hw+p)*c : (b*hw+p+1)*c]
			for ch, v := range sh {
				row[ch] += v
			}
		}
	}
}

// avgPool2 is PyTorch's avg_pool2d(x, 2) for even h and w: dst is n × h/2 × w/2 × c.
func avgPool2(dst, src []float32, n, h, w, c int) {
	oh, ow := h/2, w/2
	for b := range n {
		for y := range oh {
			for x := range ow {
				o := dst[((b*oh+y)*ow+x)*c:][:c]
				i00 := src[((b*h+2*y)*w+2*x)*c:][:c]
				i01 := src[((b*h+2*y)*w+2*x+1)*c:][:c]
				i10 := src[((b*h+2*y+1)*w+2*x)*c:][:c]
				i11 := src[((b*h+2*y+1)*w+2*x+1)*c:][:c]
				for ch := range c {
					o[ch] = (i00[ch] + i01[ch] + i10[ch] + i11[ch]) * 0.25
				}
			}
		}
	}
}

// upsample2 is PyTorch's interpolate(x, scale_factor=2) (nearest): dst is
// n × 2h × 2w × c.
func upsample2(dst, src []float32, n, h, w, c int) {
	oh, ow := 2*h, 2*w
	for b := range n {
		for y := range oh {
			for x := range ow {
				copy(dst[((b*oh+y)*ow+x)*c:][:c], src[((b*h+y/2)*w+x/2)*c:][:c])
			}
		}
	}
}

// concat writes, for each pixel, a's ca channels then b's cb channels (PyTorch's
// cat([a, b], 1)).
func concat(dst, a, b []float32, pixels, ca, cb int) {
	c := ca + cb
	for p := range pixels {
		copy(dst[p*c:p*c+ca], a[p*ca:(p+1)*ca])
		copy(dst[p*c+ca:(p+1)*c], b[p*cb:(p+1)*cb])
	}
}

// timeFeatures writes pytorch_fmnist.py's sinusoidal features of each t into dst
// (n × f): with half = f/2 and φ_k = 1000·t·exp(−ln(10⁴)·k/half), sin φ_0 … sin φ_{half−1},
// then cos φ_0 … cos φ_{half−1}; computed in float64.
func timeFeatures(dst []float32, t []float64, f int) {
	half := f / 2
	for b, tb := range t {
		row := dst[b*f : (b+1)*f]
		for k := range half {
			phi := 1000 * tb * math.Exp(-math.Log(10000)*float64(k)/float64(half))
			row[k], row[half+k] = float32(math.Sin(phi)), float32(math.Cos(phi))
		}
	}
}
