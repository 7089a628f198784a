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
// padding=1)): dst (n·h·w × co) from src (n·h·w × ci), w in PyTorch's [co, ci, 3, 3]
// layout, which is Bᵀ of the product with the im2col rows (ci·9 values each, in the
// weight's order: channel, then kernel row, then kernel column). col is scratch of at
// least colRows·ci·9 values.
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

// im2colRow writes the 3×3 neighbourhood of pixel r (an index into n·h·w) into row.
func im2colRow(row, src []float32, r, h, wd, ci int) {
	x := r % wd
	y := (r / wd) % h
	base := r - y*wd - x // the sample's first pixel
	for c := range ci {
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				yy, xx := y+dy, x+dx
				v := float32(0)
				if yy >= 0 && yy < h && xx >= 0 && xx < wd {
					v = src[(base+yy*wd+xx)*ci+c]
				}
				row[c*9+(dy+1)*3+dx+1] = v
			}
		}
	}
}

// conv1 computes a 1×1 convolution: dst (pixels × co) = src (pixels × ci) · wᵀ + bias,
// w in PyTorch's [co, ci, 1, 1] layout.
func conv1(mm *sampler.MatMul, dst, src, w, bias []float32, pixels, ci, co int) {
	mm.Mul(dst, src, w, pixels, ci, co, sampler.MulOpts{Bias: bias})
}

// groupNorm computes PyTorch's GroupNorm(groups, c, eps=1e-5) over each sample's hw
// pixels, with the affine gamma and beta, then SiLU when silu is set. The statistics
// are accumulated in float64 over the group's hw·c/groups values (biased variance).
func groupNorm(dst, src, gamma, beta []float32, n, hw, c, groups int, silu bool) {
	cg := c / groups
	for b := range n {
		s := src[b*hw*c : (b+1)*hw*c]
		d := dst[b*hw*c : (b+1)*hw*c]
		for g := range groups {
			c0, c1 := g*cg, (g+1)*cg
			var sum float64
			for p := range hw {
				for _, v := range s[p*c+c0 : p*c+c1] {
					sum += float64(v)
				}
			}
			mean := sum / float64(hw*cg)
			var ss float64
			for p := range hw {
				for _, v := range s[p*c+c0 : p*c+c1] {
					ss += (float64(v) - mean) * (float64(v) - mean)
				}
			}
			inv := 1 / math.Sqrt(ss/float64(hw*cg)+1e-5)
			for ch := c0; ch < c1; ch++ {
				scale := float32(inv) * gamma[ch]
				shift := beta[ch] - float32(mean)*scale
				for p := range hw {
					v := s[p*c+ch]*scale + shift
					if silu {
						v = siLU(v)
					}
					d[p*c+ch] = v
				}
			}
		}
	}
}

func siLU(v float32) float32 { return v / (1 + float32(math.Exp(float64(-v)))) }

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
