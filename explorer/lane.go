package explorer

import (
	"fmt"
	"math"

	"github.com/flowmatch/flowmatch/sampler"
)

// Lane integrates one batch of particles through a velocity field with a fixed-step
// solver and keeps every step's positions, so the animation can scrub back and forth.
// The work is done a few rows at a time ([Lane.Advance]) so that an app can spread it
// over frames and stay responsive; every particle is independent, so a step may be
// taken in pieces.
//
// Times run from T0 to T1 on a uniform grid of Steps steps; T1 < T0 integrates
// backwards (the app does that for particles dropped at the end of the run).
type Lane struct {
	field  sampler.Field
	method string
	steps  int
	t0, t1 float64
	d, n   int
	evals  int // network evaluations per step, on the whole batch

	frames [][]float32 // frames[k]: positions at Time(k), n×d
	next   []float32   // the step in progress
	rows   int         // rows of next already stepped
	nfe    int         // evaluations spent, in whole-batch units

	solvers map[int]*sampler.Solver // one per chunk size, so stage buffers are kept
	err     error
	farm    *farm // set while a Pool does the work
	workers int   // pool workers that computed the frames (0: here)
	poolErr string
}

// laneChunk is the most rows one solver step takes at once (a Worker uses it too).
const laneChunk = 1 << 14

// gridTime is the time after k of steps equal steps from t0 to t1, exactly t1 at the end.
func gridTime(t0, t1 float64, steps, k int) float64 {
	if k >= steps {
		return t1
	}
	return t0 + (t1-t0)*float64(k)/float64(steps)
}

// NewLane starts a lane at positions x0 (n×d, copied) and time t0, to be integrated to t1
// in steps equal steps of method.
func NewLane(f sampler.Field, method string, steps int, t0, t1 float64, x0 []float32) (*Lane, error) {
	evals, err := sampler.EvalsPerStep(method)
	if err != nil {
		return nil, err
	}
	d := f.Dim()
	if d < 1 || len(x0)%d != 0 {
		return nil, fmt.Errorf("explorer: lane: %d values is not a whole number of %d-dimensional points", len(x0), d)
	}
	if steps < 1 {
		return nil, fmt.Errorf("explorer: lane: %d steps, want at least 1", steps)
	}
	if math.IsNaN(t0) || math.IsNaN(t1) || math.IsInf(t0, 0) || math.IsInf(t1, 0) {
		return nil, fmt.Errorf("explorer: lane: times %g, %g must be finite", t0, t1)
	}
	l := &Lane{
		field: f, method: method, steps: steps, t0: t0, t1: t1, d: d, n: len(x0) / d, evals: evals,
		frames:  [][]float32{append([]float32(nil), x0...)},
		solvers: map[int]*sampler.Solver{},
	}
	if t0 == t1 {
		// Nothing to integrate: every frame is the start.
		for len(l.frames) <= steps {
			l.frames = append(l.frames, l.frames[0])
		}
	}
	return l, nil
}

// N is the number of particles; Dim their dimension.
func (l *Lane) N() int   { return l.n }
func (l *Lane) Dim() int { return l.d }

// Steps is the number of solver steps from T0 to T1.
func (l *Lane) Steps() int { return l.steps }

// Method is the solver's name.
func (l *Lane) Method() string { return l.method }

// T0 and T1 are the start and end times.
func (l *Lane) T0() float64 { return l.t0 }
func (l *Lane) T1() float64 { return l.t1 }

// EvalsPerStep is the number of network evaluations one step costs.
func (l *Lane) EvalsPerStep() int { return l.evals }

// Time is the time of frame k.
func (l *Lane) Time(k int) float64 { return gridTime(l.t0, l.t1, l.steps, k) }

// Computed is the number of frames available: 1 (the start) plus the steps done.
func (l *Lane) Computed() int { return len(l.frames) }

// Done reports whether every step has been taken (or the lane failed).
func (l *Lane) Done() bool { return len(l.frames) > l.steps || l.err != nil }

// Err is set when the solution stopped being finite.
func (l *Lane) Err() error { return l.err }

// Frontier is the latest time computed.
func (l *Lane) Frontier() float64 { return l.Time(len(l.frames) - 1) }

// Frame returns the positions after k steps (do not modify them).
func (l *Lane) Frame(k int) []float32 { return l.frames[k] }

// RemainingUnits is the work left here, in particle-evaluations (none while a pool
// does it).
func (l *Lane) RemainingUnits() int {
	if l.Done() || l.farm != nil {
		return 0
	}
	return ((l.steps-len(l.frames)+1)*l.n - l.rows) * l.evals
}

