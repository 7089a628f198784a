package sampler

// Field is a time-dependent velocity field v(x, t) on R^d, evaluated on a batch.
// x and dst are n×d, row-major. Implementations may keep scratch space and need not
// be safe for concurrent use.
type Field interface {
	Dim() int
	Velocity(dst, x []float32, t float64)
}

// DivField is a Field that also knows its exact divergence, for likelihoods.
type DivField interface {
	Field
	// VelocityDiv writes v(x, t) into dst (n×d) and div v(x, t) into div (n values).
	VelocityDiv(dst, div, x []float32, t float64)
}

// JVPField is a Field that can form Jacobian-vector products, for Hutchinson's
// divergence estimator in high dimensions.
type JVPField interface {
	Field
	// VelocityJVP writes v(x, t) into dst and (∂v/∂x)·v into jv, row by row.
	VelocityJVP(dst, jv, x, v []float32, t float64)
}

// FieldFunc adapts a function to a Field of dimension D.
type FieldFunc struct {
	D int
	F func(dst, x []float32, t float64)
}

func (f FieldFunc) Dim() int                             { return f.D }
func (f FieldFunc) Velocity(dst, x []float32, t float64) { f.F(dst, x, t) }
