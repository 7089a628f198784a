package eval

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// MaxN is the most points Evaluate compares: W2 is exact, and exact assignment stops at
// metrics.MaxN (an n×n matrix of n²·8 bytes, time up to n³).
const MaxN = metrics.MaxN

// Options choose what Evaluate measures. The zero value measures 2,000 points sampled
// with 20-NFE midpoint, the project's reference setting.
type Options struct {
	N      int    // points in each set (default 2,000, at most MaxN)
	Solver string // sampling solver (default midpoint)
	NFE    int    // evaluations for a fixed-step solver (default 20)
	// RTol and ATol for dopri5 (default 1e-5).
	RTol, ATol float64
	Seed       uint64
	// FloorReps is how many pairs of fresh data draws the data-vs-data floor averages
	// (default 3).
	FloorReps int
	// IIDFloorReps is how many i.i.d. resamples, each against a fresh data draw, the
	// i.i.d. floor averages (default FloorReps).
	IIDFloorReps int
	// Bandwidths of the RBF kernels for MMD (default metrics.DefaultBandwidths()).
	Bandwidths []float64
	// NLLSteps is the number of RK4 steps of the likelihood solve (default 20); a
	// negative value skips the likelihood.
	NLLSteps int
	// Progress, if set, is called before the first stage and after each, with the
	// stages done out of the total and the name of the next one ("" at the end):
	// sampling, model W2, each floor draw, MMD and NLL. The stages take similar times at the same n (each
	// W2 and MMD O(n²) to O(n³), the likelihood n·NFE network passes with the exact
	// divergence), so their count makes a usable bar and ETA.
	Progress func(done, total int, next string)
	// Own is the file of points a model of a user's data (weights.DataInfo.Source) was
	// trained on, as dataset.ReadFile reads it: Evaluate checks that it is that file
	// (rows, SHA-256) and compares with its held-out rows instead of fresh draws of a
	// built-in dataset (see MaxW2Dim). It must be nil for a model of a built-in dataset.
	Own *dataset.Own
}

func (o *Options) fill() error {
	if o.N == 0 {
		o.N = 2000
	}
	if o.N < 2 {
		return fmt.Errorf("eval: n = %d, want at least 2", o.N)
	}
	if o.N > MaxN {
		return fmt.Errorf("eval: n = %d, above MaxN = %d: %w (exact W2 takes n²·8 bytes and up to n³ time)", o.N, MaxN, metrics.ErrTooLarge)
	}
	if o.Solver == "" {
		o.Solver = sampler.Midpoint
	}
	if _, err := sampler.EvalsPerStep(o.Solver); err != nil {
		return err
	}
	if o.NFE == 0 && o.Solver != sampler.Dopri5 {
		o.NFE = 20
	}
	if o.FloorReps == 0 {
		o.FloorReps = 3
	}
	if o.FloorReps < 1 {
		return fmt.Errorf("eval: floor reps %d, want at least 1", o.FloorReps)
	}
	if o.IIDFloorReps == 0 {
		o.IIDFloorReps = o.FloorReps
	}
	if o.IIDFloorReps < 1 {
		return fmt.Errorf("eval: i.i.d. floor reps %d, want at least 1", o.IIDFloorReps)
	}
	if o.Bandwidths == nil {
		o.Bandwidths = metrics.DefaultBandwidths()
	}
	if o.NLLSteps == 0 {
		o.NLLSteps = 20
	}
	return nil
}

