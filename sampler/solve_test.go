package sampler

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// gauss2 is dy/dt = 2t·y, solved by y(t) = y(0)·exp(t²): non-autonomous, so it also
// checks that each stage sees the right time, and smooth enough that the solvers reach
// their asymptotic order while the error is still far above float32 rounding.
func gauss2() Field {
	return FieldFunc{D: 1, F: func(dst, x []float32, t float64) {
		for i, v := range x {
			dst[i] = float32(2 * t * float64(v))
		}
	}}
}

func orderErr(t *testing.T, method string, steps int) float64 {
	t.Helper()
	const T = 1.5
	y0 := []float32{1, -0.5}
	x := append([]float32(nil), y0...)
	// Dopri5 takes fixed steps on an explicit grid.
	st, err := Solve(gauss2(), x, Options{Method: method, Grid: grid(0, T, steps+1)})
	if err != nil {
		t.Fatal(err)
	}
	per, _ := EvalsPerStep(method)
	if st.NFE != per*steps || st.Steps != steps {
		t.Errorf("%s: NFE %d, steps %d; want %d, %d", method, st.NFE, st.Steps, per*steps, steps)
	}
	e := 0.0
	for i, v := range x {
		e = math.Max(e, math.Abs(float64(v)-float64(y0[i])*math.Exp(T*T)))
	}
	return e
}

// expSin is dy/dt = ω·cos(ωt)·y, solved by y(t) = y(0)·exp(sin(ωt)).
const omega = 3.0

func expSin() Field {
	return FieldFunc{D: 1, F: func(dst, x []float32, t float64) {
		c := omega * math.Cos(omega*t)
		for i, v := range x {
			dst[i] = float32(c * float64(v))
		}
	}}
}

// TestConvergenceOrder measures each solver's order from the errors at N and 2N steps.
func TestConvergenceOrder(t *testing.T) {
	for _, c := range []struct {
		method string
		order  float64
		n      int
	}{
		{Euler, 1, 64}, {Midpoint, 2, 32}, {Heun, 2, 32}, {RK4, 4, 8}, {Dopri5, 5, 8},
	} {
		e1, e2 := orderErr(t, c.method, c.n), orderErr(t, c.method, 2*c.n)
		got := math.Log2(e1 / e2)
		t.Logf("%-8s error %.3g at %d steps, %.3g at %d: order %.2f", c.method, e1, c.n, e2, 2*c.n, got)
		if math.Abs(got-c.order) > 0.3 {
			t.Errorf("%s: measured order %.2f, want %g ± 0.3", c.method, got, c.order)
		}
	}
}

func TestDopri5Adaptive(t *testing.T) {
	for _, tol := range []float64{1e-3, 1e-5} {
		x := []float32{1, -0.5}
		var ts []float64
		st, err := Solve(expSin(), x, Options{Method: Dopri5, T1: 1.5, RTol: tol, ATol: tol,
			OnStep: func(t float64, _ []float32) { ts = append(ts, t) }})
		if err != nil {
			t.Fatal(err)
		}
		want := math.Exp(math.Sin(omega * 1.5))
		if e := math.Abs(float64(x[0]) - want); e > 30*tol {
			t.Errorf("tol %g: error %g", tol, e)
		}
		if len(ts) != st.Steps+1 || ts[0] != 0 || ts[len(ts)-1] != 1.5 {
			t.Errorf("tol %g: OnStep times %v for %d steps", tol, ts, st.Steps)
		}
		if st.NFE != 2+6*(st.Steps+st.Rejected) {
			t.Errorf("tol %g: NFE %d for %d steps and %d rejections", tol, st.NFE, st.Steps, st.Rejected)
		}
		t.Logf("tol %g: %d steps, %d rejected, NFE %d, error %.2g", tol, st.Steps, st.Rejected, st.NFE, math.Abs(float64(x[0])-want))
	}
	// Backwards, then forwards again, returns to the start.
	x := []float32{2}
	if _, err := Solve(expSin(), x, Options{Method: Dopri5, T0: 1, T1: 0, RTol: 1e-6, ATol: 1e-6}); err != nil {
		t.Fatal(err)
	}
	near(t, "backwards", float64(x[0]), 2*math.Exp(math.Sin(0)-math.Sin(omega)), 1e-4)
	// A step limit that cannot be met is an error that says so.
	_, err := Solve(expSin(), []float32{1}, Options{Method: Dopri5, T1: 1.5, RTol: 1e-9, ATol: 1e-9, MaxSteps: 3})
	if !errors.Is(err, ErrMaxSteps) {
		t.Errorf("step limit: got %v", err)
	}
}

