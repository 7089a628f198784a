package sampler

import (
	"fmt"
	"math"
)

// PathSpec names a probability path and its parameters. The zero value of each
// parameter means "the default for that path", listed beside it.
type PathSpec struct {
	Name     string  `json:"name"`                // "ot", "vp" or "ve"
	SigmaMin float64 `json:"sigma_min,omitempty"` // ot: σ_min (default 0); ve: σ_min (default 0.01)
	SigmaMax float64 `json:"sigma_max,omitempty"` // ve: σ_max (default 10)
	BetaMin  float64 `json:"beta_min,omitempty"`  // vp: β_min (default 0.1)
	BetaMax  float64 `json:"beta_max,omitempty"`  // vp: β_max (default 20)
	// Eps keeps the singular paths (vp, ve) on [0, 1−Eps]; default 1e-3. Unused by ot.
	Eps float64 `json:"eps,omitempty"`
}

// Coeffs are a path's coefficients at one time t:
// x_t = A·x1 + B·x0 and u_t = DA·x1 + DB·x0.
type Coeffs struct {
	A, B, DA, DB float64
}

// Path is a Gaussian conditional probability path p_t(x|x1) = N(A(t)·x1, B(t)²·s0² I):
// noise x0 ~ N(0, s0² I), with s0 = SourceStd(), is carried to data x1 by
// x_t = A(t)·x1 + B(t)·x0. Training draws x0 from that same N(0, s0² I), and sampling
// starts from it at t = 0 (where A(0)·x1 is zero for OT, about 0.007·x1 for VP, and
// x1 itself for VE, small against σ_max: the approximation every diffusion path makes).
type Path interface {
	// Spec returns the path's parameters with every default filled in.
	Spec() PathSpec
	// Coeffs returns A, B and their time derivatives at t.
	Coeffs(t float64) Coeffs
	// TMax is the last time at which the path is well defined: 1 for OT, 1−Eps for
	// the diffusion paths, whose target velocity is singular at t = 1.
	TMax() float64
	// SourceStd is the standard deviation s0 of the source N(0, s0² I) that x0 is drawn
	// from, in training and when sampling starts: 1, except σ_max for VE.
	SourceStd() float64
}

// Path names, as used in files and on command lines.
const (
	PathOT = "ot"
	PathVP = "vp"
	PathVE = "ve"
)

// PathNames lists the paths NewPath knows.
func PathNames() []string { return []string{PathOT, PathVP, PathVE} }

// NewPath builds the path that spec describes, filling in defaults.
func NewPath(spec PathSpec) (Path, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("sampler: path %q: %s", spec.Name, fmt.Sprintf(format, a...))
	}
	finite := func(v ...float64) bool {
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return false
			}
		}
		return true
	}
	if !finite(spec.SigmaMin, spec.SigmaMax, spec.BetaMin, spec.BetaMax, spec.Eps) {
		return nil, bad("parameters must be finite")
	}
	if spec.Eps == 0 && spec.Name != PathOT {
		spec.Eps = 1e-3
	}
	if spec.Eps < 0 || spec.Eps >= 0.5 {
		return nil, bad("eps %g outside [0, 0.5)", spec.Eps)
	}
	switch spec.Name {
	case PathOT:
		if spec.SigmaMin < 0 || spec.SigmaMin >= 1 {
			return nil, bad("sigma_min %g outside [0, 1)", spec.SigmaMin)
		}
		spec.Eps = 0
		return otPath{spec}, nil
	case PathVP:
		if spec.BetaMin == 0 {
			spec.BetaMin = 0.1
		}
		if spec.BetaMax == 0 {
			spec.BetaMax = 20
		}
		if spec.BetaMin <= 0 || spec.BetaMax < spec.BetaMin {
			return nil, bad("need 0 < beta_min <= beta_max, got %g, %g", spec.BetaMin, spec.BetaMax)
		}
		return vpPath{spec}, nil
	case PathVE:
		if spec.SigmaMin == 0 {
			spec.SigmaMin = 0.01
		}
		if spec.SigmaMax == 0 {
			spec.SigmaMax = 10
		}
		if spec.SigmaMin <= 0 || spec.SigmaMax <= spec.SigmaMin {
			return nil, bad("need 0 < sigma_min < sigma_max, got %g, %g", spec.SigmaMin, spec.SigmaMax)
		}
		return vePath{spec}, nil
	}
	return nil, fmt.Errorf("sampler: unknown path %q (want one of %v)", spec.Name, PathNames())
}