// Result is what Evaluate measured. JSON field names are part of `flowmatch eval -json`.
type Result struct {
	Model   string `json:"model,omitempty"` // file name, if known
	Dataset string `json:"dataset"`
	Path    string `json:"path"`
	Solver  string `json:"solver"`
	NFE     int    `json:"nfe"` // network evaluations the sampling used
	N       int    `json:"n"`

	W2         float64 `json:"w2"`
	W2Floor    float64 `json:"w2_floor"`     // mean W2 between two fresh data draws of size N
	W2FloorStd float64 `json:"w2_floor_std"` // its standard deviation over the repetitions
	W2Ratio    float64 `json:"w2_ratio"`     // W2 / W2Floor: 1 means indistinguishable at this N

	// The i.i.d. floor (metrics.W2IIDFloor): mean W2 between N points resampled i.i.d.
	// from a large data draw and N fresh data points, what a model indistinguishable
	// from the data scores. Datasets that draw a fixed number of points per mode
	// (moons, rings, circles, 2spirals, pinwheel) have it above W2Floor, so their
	// W2Ratio cannot reach 1; W2IIDRatio can.
	W2IIDFloor    float64 `json:"w2_iid_floor"`
	W2IIDFloorStd float64 `json:"w2_iid_floor_std"` // its standard deviation over the repetitions
	W2IIDRatio    float64 `json:"w2_iid_ratio"`     // W2 / W2IIDFloor: 1 means indistinguishable from i.i.d. data

	Bandwidths []float64 `json:"mmd_bandwidths"`
	MMD        []float64 `json:"mmd"` // biased squared MMD, one per bandwidth

	NLL    float64 `json:"nll"`     // mean −log p(x) of fresh data (held-out rows for own data), nats, data units; NaN if skipped
	NLLNFE int     `json:"nll_nfe"` // evaluations the likelihood solve used

	// HeldOut is, for a model of a user's data, the rows the model held out of
	// training, of which N are compared; 0 for a built-in dataset.
	HeldOut int `json:"held_out,omitempty"`
	// W2Skipped says that W2 and its floors were not measured (own data of dimension
	// above MaxW2Dim); they are NaN.
	W2Skipped bool `json:"w2_skipped,omitempty"`
}

// DivergedError says that sampling left a point non-finite: the velocity blew up along
// the solve, which more steps or another solver usually cures.
type DivergedError struct {
	Sample, Coord int     // the first non-finite value's point and coordinate
	Value         float32 // NaN or ±Inf
	Solver        string
	NFE           int
}

func (e *DivergedError) Error() string {
	return fmt.Sprintf("sample %d, coordinate %d is %v: the solve diverged (%s, NFE %d; try more steps or another solver)",
		e.Sample, e.Coord, e.Value, e.Solver, e.NFE)
}

// Stages is how many stages Evaluate reports to Options.Progress for opt.
func (o Options) Stages() int {
	if err := o.fill(); err != nil {
		return 0
	}
	k := 4 + o.FloorReps + o.IIDFloorReps // sampling, W2, floors, MMD, NLL
	if o.NLLSteps < 0 {
		k--
	}
	return k
}

