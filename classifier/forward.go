package classifier

import (
	"fmt"
	"runtime"

	"github.com/flowmatch/flowmatch/internal/runs"
	"github.com/flowmatch/flowmatch/sampler"
)

// run computes the features and logits of every image of x, split over the workers in
// contiguous runs; each worker takes its run chunk images at a time.
func (m *Net) run(x []float32, wantFeat, wantLogits bool) (feat, logits []float32) {
	d, H, K := m.Dim(), m.spec.Hidden, m.spec.Classes
	if len(x)%d != 0 {
		panic(fmt.Sprintf("classifier: %d values, not a whole number of %d-pixel images", len(x), d))
	}
	n := len(x) / d
	feat = make([]float32, n*H)
	logits = make([]float32, n*K)
	workers := m.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, (n+chunk-1)/chunk))
	for len(m.kids) < workers {
		m.kids = append(m.kids, &worker{mm: sampler.MatMul{Workers: 1}})
	}
	runs.Split(n, workers, func(i, lo, hi int) {
		for c := lo; c < hi; c += chunk {
			e := min(hi, c+chunk)
			m.forward(m.kids[i], feat[c*H:e*H], logits[c*K:e*K], x[c*d:e*d])
		}
	})
	if !wantFeat {
		feat = nil
	}
	if !wantLogits {
		logits = nil
	}
	return feat, logits
}

// forward computes one chunk of images on one worker. Activations are NHWC, so a
// convolution is one matrix product (rows are pixels, columns output channels), and a
// one-channel image is already NHWC.
func (m *Net) forward(k *worker, feat, logits, x []float32) {
	s := m.spec.Side
	n := len(x) / (s * s)
	src, ci := x, 1
	for l, co := range m.spec.Channels {
		k.a = grow(k.a, n*s*s*co)
		k.b = grow(k.b, n*s*s*co)
		k.col = grow(k.col, colRows*9*co)
		conv3(&k.mm, k.a, src, k.col, m.w3[l][0], m.w[convBias(l, 0)], n, s, ci, co)
		conv3(&k.mm, k.b, k.a, k.col, m.w3[l][1], m.w[convBias(l, 1)], n, s, co, co)
		k.p = grow(k.p, n*(s/2)*(s/2)*co)
		maxPool2(k.p, k.b, n, s, co)
		src, ci, s = k.p, co, s/2
	}
	H, K := m.spec.Hidden, m.spec.Classes
	k.mm.Mul(feat, src, m.fc1, n, ci*s*s, H, sampler.MulOpts{Bias: m.w["fc1.bias"], Epi: sampler.EpiReLU})
	k.mm.Mul(logits, feat, m.w["fc2.weight"], n, H, K, sampler.MulOpts{Bias: m.w["fc2.bias"]})
}

func convBias(l, k int) string { return fmt.Sprintf("l%d.c%d.bias", l, k) }

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// colRows bounds the rows of one im2col block, so the scratch stays a few MB.
const colRows = 2048

// conv3 is PyTorch's Conv2d(ci, co, 3, padding=1) followed by ReLU, on n s×s NHWC
// images: dst (n·s·s × co) from src (n·s·s × ci), w in permute3's layout.
func conv3(mm *sampler.MatMul, dst, src, col, w, bias []float32, n, s, ci, co int) {
	rows, k := n*s*s, ci*9
	for r0 := 0; r0 < rows; r0 += colRows {
		r1 := min(rows, r0+colRows)
		for r := r0; r < r1; r++ {
			im2colRow(col[(r-r0)*k:(r-r0+1)*k], src, r, s, ci)
		}
		mm.Mul(dst[r0*co:r1*co], col, w, r1-r0, k, co, sampler.MulOpts{Bias: bias, Epi: sampler.EpiReLU})
	}
}

// im2colRow writes pixel r's 3×3 neighbourhood into row: for each kernel position
// (row-major) the neighbour's ci channels, zeros outside the image.
func im2colRow(row, src []float32, r, s, ci int) {
	x, y := r%s, (r/s)%s
	base := r - y*s - x
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			dst := row[((dy+1)*3+dx+1)*ci:][:ci]
			yy, xx := y+dy, x+dx
			if yy >= 0 && yy < s && xx >= 0 && xx < s {
				copy(dst, src[(base+yy*s+xx)*ci:][:ci])
			} else {
				clear(dst)
			}
		}
	}
}

// permute3 returns PyTorch's [co, ci, 3, 3] convolution weight as [co, 3, 3, ci], the
// transposed right operand of the product with im2col rows.
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

// flatToNHWC reorders the columns of fc1's weight [h, c·pix] from PyTorch's flatten
// order (channel, then pixel) to NHWC's (pixel, then channel), so the last level's
// activations feed it without a transpose.
func flatToNHWC(w []float32, h, c, pix int) []float32 {
	p := make([]float32, len(w))
	for o := range h {
		row, out := w[o*c*pix:(o+1)*c*pix], p[o*c*pix:(o+1)*c*pix]
		for ch := range c {
			for q := range pix {
				out[q*c+ch] = row[ch*pix+q]
			}
		}
	}
	return p
}

// maxPool2 is PyTorch's MaxPool2d(2) on n s×s NHWC images of c channels.
func maxPool2(dst, src []float32, n, s, c int) {
	o := s / 2
	for b := range n {
		for y := range o {
			for x := range o {
				out := dst[((b*o+y)*o+x)*c:][:c]
				i00 := src[((b*s+2*y)*s+2*x)*c:][:c]
				i01 := src[((b*s+2*y)*s+2*x+1)*c:][:c]
				i10 := src[((b*s+2*y+1)*s+2*x)*c:][:c]
				i11 := src[((b*s+2*y+1)*s+2*x+1)*c:][:c]
				for ch := range c {
					out[ch] = max(i00[ch], i01[ch], i10[ch], i11[ch])
				}
			}
		}
	}
}
