package sampler

// GroupRows is the number of rows in one group of the [Blocked] layout.
const GroupRows = groupRows

// Stride is the number of values one group of b's rows takes in [Blocked.Raw]: the
// columns padded to a multiple of 4, times GroupRows.
func (b *Blocked) Stride() int { return b.wp * groupRows }

// Raw returns b's values in the kernels' own layout, for a caller that fills a Blocked
// straight (an im2col that writes the kernels' operand without Load's row-major copy)
// or reads a product's result in place. Group g (rows g·GroupRows to
// (g+1)·GroupRows−1) starts at g·Stride() and holds each column's GroupRows values in
// turn: column f of row g·GroupRows+r is Raw()[g·Stride() + f·GroupRows + r]. The
// columns past Cols, up to the padding, must hold zeros before b is a product's
// operand (the kernels multiply them by zero weights, and 0·NaN is NaN). The slice
// runs on past the last group over the slack the kernels may read.
func (b *Blocked) Raw() []float32 { return b.data }