// Evaluate samples opt.N points from the model and compares them with fresh data: of the
// model's built-in dataset, or for a model of a user's data the rows of opt.Own it held
// out of training.
func Evaluate(f *weights.File, opt Options) (*Result, error) {
	if err := opt.fill(); err != nil {
		return nil, err
	}
	if f.Meta.Data.IsImage() {
		return nil, fmt.Errorf("eval: %s images: %w; EvaluateImages scores an image model", f.Meta.Data.Name, ErrImageModel)
	}
	if opt.Own != nil || f.Meta.Data.Source != (weights.Source{}) {
		return evaluateOwn(f, opt)
	}
	name := f.Meta.Data.Name
	if name == "" {
		return nil, errors.New("eval: the model file names no dataset to compare with")
	}
	d := f.Meta.Data.Dim
	if dd := dataset.Dim(name); dd != d {
		return nil, fmt.Errorf("eval: model has dim %d but dataset %q has dim %d", d, name, dd)
	}
	p := &stages{opt: opt, total: opt.Stages()}
	p.next("sampling")
	// Separate streams for the model's noise, the comparison data, the floor, the
	// likelihood data and the i.i.d. floor (its data, then its resampling), so that
	// changing one setting leaves the others' draws alone.
	stream := func(k uint64) *rand.Rand { return rand.New(rand.NewPCG(opt.Seed, k)) }
	gen, nfe, err := sampleChecked(f, opt.N, opt, stream(1))
	if err != nil {
		return nil, err
	}
	p.next("model W2")
	data, err := dataset.Sample(name, opt.N, stream(2))
	if err != nil {
		return nil, err
	}
	res := &Result{Dataset: name, Path: f.Meta.Path.Name, Solver: opt.Solver, NFE: nfe, N: opt.N, Bandwidths: opt.Bandwidths}
	if res.W2, err = metrics.W2(gen, data, d); err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	// The floors go one draw per call, which gives the same draws, in the same order,
	// as one call with all the repetitions, and a progress step for each.
	floorRNG := stream(3)
	floorSample := func(n int) ([]float32, error) { return dataset.Sample(name, n, floorRNG) }
	res.W2Floor, res.W2FloorStd, err = repeatFloor(opt.FloorReps, "data floor", p.next, func() (float64, error) {
		w, _, err := metrics.W2Floor(floorSample, d, opt.N, 1)
		return w, err
	})
	if err != nil {
		return nil, err
	}
	res.W2Ratio = res.W2 / res.W2Floor
	iidRNG, pickRNG := stream(5), stream(6)
	iidSample := func(n int) ([]float32, error) { return dataset.Sample(name, n, iidRNG) }
	res.W2IIDFloor, res.W2IIDFloorStd, err = repeatFloor(opt.IIDFloorReps, "i.i.d. floor", p.next, func() (float64, error) {
		w, _, err := metrics.W2IIDFloor(iidSample, d, opt.N, 1, pickRNG)
		return w, err
	})
	if err != nil {
		return nil, err
	}
	res.W2IIDRatio = res.W2 / res.W2IIDFloor
	p.next("MMD")
	if res.MMD, err = metrics.MMD(gen, data, d, opt.Bandwidths); err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	res.NLL = math.NaN()
	if opt.NLLSteps > 0 {
		p.next("NLL")
		fresh, err := dataset.Sample(name, opt.N, stream(4))
		if err != nil {
			return nil, err
		}
		res.NLL, res.NLLNFE, err = NLL(f, fresh, opt.NLLSteps)
		if err != nil {
			return nil, err
		}
	}
	p.done()
	return res, nil
}

// repeatFloor measures a floor reps times, one draw per call with a progress step
// before each (the same draws, in the same order, as one call with all the
// repetitions), and returns their mean and standard deviation.
func repeatFloor(reps int, what string, next func(string), one func() (float64, error)) (mean, std float64, err error) {
	ws := make([]float64, reps)
	for r := range ws {
		next(fmt.Sprintf("%s %d/%d", what, r+1, reps))
		if ws[r], err = one(); err != nil {
			return 0, 0, fmt.Errorf("eval: %w", err)
		}
	}
	mean, std = metrics.MeanStd(ws)
	return mean, std, nil
}

// NLL is the mean negative log-likelihood, in nats, of the points x (n×d, data space)
// under the model, integrating the continuity equation with steps RK4 steps and the
// network's exact divergence. It returns the NFE used.
func NLL(f *weights.File, x []float32, steps int) (float64, int, error) {
	mlp, path, err := f.Model()
	if err != nil {
		return 0, 0, err
	}
	xn := append([]float32(nil), x...)
	f.Meta.Data.FromData(xn)
	so := sampler.Options{Method: sampler.RK4, Steps: steps, T0: f.Meta.Path.TMax, T1: f.Meta.Path.TMin}
	nll, nfe, err := MeanNLL(mlp, path, xn, so)
	return nll + f.Meta.Data.LogDetToData(), nfe, err
}

// MeanNLL is the mean of −log p_1(x) over the rows of x for any field with an exact
// divergence, integrated with solver options so (by default backwards from the path's
// TMax to 0).
func MeanNLL(field sampler.DivField, path sampler.Path, x []float32, so sampler.Options) (float64, int, error) {
	ll, st, err := sampler.LogLikelihood(field, path, x, sampler.LikelihoodOptions{Solver: so})
	if err != nil {
		return 0, st.NFE, fmt.Errorf("eval: likelihood: %w", err)
	}
	sum := 0.0
	for _, v := range ll {
		sum -= v
	}
	return sum / float64(len(ll)), st.NFE, nil
}
