package sampler

import "fmt"

// Packed is a layer's weight and bias packed once into the kernels' panels, for
// products straight on blocked slices ([Packed.MulGroups]) that the caller cuts into
// chunks of its own: a convolution that writes its im2col a few groups at a time, so
// that the operand is still in cache when the kernel reads it, and that does not
// repack its weight at every call as MatMul does.
type Packed struct {
	ly packedLayer
}

// Pack packs w (n×k, row-major: Bᵀ, PyTorch's layout of a Linear layer's weight) and
// bias (n values; nil adds zeros). It panics if a slice is shorter than its shape
// says.
func Pack(w, bias []float32, n, k int) *Packed {
	if k < 1 || n < 1 || len(w) < n*k || (bias != nil && len(bias) < n) {
		panic(fmt.Sprintf("sampler: Pack: bad shapes (n %d k %d, lens w %d bias %d)", n, k, len(w), len(bias)))
	}
	b := make([]float32, n)
	copy(b, bias)
	return &Packed{ly: packLayer(w, b, n, k)}
}

// MulGroups computes groups groups of GroupRows rows of the product A·B + bias: group
// g's k inputs are a[g·aStride:], blocked as in [Blocked.Raw] (the padding columns up
// to a multiple of 4 zero), and its n outputs go to dst[g·dstStride:], blocked, the
// padding columns zero. aStride must be at least the padded k times GroupRows and
// dstStride the padded n times GroupRows; a must run on GroupRows values past the
// last group's padded inputs (the slack the kernels may read). Every row's outputs
// depend on that row alone. It panics if a slice is too short for its shape.
func (p *Packed) MulGroups(dst []float32, dstStride int, a []float32, aStride, groups int) {
	gemm(dst, a, &p.ly, p.ly.b, groups, aStride, dstStride, epiNone, nil)
}

// Stride is the number of values of one group of a blocked matrix of cols columns:
// cols padded to a multiple of 4, times GroupRows.
func Stride(cols int) int { return padCols(cols) * groupRows }