// Advance takes up to maxUnits particle-evaluations of work (at least one chunk) and
// returns the units spent. A step is committed as a frame once all its rows are done.
// A lane farmed out to a pool does nothing here.
func (l *Lane) Advance(maxUnits int) int {
	if l.Done() || l.farm != nil {
		return 0
	}
	maxRows := max(1, maxUnits/l.evals)
	spent := 0
	for maxRows > 0 && !l.Done() {
		k := len(l.frames) - 1
		if l.next == nil {
			l.next = append([]float32(nil), l.frames[k]...)
			l.rows = 0
		}
		t, t1 := l.Time(k), l.Time(k+1)
		// Chunks are powers of two so that a few solvers with their buffers cover all sizes.
		size := 1
		for size*2 <= min(maxRows, l.n-l.rows) && size < laneChunk {
			size *= 2
		}
		s := l.solvers[size]
		if s == nil {
			s, _ = sampler.NewSolver(sampler.Options{Method: l.method})
			l.solvers[size] = s
		}
		s.Step(l.field, l.next[l.rows*l.d:(l.rows+size)*l.d], t, t1-t)
		l.rows += size
		maxRows -= size
		spent += size * l.evals
		if l.rows == l.n {
			l.commit(l.next, k+1)
			l.next = nil
		}
	}
	return spent
}

// commit appends x as frame k, the next one, stopping the lane if it is not finite.
func (l *Lane) commit(x []float32, k int) {
	l.nfe += l.evals
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			l.err = fmt.Errorf("the %s solution is no longer finite at t = %.3g (particle %d)", l.method, l.Time(k), i/l.d)
			break
		}
	}
	l.frames = append(l.frames, x)
}

// Finish does all the remaining work at once, here (taking it back from a pool).
func (l *Lane) Finish() {
	l.Unfarm()
	for !l.Done() {
		l.Advance(1 << 20)
	}
}

// clampFrac returns the fraction s ∈ [0, 1] of the way from T0 to T1 that time t is,
// clamped to what has been computed.
func (l *Lane) clampFrac(t float64) float64 {
	if l.t1 == l.t0 {
		return 0
	}
	s := (t - l.t0) / (l.t1 - l.t0)
	hi := float64(len(l.frames)-1) / float64(l.steps)
	return math.Max(0, math.Min(s, hi))
}

// ShownTime is the time the lane can show for t: t clamped to [T0, Frontier].
func (l *Lane) ShownTime(t float64) float64 {
	s := l.clampFrac(t)
	if s*float64(l.steps) >= float64(l.steps) {
		return l.t1
	}
	return l.t0 + (l.t1-l.t0)*s
}

// NFEAt is the number of network evaluations (whole-batch) needed to show time t: the
// steps started by then, times the evaluations per step.
func (l *Lane) NFEAt(t float64) int {
	pos := l.clampFrac(t) * float64(l.steps)
	k := int(math.Ceil(pos - 1e-9))
	return min(k, len(l.frames)-1) * l.evals
}

// At writes the positions of particles [from, to) at time t into dst ((to−from)×d),
// interpolating linearly between the frames around t (which is clamped to what has been
// computed). It returns the time shown.
func (l *Lane) At(t float64, dst []float32, from, to int) float64 {
	pos := l.clampFrac(t) * float64(l.steps)
	k := int(math.Floor(pos))
	if k >= len(l.frames)-1 {
		copy(dst, l.frames[len(l.frames)-1][from*l.d:to*l.d])
		return l.Time(len(l.frames) - 1)
	}
	w := float32(pos - float64(k))
	a, b := l.frames[k][from*l.d:to*l.d], l.frames[k+1][from*l.d:to*l.d]
	for i := range a {
		dst[i] = a[i] + w*(b[i]-a[i])
	}
	return l.t0 + (l.t1-l.t0)*pos/float64(l.steps)
}

// Path returns particle i's positions at each computed frame, up to time t (clamped),
// ending exactly at its position at t: the trail to draw behind it.
func (l *Lane) Path(i int, t float64, dst []float32) []float32 {
	pos := l.clampFrac(t) * float64(l.steps)
	k := int(math.Floor(pos))
	d := l.d
	dst = dst[:0]
	for j := 0; j <= k && j < len(l.frames); j++ {
		dst = append(dst, l.frames[j][i*d:(i+1)*d]...)
	}
	if k < len(l.frames)-1 && pos > float64(k) {
		w := float32(pos - float64(k))
		a, b := l.frames[k][i*d:(i+1)*d], l.frames[k+1][i*d:(i+1)*d]
		for c := 0; c < d; c++ {
			dst = append(dst, a[c]+w*(b[c]-a[c]))
		}
	}
	return dst
}
