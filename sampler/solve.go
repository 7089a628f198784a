package sampler

import (
	"errors"
	"fmt"
	"math"
)

// Solver names, as used on command lines and in the app.
const (
	Euler    = "euler"
	Midpoint = "midpoint"
	Heun     = "heun"
	RK4      = "rk4"
	Dopri5   = "dopri5"
)

// Methods lists the solvers, fixed-step first.
func Methods() []string { return []string{Euler, Midpoint, Heun, RK4, Dopri5} }

// EvalsPerStep is how many network evaluations one fixed step of method costs. For
// dopri5 it is the six stages of one step; adaptive runs cost more (rejections, the
// first-step estimate), and Stats.NFE reports what was spent.
func EvalsPerStep(method string) (int, error) {
	switch method {
	case Euler:
		return 1, nil
	case Midpoint, Heun:
		return 2, nil
	case RK4:
		return 4, nil
	case Dopri5:
		return 6, nil
	}
	return 0, fmt.Errorf("sampler: unknown solver %q (want one of %v)", method, Methods())
}

// Options choose a solver and its time grid. The zero value integrates from t = 0 to
// t = 1 with 100 midpoint steps.
type Options struct {
	Method string // one of Methods(); "" means Midpoint

	// T0 and T1 are the start and end times; both zero means 0 and 1. T1 < T0 integrates
	// backwards (as the likelihood does).
	T0, T1 float64
	// Steps is the number of equal steps of a fixed-step method (default 100).
	Steps int
	// Grid, when set, is the exact time grid, strictly monotone; it overrides T0, T1 and
	// Steps. With a grid, dopri5 takes fixed steps of its fifth-order formula.
	Grid []float64

	// Dopri5 only: relative and absolute tolerances (default 1e-5 each), the most steps
	// to take before giving up (default DefaultMaxSteps).
	RTol, ATol float64
	MaxSteps   int

	// OnStep, if set, sees the state at the start and after every accepted step, for
	// animations. x is the solver's own slice: copy it to keep it.
	OnStep func(t float64, x []float32)
}

// Stats say what a solve cost.
type Stats struct {
	NFE      int // network evaluations (Velocity calls on the whole batch)
	Steps    int // accepted steps
	Rejected int // rejected steps (dopri5)
}

// DefaultMaxSteps is dopri5's step limit (accepted and rejected steps) when
// Options.MaxSteps is 0.
const DefaultMaxSteps = 10000

// ErrMaxSteps is returned (wrapped) when dopri5 needs more than MaxSteps steps.
var ErrMaxSteps = errors.New("step limit reached")

// Solver integrates dx/dt = v(x, t). It keeps its stage buffers between calls, so a
// warm Solver allocates nothing; it is not safe for concurrent use.
type Solver struct {
	opt  Options
	k    [7][]float32
	tmp  []float32
	errv []float32
}

// NewSolver checks opt and returns a Solver for it.
func NewSolver(opt Options) (*Solver, error) {
	if opt.Method == "" {
		opt.Method = Midpoint
	}
	if _, err := EvalsPerStep(opt.Method); err != nil {
		return nil, err
	}
	if opt.T0 == 0 && opt.T1 == 0 {
		opt.T1 = 1
	}
	if bad(opt.T0) || bad(opt.T1) || opt.T0 == opt.T1 {
		return nil, fmt.Errorf("sampler: solver: need distinct finite T0, T1 (got %g, %g)", opt.T0, opt.T1)
	}
	if opt.Steps < 0 {
		return nil, fmt.Errorf("sampler: solver: steps %d must be positive", opt.Steps)
	}
	if opt.Steps == 0 {
		opt.Steps = 100
	}
	if len(opt.Grid) == 1 {
		return nil, errors.New("sampler: solver: a time grid needs at least two points")
	}
	for i := 1; i < len(opt.Grid); i++ {
		if bad(opt.Grid[i]) || bad(opt.Grid[i-1]) || (opt.Grid[i]-opt.Grid[i-1])*(opt.Grid[1]-opt.Grid[0]) <= 0 {
			return nil, fmt.Errorf("sampler: solver: time grid not strictly monotone at %d", i)
		}
	}
	if opt.RTol < 0 || opt.ATol < 0 || bad(opt.RTol) || bad(opt.ATol) {
		return nil, fmt.Errorf("sampler: solver: tolerances must be non-negative (got rtol %g, atol %g)", opt.RTol, opt.ATol)
	}
	if opt.RTol == 0 && opt.ATol == 0 {
		opt.RTol, opt.ATol = 1e-5, 1e-5
	}
	if opt.MaxSteps < 0 {
		return nil, fmt.Errorf("sampler: solver: max steps %d must be positive", opt.MaxSteps)
	}
	if opt.MaxSteps == 0 {
		opt.MaxSteps = DefaultMaxSteps
	}
	return &Solver{opt: opt}, nil
}

