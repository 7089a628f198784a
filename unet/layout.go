package unet

import "github.com/flowmatch/flowmatch/sampler"

// G is the number of rows in a group of the gemm kernels' blocked layout.
const G = sampler.GroupRows

// geom is one level's padded layout of a batch of n images of h×w pixels: the images
// stacked top to bottom, each pixel row followed by one zero column and each image by
// one zero row (and one zero row above the first). A position is an index into that
// padded stack, row-major; every 3×3 neighbour of a pixel is then a fixed offset away
// (±wp ± 1), and the convolution's zero padding is already in place. Convolutions
// compute every position of the stack (those in the padding too, where nothing reads
// them): so the im2col rows of a group of G consecutive positions are, for each kernel
// position and channel, G consecutive values of that channel's plane, one copy.
//
// Activations live in two forms: blocked (sampler.Blocked, a product's operand and
// result: positions in groups of G, each group channel-major), and planes (one plane
// of planeLen values per channel, the positions after margin zeros and followed by as
// many, zero outside the images), which GroupNorm writes and the im2col reads.
type geom struct {
	n, h, w int
	wp      int // padded row: w + 1
	rows    int // positions: (n(h+1)+1)·wp
	groups  int // ⌈rows/G⌉
	margin  int // zeros before and after a plane's positions, the largest offset
}

func newGeom(n, h, w int) geom {
	wp := w + 1
	rows := (n*(h+1) + 1) * wp
	return geom{n: n, h: h, w: w, wp: wp, rows: rows, groups: (rows + G - 1) / G, margin: wp + 1}
}

// pos is the position of pixel (y, x) of image b.
func (g geom) pos(b, y, x int) int { return (b*(g.h+1)+1+y)*g.wp + x }

// planeLen is the number of values of one channel's plane.
func (g geom) planeLen() int { return g.groups*G + 2*g.margin }

// at is the index of position p, channel ch, in a blocked matrix of the given stride.
func at(p, ch, stride int) int { return p/G*stride + ch*G + p%G }

// runs calls f for each run of one image row's pixels that lies in one group: image
// b, the run's first position p, and its length (at most G). A row of w pixels makes
// at most ⌈w/G⌉+1 runs.
func (g geom) runs(f func(b, p, n int)) {
	for b := range g.n {
		for y := range g.h {
			p, end := g.pos(b, y, 0), g.pos(b, y, g.w)
			for p < end {
				n := min(end-p, G-p%G)
				f(b, p, n)
				p += n
			}
		}
	}
}

// dupImages writes the images of src (blocked, of stride ss, geometry gk of k images,
// c channels) into dst (stride ds, the geometry of 2k images) twice, as images 0 … k−1
// and k … 2k−1; only the images' pixels are written, and dst's padding columns.
func dupImages(dst []float32, ds int, src []float32, ss int, gk geom, c int) {
	second := gk.n * (gk.h + 1) * gk.wp // image k's first position less image 0's
	clearPadding(dst, ds, newGeom(2*gk.n, gk.h, gk.w).groups, c)
	gk.runs(func(_, p, m int) {
		for ch := range c {
			seg := src[at(p, ch, ss):][:m]
			copy(dst[at(p, ch, ds):][:m], seg)
			q, rest := p+second, seg
			for len(rest) > 0 {
				n := min(len(rest), G-q%G)
				copy(dst[at(q, ch, ds):][:n], rest[:n])
				q, rest = q+n, rest[n:]
			}
		}
	})
}
