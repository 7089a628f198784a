package explorer

import (
	"fmt"
	"math"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/unet"
)

// KindImages is the kind of [Job] that samples images with a class-conditional U-Net
// (the Images mode): X0 is a slice of the grid's rows of noise, Labels their classes
// (one a row), Guidance the classifier-free guidance weight. Each step's Result carries
// the images after it (X) and the predicted clean images at the step's start (Clean).
const KindImages = "images"

// ImageRun samples a grid of images from noise through a U-Net with classifier-free
// guidance, step by step, keeping every step's images and their predicted clean images
// x̂₁ = x_t + (1 − t)·v(x_t, t) (the OT path's estimate of where each image goes), so
// that a time slider scrubs back and forth without computing anything. The work is
// done here a few rows at a time ([ImageRun.Advance]) or in a [Pool]'s workers
// ([ImageRun.Farm]).
type ImageRun struct {
	net      *unet.Net
	guided   *unet.Guided // reused for every chunk of rows, its Labels set to theirs
	method   string
	steps    int
	t0, t1   float64
	n, d     int
	evals    int
	labels   []int
	guidance float64

	frames [][]float32 // frames[k]: the images after k steps, n×d in network space
	clean  [][]float32 // clean[k]: x̂₁ at frame k; nil until known
	next   []float32   // the step in progress
	nextV  []float32   // its first stage, v(x_k, t_k), rows done so far
	rows   int
	solver *sampler.Solver
	rec    firstStage
	err    error

	farm    *imageFarm
	workers int
	poolErr string
}

// NewImageRun starts a run of the n = len(labels) images x0 (n×d, network space) from
// time t0 to t1 in steps equal steps of method, image i conditioned on class labels[i]
// (the null class for none) with guidance weight w.
func NewImageRun(net *unet.Net, method string, steps int, t0, t1 float64, x0 []float32, labels []int, w float64) (*ImageRun, error) {
	evals, err := sampler.EvalsPerStep(method)
	if err != nil {
		return nil, err
	}
	d := net.Dim()
	n := len(labels)
	switch {
	case n < 1 || len(x0) != n*d:
		return nil, fmt.Errorf("explorer: images: %d values for %d images of %d", len(x0), n, d)
	case steps < 1:
		return nil, fmt.Errorf("explorer: images: %d steps, want at least 1", steps)
	case !(w >= 0) || math.IsInf(w, 0):
		return nil, fmt.Errorf("explorer: images: guidance %g, want a finite number ≥ 0", w)
	case !(t0 >= 0 && t0 < t1):
		return nil, fmt.Errorf("explorer: images: times %g to %g", t0, t1)
	}
	for _, c := range labels {
		if err := net.Config().CheckLabel(c); err != nil {
			return nil, err
		}
	}
	s, _ := sampler.NewSolver(sampler.Options{Method: method})
	r := &ImageRun{net: net, guided: &unet.Guided{Net: net, W: w}, method: method, steps: steps, t0: t0, t1: t1, n: n, d: d,
		evals: evals, labels: append([]int(nil), labels...), guidance: w, solver: s,
		frames: [][]float32{append([]float32(nil), x0...)}, clean: make([][]float32, steps+1)}
	return r, nil
}

// N is the number of images; Dim the values of one; Steps the solver steps; T1 the end.
func (r *ImageRun) N() int        { return r.n }
func (r *ImageRun) Dim() int      { return r.d }
func (r *ImageRun) Steps() int    { return r.steps }
func (r *ImageRun) T1() float64   { return r.t1 }
func (r *ImageRun) Labels() []int { return r.labels }

// EvalsPerStep is the network evaluations one step costs (each a guided batch).
func (r *ImageRun) EvalsPerStep() int { return r.evals }

// Time is the time of frame k.
func (r *ImageRun) Time(k int) float64 { return gridTime(r.t0, r.t1, r.steps, k) }