// otPath is CondOT: μ_t = t·x1, σ_t = 1 − (1 − σ_min)t.
type otPath struct{ s PathSpec }

func (p otPath) Spec() PathSpec     { return p.s }
func (p otPath) TMax() float64      { return 1 }
func (p otPath) SourceStd() float64 { return 1 }
func (p otPath) Coeffs(t float64) Coeffs {
	k := 1 - p.s.SigmaMin
	return Coeffs{A: t, B: 1 - k*t, DA: 1, DB: -k}
}

// vpPath is the variance-preserving diffusion path: with s = 1 − t,
// μ_t = α_s·x1, σ_t = sqrt(1 − α_s²), α_s = exp(−T(s)/2), T(s) = ∫₀ˢ β,
// β(s) = β_min + s(β_max − β_min).
type vpPath struct{ s PathSpec }

func (p vpPath) Spec() PathSpec     { return p.s }
func (p vpPath) TMax() float64      { return 1 - p.s.Eps }
func (p vpPath) SourceStd() float64 { return 1 }
func (p vpPath) Coeffs(t float64) Coeffs {
	s := 1 - t
	d := p.s.BetaMax - p.s.BetaMin
	T := p.s.BetaMin*s + 0.5*d*s*s
	beta := p.s.BetaMin + d*s
	alpha := math.Exp(-0.5 * T)
	// 1 − α² computed as −expm1(−T) keeps precision near t = 1, where it is tiny.
	oneMinus := -math.Expm1(-T)
	sigma := math.Sqrt(oneMinus)
	// dα_s/dt = −dα/ds = β(s)·α/2.
	da := 0.5 * beta * alpha
	return Coeffs{A: alpha, B: sigma, DA: da, DB: -alpha * da / sigma}
}

// vePath is the variance-exploding diffusion path: μ_t = x1, σ_t = σ_{1−t},
// σ_s = σ_min(σ_max/σ_min)^s. Its source is N(0, σ_max² I), so that with
// x0 drawn from it, B(t) = σ_{1−t}/σ_max and x_t = x1 + σ_{1−t}·(x0/σ_max).
type vePath struct{ s PathSpec }

func (p vePath) Spec() PathSpec     { return p.s }
func (p vePath) TMax() float64      { return 1 - p.s.Eps }
func (p vePath) SourceStd() float64 { return p.s.SigmaMax }
func (p vePath) Coeffs(t float64) Coeffs {
	l := math.Log(p.s.SigmaMax / p.s.SigmaMin)
	b := math.Exp(-l * t) // σ_{1−t}/σ_max
	return Coeffs{A: 1, B: b, DA: 0, DB: -l * b}
}

// Interpolate fills xt and ut with the path's point and target velocity for each row:
// xt[i] = A(t[i])·x1[i] + B(t[i])·x0[i], ut[i] = A'(t[i])·x1[i] + B'(t[i])·x0[i].
// x0, x1, xt and ut are n×d; t has n entries. The trainer computes its regression
// targets with this function, so the two cannot drift apart.
func Interpolate(p Path, xt, ut, x0, x1 []float32, t []float64) error {
	n := len(t)
	if n == 0 {
		return nil
	}
	if len(x0) != len(x1) || len(xt) != len(x0) || len(ut) != len(x0) || len(x0)%n != 0 {
		return fmt.Errorf("sampler: Interpolate: lengths x0 %d, x1 %d, xt %d, ut %d do not fit %d times",
			len(x0), len(x1), len(xt), len(ut), n)
	}
	d := len(x0) / n
	for i, ti := range t {
		c := p.Coeffs(ti)
		for j := i * d; j < (i+1)*d; j++ {
			a, b := float64(x1[j]), float64(x0[j])
			xt[j] = float32(c.A*a + c.B*b)
			ut[j] = float32(c.DA*a + c.DB*b)
		}
	}
	return nil
}