func TestSolverOptions(t *testing.T) {
	for _, o := range []Options{
		{Method: "leapfrog"}, {Steps: -1}, {T0: 1, T1: 1}, {T1: math.NaN()},
		{Grid: []float64{0}}, {Grid: []float64{0, 0.5, 0.5, 1}}, {Grid: []float64{0, 0.5, 0.2}},
		{RTol: -1}, {MaxSteps: -2},
	} {
		if _, err := NewSolver(o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	// An explicit grid is followed exactly.
	var ts []float64
	x := []float32{1}
	st, err := Solve(expSin(), x, Options{Method: Euler, Grid: []float64{0, 0.1, 0.5, 1},
		OnStep: func(t float64, _ []float32) { ts = append(ts, t) }})
	if err != nil || st.NFE != 3 || len(ts) != 4 || ts[2] != 0.5 || ts[3] != 1 {
		t.Errorf("grid: %v, stats %+v, times %v", err, st, ts)
	}
	// The last state is reported at T1 exactly, whatever the rounding of T0 + (T1−T0)·i/n.
	var last float64
	if _, err := Solve(expSin(), []float32{1}, Options{Method: Heun, Steps: 7, T0: 0.1, T1: 0.9999,
		OnStep: func(t float64, _ []float32) { last = t }}); err != nil || last != 0.9999 {
		t.Errorf("last OnStep time %v (%v), want 0.9999", last, err)
	}
	if _, err := Solve(FieldFunc{D: 2, F: func(dst, x []float32, t float64) {}}, make([]float32, 3), Options{}); err == nil {
		t.Error("ragged batch: no error")
	}
}

// gaussianCase is a 2D Gaussian target pushed from the source by its exact marginal
// field: the result must have the target's mean and variance.
func TestGaussianPushForward(t *testing.T) {
	mean, vars := []float64{1.5, -0.7}, []float64{0.3, 2.0}
	for _, spec := range []PathSpec{{Name: PathOT}, {Name: PathVP}, {Name: PathVE}} {
		p, _ := NewPath(spec)
		g := GaussianTarget{Path: p, Mean: mean, Var: vars}
		rng := rand.New(rand.NewPCG(11, 12))
		n := 40000
		x := make([]float32, 2*n)
		// Start from the path's exact t = 0 marginal (for OT this is the source itself).
		for i := 0; i < n; i++ {
			for j := 0; j < 2; j++ {
				_, _, m, v := g.perCoord(j, 0)
				x[2*i+j] = float32(m + math.Sqrt(v)*rng.NormFloat64())
			}
		}
		for _, method := range []string{RK4, Dopri5} {
			y := append([]float32(nil), x...)
			if _, err := Solve(g, y, Options{Method: method, Steps: 50, T1: p.TMax(), RTol: 1e-6, ATol: 1e-6}); err != nil {
				t.Fatal(err)
			}
			for j := 0; j < 2; j++ {
				_, _, m, v := g.perCoord(j, p.TMax())
				s, s2 := 0.0, 0.0
				for i := 0; i < n; i++ {
					s += float64(y[2*i+j])
					s2 += float64(y[2*i+j]) * float64(y[2*i+j])
				}
				em, ev := s/float64(n), s2/float64(n)-(s/float64(n))*(s/float64(n))
				// 5 standard errors of the sample mean and variance.
				near(t, spec.Name+" "+method+" mean", em, m, 5*math.Sqrt(v/float64(n)))
				near(t, spec.Name+" "+method+" var", ev, v, 5*v*math.Sqrt(2/float64(n)))
				if spec.Name == PathOT {
					near(t, "ot ends on the data mean", m, mean[j], 1e-12)
					near(t, "ot ends on the data var", v, vars[j], 1e-12)
				}
			}
		}
	}
}

func TestStepsForNFE(t *testing.T) {
	for _, c := range []struct {
		method string
		nfe    int
		steps  int
		ok     bool
	}{
		{Euler, 7, 7, true}, {Midpoint, 20, 10, true}, {Heun, 4, 2, true}, {RK4, 20, 5, true},
		{Midpoint, 21, 0, false}, {RK4, 2, 0, false}, {Euler, 0, 0, false}, {Euler, -4, 0, false},
		{Dopri5, 60, 0, false}, {"adams", 10, 0, false},
	} {
		steps, err := StepsForNFE(c.method, c.nfe)
		if (err == nil) != c.ok || steps != c.steps {
			t.Errorf("StepsForNFE(%s, %d) = %d, %v", c.method, c.nfe, steps, err)
		}
	}
}
