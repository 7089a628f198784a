package sampler

import (
	"math"
	"testing"
)

func allPaths(t *testing.T) []Path {
	t.Helper()
	var ps []Path
	for _, s := range []PathSpec{
		{Name: PathOT}, {Name: PathOT, SigmaMin: 0.01}, {Name: PathOT, SigmaMin: 0.2},
		{Name: PathVP}, {Name: PathVP, BetaMin: 0.5, BetaMax: 5, Eps: 1e-4},
		{Name: PathVE}, {Name: PathVE, SigmaMin: 0.002, SigmaMax: 50, Eps: 1e-5},
	} {
		p, err := NewPath(s)
		if err != nil {
			t.Fatalf("NewPath(%+v): %v", s, err)
		}
		ps = append(ps, p)
	}
	return ps
}

func TestPathBoundaries(t *testing.T) {
	for _, p := range allPaths(t) {
		s := p.Spec()
		c0, c1 := p.Coeffs(0), p.Coeffs(p.TMax())
		switch s.Name {
		case PathOT:
			// x_0 = x0 and x_1 = x1 + σ_min x0.
			near(t, "ot A(0)", c0.A, 0, 0)
			near(t, "ot B(0)", c0.B, 1, 0)
			near(t, "ot A(1)", c1.A, 1, 0)
			near(t, "ot B(1)", c1.B, s.SigmaMin, 1e-15)
		case PathVP:
			// At t = 0, A = α_1 = exp(−T(1)/2) and A² + B² = 1; at t → 1, the data.
			a1 := math.Exp(-0.5 * (s.BetaMin + 0.5*(s.BetaMax-s.BetaMin)))
			near(t, "vp A(0)", c0.A, a1, 1e-15)
			near(t, "vp A²+B² at 0", c0.A*c0.A+c0.B*c0.B, 1, 1e-15)
			if math.Abs(c1.A-1) > 1e-2 || c1.B > 0.1 {
				t.Errorf("vp at TMax: A %g, B %g, want ≈ 1, 0", c1.A, c1.B)
			}
		case PathVE:
			near(t, "ve A", c0.A, 1, 0)
			// B(t)·s0 is σ_{1−t}: σ_max at t = 0, σ_min at t = 1.
			near(t, "ve σ at 0", c0.B*p.SourceStd(), s.SigmaMax, 1e-12*s.SigmaMax)
			near(t, "ve σ at 1", p.Coeffs(1).B*p.SourceStd(), s.SigmaMin, 1e-12)
		}
		if p.TMax() > 1 || p.TMax() < 0.5 {
			t.Errorf("%s: TMax %g", s.Name, p.TMax())
		}
	}
}

// TestPathDerivatives checks DA and DB against central differences of A and B, which
// is u_t = dψ_t/dt for the flow map ψ_t(x0) = B·x0 + A·x1.
func TestPathDerivatives(t *testing.T) {
	for _, p := range allPaths(t) {
		for _, tt := range grid(0.001, p.TMax()-0.001, 97) {
			h := 1e-6
			cp, cm, c := p.Coeffs(tt+h), p.Coeffs(tt-h), p.Coeffs(tt)
			fdA, fdB := (cp.A-cm.A)/(2*h), (cp.B-cm.B)/(2*h)
			tol := 1e-6 * (1 + math.Abs(c.DB) + math.Abs(c.DA))
			near(t, p.Spec().Name+" DA", c.DA, fdA, tol)
			near(t, p.Spec().Name+" DB", c.DB, fdB, tol)
		}
	}
}

