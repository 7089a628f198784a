package sampler

import "math"

// GaussianTarget is the exact marginal velocity field that a path induces when the data
// are Gaussian, N(Mean, diag(Var)): with x_t = A·x1 + B·x0, x0 ~ N(0, s0² I),
//
//	u_t(x) = E[u_t | x_t = x] = A'·m + C·Σ_t⁻¹·(x − A·m),
//	C = A·A'·Var + B·B'·s0²,  Σ_t = A²·Var + B²·s0²  (per coordinate).
//
// It lets the solvers and the likelihood be tested against closed forms, and gives the
// app a field before any model is trained.
type GaussianTarget struct {
	Path Path
	Mean []float64 // length d
	Var  []float64 // length d, each > 0
}

// Dim is len(Mean).
func (g GaussianTarget) Dim() int { return len(g.Mean) }

// perCoord returns u = slope·x + offset for coordinate j at t, and the marginal's
// mean and variance there.
func (g GaussianTarget) perCoord(j int, t float64) (slope, offset, mean, variance float64) {
	c := g.Path.Coeffs(t)
	s0 := g.Path.SourceStd()
	m, v := g.Mean[j], g.Var[j]
	cov := c.A*c.DA*v + c.B*c.DB*s0*s0
	variance = c.A*c.A*v + c.B*c.B*s0*s0
	slope = cov / variance
	mean = c.A * m
	offset = c.DA*m - slope*mean
	return
}

// Velocity implements [Field].
func (g GaussianTarget) Velocity(dst, x []float32, t float64) {
	d := g.Dim()
	for j := 0; j < d; j++ {
		slope, offset, _, _ := g.perCoord(j, t)
		for i := j; i < len(x); i += d {
			dst[i] = float32(slope*float64(x[i]) + offset)
		}
	}
}

// VelocityDiv implements [DivField]: the divergence is the same at every x.
func (g GaussianTarget) VelocityDiv(dst, div, x []float32, t float64) {
	g.Velocity(dst, x, t)
	sum := 0.0
	for j := range g.Mean {
		slope, _, _, _ := g.perCoord(j, t)
		sum += slope
	}
	for i := range div {
		div[i] = float32(sum)
	}
}

// LogDensity is log p_t(x) of the marginal at time t, the exact answer that
// [LogLikelihood] approximates at t = 1 (for OT with σ_min = 0, p_1 is the data).
func (g GaussianTarget) LogDensity(x []float64, t float64) float64 {
	lp := 0.0
	for j, xj := range x {
		_, _, m, v := g.perCoord(j, t)
		lp += -0.5*math.Log(2*math.Pi*v) - 0.5*(xj-m)*(xj-m)/v
	}
	return lp
}