// Computed is the number of frames available; Done reports whether all are (or the run
// failed); Frontier is the latest time computed; Err why it failed.
func (r *ImageRun) Computed() int         { return len(r.frames) }
func (r *ImageRun) Done() bool            { return len(r.frames) > r.steps || r.err != nil }
func (r *ImageRun) Frontier() float64     { return r.Time(len(r.frames) - 1) }
func (r *ImageRun) Err() error            { return r.err }
func (r *ImageRun) Workers() int          { return r.workers }
func (r *ImageRun) PoolErr() string       { return r.poolErr }
func (r *ImageRun) Frame(k int) []float32 { return r.frames[k] }

// Clean is x̂₁ at frame k: nil until the step after it is computed, frame k itself at
// the end of the run (t = 1 leaves nothing to add).
func (r *ImageRun) Clean(k int) []float32 {
	if k == r.steps && k < len(r.frames) && r.t1 == 1 {
		return r.frames[k]
	}
	return r.clean[k]
}

// FrameAt is the frame shown at time t: the last step at or before it (clamped to what
// has been computed). Images are shown at the solver's steps, not between them, so that
// x_t and x̂₁ belong to the same state.
func (r *ImageRun) FrameAt(t float64) int {
	pos := (t - r.t0) / (r.t1 - r.t0) * float64(r.steps)
	k := int(math.Floor(pos + 1e-9))
	return max(0, min(k, len(r.frames)-1))
}

// Advance takes up to maxUnits image-evaluations of work here (at least one row) and
// returns the units spent; a step is committed once all its rows are done.
func (r *ImageRun) Advance(maxUnits int) int {
	if r.Done() || r.farm != nil {
		return 0
	}
	rows := max(1, maxUnits/r.evals)
	spent := 0
	for rows > 0 && !r.Done() {
		k := len(r.frames) - 1
		if r.next == nil {
			r.next = append([]float32(nil), r.frames[k]...)
			r.nextV = make([]float32, r.n*r.d)
			r.rows = 0
		}
		size := min(rows, r.n-r.rows)
		a, b := r.rows*r.d, (r.rows+size)*r.d
		r.guided.Labels = r.labels[r.rows : r.rows+size]
		t, t1 := r.Time(k), r.Time(k+1)
		r.rec.arm(r.guided, r.nextV[a:b])
		r.solver.Step(&r.rec, r.next[a:b], t, t1-t)
		r.rows += size
		rows -= size
		spent += size * r.evals
		if r.rows == r.n {
			r.commit(r.next, predictClean(r.frames[k], r.nextV, t), k+1)
			r.next, r.nextV = nil, nil
		}
	}
	return spent
}

// Finish does all the remaining work here, taking it back from a pool.
func (r *ImageRun) Finish() {
	r.Unfarm()
	for !r.Done() {
		r.Advance(1 << 20)
	}
}

// commit appends x as frame k and x̂₁ of frame k−1, stopping the run if x is not finite.
func (r *ImageRun) commit(x, clean []float32, k int) {
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			r.err = fmt.Errorf("the %s solution is no longer finite at t = %.3g (image %d)", r.method, r.Time(k), i/r.d)
			break
		}
	}
	r.frames = append(r.frames, x)
	r.clean[k-1] = clean
}

// PredictClean is the OT path's estimate of the clean image from x_t: x̂₁ = x_t + (1 −
// t)·v, for each value of x and of the velocity v there.
func PredictClean(x, v []float32, t float64) []float32 { return predictClean(x, v, t) }

func predictClean(x, v []float32, t float64) []float32 {
	out := make([]float32, len(x))
	s := float32(1 - t)
	for i := range x {
		out[i] = x[i] + s*v[i]
	}
	return out
}

// firstStage is a field that records the velocity of its first evaluation after arm:
// every solver's step starts with v(x_k, t_k), the velocity x̂₁ needs, so the clean
// images cost nothing more than the step.
type firstStage struct {
	f    sampler.Field
	dst  []float32
	done bool
}

func (s *firstStage) arm(f sampler.Field, dst []float32) { s.f, s.dst, s.done = f, dst, false }

func (s *firstStage) Dim() int { return s.f.Dim() }

func (s *firstStage) Velocity(dst, x []float32, t float64) {
	s.f.Velocity(dst, x, t)
	if !s.done {
		copy(s.dst, dst)
		s.done = true
	}
}