func bad(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }

// Solve integrates x in place with the options given.
func Solve(f Field, x []float32, opt Options) (Stats, error) {
	s, err := NewSolver(opt)
	if err != nil {
		return Stats{}, err
	}
	return s.Solve(f, x)
}

// Options returns the solver's options with defaults filled in.
func (s *Solver) Options() Options { return s.opt }

func (s *Solver) grow(n int) {
	if len(s.tmp) == n {
		return
	}
	for i := range s.k {
		s.k[i] = make([]float32, n)
	}
	s.tmp = make([]float32, n)
	s.errv = make([]float32, n)
}

// Solve integrates x (n×d) in place from T0 to T1.
func (s *Solver) Solve(f Field, x []float32) (Stats, error) {
	if d := f.Dim(); d < 1 || len(x)%d != 0 {
		return Stats{}, fmt.Errorf("sampler: solver: batch length %d is not a multiple of dim %d", len(x), f.Dim())
	}
	s.grow(len(x))
	if s.opt.OnStep != nil {
		t0 := s.opt.T0
		if len(s.opt.Grid) > 0 {
			t0 = s.opt.Grid[0]
		}
		s.opt.OnStep(t0, x)
	}
	if s.opt.Method == Dopri5 && len(s.opt.Grid) == 0 {
		return s.adaptive(f, x)
	}
	var st Stats
	grid := s.opt.Grid
	n := len(grid) - 1
	if len(grid) == 0 {
		n = s.opt.Steps
	}
	for i := 0; i < n; i++ {
		var t, next float64
		if len(grid) > 0 {
			t, next = grid[i], grid[i+1]
		} else {
			// Times from the index, not by summing dt, and the last one is T1 itself, so
			// that rounding never moves the end of the solve.
			t = s.opt.T0 + (s.opt.T1-s.opt.T0)*float64(i)/float64(n)
			next = s.opt.T0 + (s.opt.T1-s.opt.T0)*float64(i+1)/float64(n)
			if i == n-1 {
				next = s.opt.T1
			}
		}
		st.NFE += s.step(f, x, t, next-t)
		st.Steps++
		if s.opt.OnStep != nil {
			s.opt.OnStep(next, x)
		}
	}
	return st, nil
}

// Step advances x by one fixed step of the solver's method from t to t+dt and returns
// the network evaluations it used. The app steps the animation with it.
func (s *Solver) Step(f Field, x []float32, t, dt float64) int {
	s.grow(len(x))
	return s.step(f, x, t, dt)
}

// axpy sets dst = x + Σ c_i·k_i.
func axpy(dst, x []float32, h float64, c []float64, ks [][]float32) {
	for j := range dst {
		acc := 0.0
		for i, ci := range c {
			if ci != 0 {
				acc += ci * float64(ks[i][j])
			}
		}
		dst[j] = x[j] + float32(h*acc)
	}
}

