package sampler

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// LikelihoodOptions configure [LogLikelihood]. The zero value integrates from t = 1 to
// t = 0 with 100 midpoint steps and the exact divergence.
type LikelihoodOptions struct {
	// Solver options; T0 and T1 default to the path's TMax and 0 (backwards).
	Solver Options
	// Hutchinson estimates the divergence as εᵀ(∂v/∂x)ε with Rademacher ε, one draw per
	// point held fixed over the whole solve, for when d is too large for the exact trace.
	// It needs a [JVPField]. Seed seeds the draws.
	Hutchinson bool
	Seed       uint64
}

// LogLikelihood computes log p_1(x) for each row of x (n×d) by the continuity equation:
// integrating dx/dt = v and dℓ/dt = div v backwards from x at t = T0 to t = T1 (the path's
// TMax to 0 by default) gives log p_1(x) = log p_0(x_0) + ℓ(T1) with ℓ(T0) = 0, where p_0
// is the source N(0, s0² I). x is left unchanged; the answer has n entries.
func LogLikelihood(f Field, path Path, x []float32, opt LikelihoodOptions) ([]float64, Stats, error) {
	d := f.Dim()
	if d < 1 || len(x)%d != 0 {
		return nil, Stats{}, fmt.Errorf("sampler: likelihood: batch length %d is not a multiple of dim %d", len(x), d)
	}
	n := len(x) / d
	so := opt.Solver
	if so.T0 == 0 && so.T1 == 0 {
		so.T0, so.T1 = path.TMax(), 0
	}
	aug := &augmented{f: f, d: d, n: n, xs: make([]float32, n*d), vs: make([]float32, n*d), div: make([]float32, n)}
	switch ff := f.(type) {
	case DivField:
		if !opt.Hutchinson {
			aug.exact = ff
		}
	}
	if aug.exact == nil {
		jf, ok := f.(JVPField)
		if !ok {
			if opt.Hutchinson {
				return nil, Stats{}, fmt.Errorf("sampler: likelihood: Hutchinson's estimator needs a field with Jacobian-vector products")
			}
			return nil, Stats{}, fmt.Errorf("sampler: likelihood: the field has no divergence")
		}
		aug.jvp = jf
		aug.eps = make([]float32, n*d)
		aug.jv = make([]float32, n*d)
		rng := rand.New(rand.NewPCG(opt.Seed, 0x9e3779b97f4a7c15))
		for i := range aug.eps {
			aug.eps[i] = float32(2*rng.IntN(2) - 1)
		}
	}
	state := make([]float32, n*(d+1))
	for i := 0; i < n; i++ {
		copy(state[i*(d+1):i*(d+1)+d], x[i*d:(i+1)*d])
	}
	if so.OnStep != nil {
		user := so.OnStep
		so.OnStep = func(t float64, s []float32) {
			aug.unpack(s)
			user(t, aug.xs)
		}
	}
	st, err := Solve(aug, state, so)
	if err != nil {
		return nil, st, fmt.Errorf("sampler: likelihood: %w", err)
	}
	s0 := path.SourceStd()
	out := make([]float64, n)
	for i := range out {
		row := state[i*(d+1) : (i+1)*(d+1)]
		lp := 0.0
		for j := 0; j < d; j++ {
			z := float64(row[j]) / s0
			lp += -0.5*z*z - 0.5*math.Log(2*math.Pi) - math.Log(s0)
		}
		out[i] = lp + float64(row[d])
		if bad(out[i]) {
			return nil, st, fmt.Errorf("sampler: likelihood: point %d gave a non-finite log-likelihood", i)
		}
	}
	return out, st, nil
}

// augmented is the (d+1)-dimensional field (v, div v) that the likelihood integrates.
type augmented struct {
	f       Field
	exact   DivField
	jvp     JVPField
	d, n    int
	xs, vs  []float32
	div     []float32
	eps, jv []float32
}

func (a *augmented) Dim() int { return a.d + 1 }

func (a *augmented) unpack(s []float32) {
	for i := 0; i < a.n; i++ {
		copy(a.xs[i*a.d:(i+1)*a.d], s[i*(a.d+1):i*(a.d+1)+a.d])
	}
}

func (a *augmented) Velocity(dst, s []float32, t float64) {
	a.unpack(s)
	d := a.d
	if a.exact != nil {
		a.exact.VelocityDiv(a.vs, a.div, a.xs, t)
	} else {
		a.jvp.VelocityJVP(a.vs, a.jv, a.xs, a.eps, t)
		for i := 0; i < a.n; i++ {
			acc := float32(0)
			for j := i * d; j < (i+1)*d; j++ {
				acc += a.eps[j] * a.jv[j]
			}
			a.div[i] = acc
		}
	}
	for i := 0; i < a.n; i++ {
		copy(dst[i*(d+1):i*(d+1)+d], a.vs[i*d:(i+1)*d])
		dst[i*(d+1)+d] = a.div[i]
	}
}