// TestPathTheorem3 checks the conditional velocity DA·x1 + DB·x0 against Theorem 3's
// general form u_t(x|x1) = σ'_t/σ_t (x − μ_t) + μ'_t at x = ψ_t(x0), and against the
// slides' closed forms for each path.
func TestPathTheorem3(t *testing.T) {
	for _, p := range allPaths(t) {
		s := p.Spec()
		for _, tt := range grid(0, p.TMax(), 41) {
			c := p.Coeffs(tt)
			if c.B == 0 {
				continue // OT with σ_min = 0 at t = 1: Theorem 3's form is 0/0 there
			}
			for _, pt := range [][2]float64{{0.3, -1.2}, {-2, 0.7}, {1.5, 1.5}} {
				x1, x0 := pt[0], pt[1]*p.SourceStd()
				x := c.A*x1 + c.B*x0
				u := c.DA*x1 + c.DB*x0
				sigma, dsigma := c.B*p.SourceStd(), c.DB*p.SourceStd()
				th3 := dsigma/sigma*(x-c.A*x1) + c.DA*x1
				near(t, s.Name+" theorem 3", u, th3, 1e-9*(1+math.Abs(u)))
				var closed float64
				switch s.Name {
				case PathOT:
					k := 1 - s.SigmaMin
					closed = (x1 - k*x) / (1 - k*tt)
				case PathVE:
					// u = −σ'_{1−t}/σ_{1−t} (x − x1), σ'_s = σ_s ln(σ_max/σ_min).
					closed = -math.Log(s.SigmaMax/s.SigmaMin) * (x - x1)
				case PathVP:
					// u = α'_{1−t}/(1 − α²_{1−t}) (α_{1−t} x − x1), α'_s = −β(s)α_s/2.
					sv := 1 - tt
					T := s.BetaMin*sv + 0.5*(s.BetaMax-s.BetaMin)*sv*sv
					beta := s.BetaMin + (s.BetaMax-s.BetaMin)*sv
					alpha := math.Exp(-T / 2)
					dalpha := -beta * alpha / 2
					closed = dalpha / (1 - alpha*alpha) * (alpha*x - x1)
				}
				near(t, s.Name+" closed form", u, closed, 1e-8*(1+math.Abs(u)))
			}
		}
	}
}

func TestPathFiniteOnRange(t *testing.T) {
	for _, p := range allPaths(t) {
		for _, tt := range append(grid(0, p.TMax(), 1001), p.TMax()) {
			c := p.Coeffs(tt)
			for _, v := range []float64{c.A, c.B, c.DA, c.DB} {
				if bad(v) {
					t.Fatalf("%s at t=%g: %+v", p.Spec().Name, tt, c)
				}
			}
			if c.B <= 0 && !(p.Spec().Name == PathOT && p.Spec().SigmaMin == 0 && tt == 1) {
				t.Fatalf("%s at t=%g: B = %g, want > 0", p.Spec().Name, tt, c.B)
			}
		}
	}
}

func TestNewPathErrors(t *testing.T) {
	for _, s := range []PathSpec{
		{Name: "diffusion"}, {Name: ""}, {Name: PathOT, SigmaMin: 1}, {Name: PathOT, SigmaMin: -0.1},
		{Name: PathVP, BetaMin: -1}, {Name: PathVP, BetaMin: 5, BetaMax: 1},
		{Name: PathVE, SigmaMin: 2, SigmaMax: 1}, {Name: PathVE, Eps: 0.7},
		{Name: PathOT, SigmaMin: math.NaN()},
	} {
		if _, err := NewPath(s); err == nil {
			t.Errorf("NewPath(%+v): no error", s)
		}
	}
}

func TestInterpolate(t *testing.T) {
	p, _ := NewPath(PathSpec{Name: PathVP})
	x0 := []float32{1, 2, 3, 4}
	x1 := []float32{-1, 0.5, 2, -3}
	ts := []float64{0.25, 0.9}
	xt, ut := make([]float32, 4), make([]float32, 4)
	if err := Interpolate(p, xt, ut, x0, x1, ts); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		c := p.Coeffs(ts[i/2])
		near(t, "xt", float64(xt[i]), c.A*float64(x1[i])+c.B*float64(x0[i]), 1e-6)
		near(t, "ut", float64(ut[i]), c.DA*float64(x1[i])+c.DB*float64(x0[i]), 1e-5)
	}
	if err := Interpolate(p, xt, ut, x0, x1[:3], ts); err == nil {
		t.Error("mismatched lengths: no error")
	}
}

func grid(a, b float64, n int) []float64 {
	g := make([]float64, n)
	for i := range g {
		g[i] = a + (b-a)*float64(i)/float64(n-1)
	}
	return g
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if !(math.Abs(got-want) <= tol) {
		t.Errorf("%s: got %.12g, want %.12g (±%g)", what, got, want, tol)
	}
}