func (s *Solver) step(f Field, x []float32, t, dt float64) int {
	k, tmp := s.k, s.tmp
	switch s.opt.Method {
	case Euler:
		f.Velocity(k[0], x, t)
		axpy(x, x, dt, []float64{1}, k[:1])
		return 1
	case Midpoint:
		f.Velocity(k[0], x, t)
		axpy(tmp, x, dt/2, []float64{1}, k[:1])
		f.Velocity(k[1], tmp, t+dt/2)
		axpy(x, x, dt, []float64{0, 1}, k[:2])
		return 2
	case Heun:
		f.Velocity(k[0], x, t)
		axpy(tmp, x, dt, []float64{1}, k[:1])
		f.Velocity(k[1], tmp, t+dt)
		axpy(x, x, dt, []float64{0.5, 0.5}, k[:2])
		return 2
	case RK4:
		f.Velocity(k[0], x, t)
		axpy(tmp, x, dt/2, []float64{1}, k[:1])
		f.Velocity(k[1], tmp, t+dt/2)
		axpy(tmp, x, dt/2, []float64{0, 1}, k[:2])
		f.Velocity(k[2], tmp, t+dt/2)
		axpy(tmp, x, dt, []float64{0, 0, 1}, k[:3])
		f.Velocity(k[3], tmp, t+dt)
		axpy(x, x, dt, []float64{1. / 6, 1. / 3, 1. / 3, 1. / 6}, k[:4])
		return 4
	case Dopri5:
		f.Velocity(k[0], x, t)
		s.dopriStages(f, x, t, dt)
		copy(x, tmp)
		return 6
	}
	panic("sampler: unreachable solver " + s.opt.Method)
}

// Dormand–Prince 5(4) tableau.
var (
	dpC = [7]float64{0, 1. / 5, 3. / 10, 4. / 5, 8. / 9, 1, 1}
	dpA = [7][]float64{
		nil,
		{1. / 5},
		{3. / 40, 9. / 40},
		{44. / 45, -56. / 15, 32. / 9},
		{19372. / 6561, -25360. / 2187, 64448. / 6561, -212. / 729},
		{9017. / 3168, -355. / 33, 46732. / 5247, 49. / 176, -5103. / 18656},
		{35. / 384, 0, 500. / 1113, 125. / 192, -2187. / 6784, 11. / 84},
	}
	// dpE = b − b̂, the fifth-order weights minus the embedded fourth-order ones.
	dpE = []float64{71. / 57600, 0, -71. / 16695, 71. / 1920, -17253. / 339200, 22. / 525, -1. / 40}
)

// dopriStages computes stages 2–6 from k[0] and leaves the fifth-order solution in tmp.
func (s *Solver) dopriStages(f Field, x []float32, t, h float64) {
	for i := 1; i < 7; i++ {
		axpy(s.tmp, x, h, dpA[i], s.k[:i])
		if i < 6 {
			f.Velocity(s.k[i], s.tmp, t+dpC[i]*h)
		}
	}
}

// adaptive runs Dopri5 with error control (Hairer, Nørsett & Wanner, II.4).
func (s *Solver) adaptive(f Field, x []float32) (Stats, error) {
	var st Stats
	t, t1 := s.opt.T0, s.opt.T1
	dir := math.Copysign(1, t1-t)
	k := &s.k // a pointer: the FSAL swap below must reach dopriStages
	f.Velocity(k[0], x, t)
	h := s.firstStep(f, x, t, t1, dir)
	st.NFE += 2
	for dir*(t1-t) > 0 {
		if st.Steps+st.Rejected >= s.opt.MaxSteps {
			return st, fmt.Errorf("sampler: dopri5 at t=%.6g after %d steps: %w", t, s.opt.MaxSteps, ErrMaxSteps)
		}
		last := false
		if h >= math.Abs(t1-t) {
			h, last = math.Abs(t1-t), true
		}
		hs := dir * h
		s.dopriStages(f, x, t, hs)
		f.Velocity(k[6], s.tmp, t+hs) // FSAL: this is k[0] of the next step
		st.NFE += 6
		errn := s.errorNorm(x, hs)
		if bad(errn) {
			return st, fmt.Errorf("sampler: dopri5 at t=%.6g: the state is no longer finite", t)
		}
		if errn <= 1 {
			if last {
				t = t1
			} else {
				t += hs
			}
			copy(x, s.tmp)
			k[0], k[6] = k[6], k[0]
			st.Steps++
			if s.opt.OnStep != nil {
				s.opt.OnStep(t, x)
			}
			fac := 10.0
			if errn > 0 {
				fac = math.Min(10, math.Max(0.2, 0.9*math.Pow(errn, -0.2)))
			}
			h *= fac
		} else {
			st.Rejected++
			h *= math.Max(0.2, 0.9*math.Pow(errn, -0.2))
		}
		if h < 1e-12 {
			return st, fmt.Errorf("sampler: dopri5 at t=%.6g: step size underflow", t)
		}
	}
	return st, nil
}

// firstStep guesses dopri5's first step size from the scale of x and of the field at
// t (in k[0]) and one more evaluation, which it leaves in k[1] (Hairer, Nørsett &
// Wanner, II.4, "starting step size").
func (s *Solver) firstStep(f Field, x []float32, t, t1, dir float64) float64 {
	rtol, atol := s.opt.RTol, s.opt.ATol
	k := &s.k
	norm := func(v []float32, scaleFrom []float32) float64 {
		sum := 0.0
		for j, e := range v {
			sc := atol + rtol*math.Abs(float64(scaleFrom[j]))
			r := float64(e) / sc
			sum += r * r
		}
		return math.Sqrt(sum / float64(len(v)))
	}
	d0, d1 := norm(x, x), norm(k[0], x)
	h0 := 1e-6
	if d0 >= 1e-5 && d1 >= 1e-5 {
		h0 = 0.01 * d0 / d1
	}
	h0 = math.Min(h0, math.Abs(t1-t))
	axpy(s.tmp, x, dir*h0, []float64{1}, k[:1])
	f.Velocity(k[1], s.tmp, t+dir*h0)
	for j := range s.errv {
		s.errv[j] = k[1][j] - k[0][j]
	}
	d2 := norm(s.errv, x) / h0
	h1 := math.Max(1e-6, h0*1e-3)
	if m := math.Max(d1, d2); m > 1e-15 {
		h1 = math.Pow(0.01/m, 1./5)
	}
	return math.Min(100*h0, h1)
}

// errorNorm is the scaled RMS norm of the step's error estimate, the difference
// between the fifth- and fourth-order solutions (the step is h, the new state in
// s.tmp); the step is accepted when it is at most 1.
func (s *Solver) errorNorm(x []float32, h float64) float64 {
	k := &s.k
	for j := range s.errv {
		acc := 0.0
		for i, e := range dpE {
			if e != 0 {
				acc += e * float64(k[i][j])
			}
		}
		s.errv[j] = float32(h * acc)
	}
	rtol, atol := s.opt.RTol, s.opt.ATol
	errn := 0.0
	for j, e := range s.errv {
		sc := atol + rtol*math.Max(math.Abs(float64(x[j])), math.Abs(float64(s.tmp[j])))
		r := float64(e) / sc
		errn += r * r
	}
	return math.Sqrt(errn / float64(len(x)))
}

// StepsForNFE converts a budget of network evaluations into a number of fixed steps of
// method, for command lines that speak in NFE. The budget must be a positive multiple of
// the method's evaluations per step, so that the NFE reported is the NFE asked for.
func StepsForNFE(method string, nfe int) (int, error) {
	per, err := EvalsPerStep(method)
	if err != nil {
		return 0, err
	}
	if method == Dopri5 {
		return 0, fmt.Errorf("sampler: dopri5 is adaptive: give it tolerances, not an NFE")
	}
	if nfe < per || nfe%per != 0 {
		return 0, fmt.Errorf("sampler: %s uses %d evaluations a step, so the NFE must be a positive multiple of %d (got %d)", method, per, per, nfe)
	}
	return nfe / per, nil
}
