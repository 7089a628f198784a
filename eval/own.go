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

// MaxW2Dim is the largest data dimension at which Evaluate measures W2 on a user's
// data: above it, n points say little about W2 (its estimate's bias shrinks as
// n^(−1/d)), so only MMD and NLL are measured.
const MaxW2Dim = 16

// checkOwn checks that own is the data the model f was trained on, by its record
// (weights.Source), and returns the held-out rows' mask.
func checkOwn(f *weights.File, own *dataset.Own) ([]bool, error) {
	src, d := f.Meta.Data.Source, f.Meta.Data.Dim
	switch {
	case src == (weights.Source{}):
		return nil, dataErrorf("eval: the model was trained on the dataset %q, not on a file of points: leave out the data file", f.Meta.Data.Name)
	case own == nil:
		return nil, dataErrorf("eval: the model was trained on the file %s (%d rows): give that file to compare with its held-out rows", fileName(src), src.Rows)
	case src.SHA256 != "" && own.SHA256 != src.SHA256:
		return nil, dataErrorf("eval: %s is not the data the model was trained on: its SHA-256 is %.12s…, the model's file %s had %.12s… (%d rows)",
			own.File, own.SHA256, fileName(src), src.SHA256, src.Rows)
	case own.Rows != src.Rows || own.Dim != d:
		return nil, dataErrorf("eval: %s holds %d rows of %d, but the model was trained on %d rows of %d", own.File, own.Rows, own.Dim, src.Rows, d)
	case src.Holdout.Rows == 0:
		return nil, dataErrorf("eval: the model held out no rows of %s: there is nothing unseen to score it on", fileName(src))
	case src.Holdout.Rule != dataset.HoldoutRule:
		return nil, dataErrorf("eval: the model's held-out rows follow the rule %q, which this version does not know (it knows %q)", src.Holdout.Rule, dataset.HoldoutRule)
	}
	mask := dataset.Holdout(src.Rows, src.Holdout.Seed)
	if k := dataset.HoldoutCount(src.Rows); k != src.Holdout.Rows {
		return nil, dataErrorf("eval: the model records %d held-out rows of %d, the rule holds out %d", src.Holdout.Rows, src.Rows, k)
	}
	return mask, nil
}

// DataError says that the data given for a model of a user's data are not what it
// was trained on (or there is nothing held out to score): the caller's mistake.
type DataError struct{ Msg string }

func (e *DataError) Error() string { return e.Msg }

func dataErrorf(format string, args ...any) error {
	return &DataError{Msg: fmt.Sprintf(format, args...)}
}

func fileName(src weights.Source) string {
	if src.File == "" {
		return "(unnamed)"
	}
	return src.File
}

// ownStages is how many stages evaluateOwn reports: sampling, the model's W2 and each
// floor draw (d ≤ MaxW2Dim only), MMD and NLL.
func ownStages(opt Options, d int) int {
	k := 3
	if d <= MaxW2Dim {
		k += 1 + opt.FloorReps + opt.IIDFloorReps
	}
	if opt.NLLSteps < 0 {
		k--
	}
	return k
}

// evaluateOwn is Evaluate for a model of a user's data: it compares the model's samples
// with the rows the model never saw (the held-out rows, all of them or opt.N chosen at
// random), in data units.
//
// The floors are taken against the same held-out rows. The i.i.d. floor is W2 between n
// training rows drawn with replacement and the held-out rows: a model that learned its
// training distribution exactly (training draws rows uniformly with replacement) scores
// it. The data floor draws the n training rows without replacement instead. NLL is the
// held-out rows' mean −log p in nats, in the data's units (the network's density less
// Σ log std; a constant column is left out, see weights.DataInfo.LogDetToData).
func evaluateOwn(f *weights.File, opt Options) (*Result, error) {
	mask, err := checkOwn(f, opt.Own)
	if err != nil {
		return nil, err
	}
	d := f.Meta.Data.Dim
	var held, train []float32
	for i, h := range mask {
		row := opt.Own.Points[i*d : (i+1)*d]
		if h {
			held = append(held, row...)
		} else {
			train = append(train, row...)
		}
	}
	stream := func(k uint64) *rand.Rand { return rand.New(rand.NewPCG(opt.Seed, k)) }
	n := min(opt.N, len(held)/d)
	if n < 2 {
		return nil, dataErrorf("eval: %d held-out rows, want at least 2", len(held)/d)
	}
	held = pickRows(held, d, n, false, stream(2))
	p := &stages{opt: opt, total: ownStages(opt, d)}
	p.next("sampling")
	gen, nfe, err := sampleChecked(f, n, opt, stream(1))
	if err != nil {
		return nil, err
	}
	res := &Result{Dataset: f.Meta.Data.Name, Path: f.Meta.Path.Name, Solver: opt.Solver, NFE: nfe, N: n,
		Bandwidths: opt.Bandwidths, HeldOut: len(mask) - len(train)/d}
	if d <= MaxW2Dim {
		if err := ownW2(res, gen, held, train, d, opt, p, stream); err != nil {
			return nil, err
		}
	} else {
		res.W2Skipped = true
		res.W2, res.W2Floor, res.W2Ratio, res.W2IIDFloor, res.W2IIDRatio = math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()
	}
	p.next("MMD")
	if res.MMD, err = metrics.MMD(gen, held, d, opt.Bandwidths); err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	res.NLL = math.NaN()
	if opt.NLLSteps > 0 {
		p.next("NLL")
		if res.NLL, res.NLLNFE, err = NLL(f, held, opt.NLLSteps); err != nil {
			return nil, err
		}
	}
	p.done()
	return res, nil
}

// ownW2 measures the model's W2 against the held-out rows and the two floors.
func ownW2(res *Result, gen, held, train []float32, d int, opt Options, p *stages, stream func(uint64) *rand.Rand) error {
	var err error
	p.next("model W2")
	if res.W2, err = metrics.W2(gen, held, d); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	n := len(held) / d
	floor := func(reps int, replace bool, rng *rand.Rand, what string) (float64, float64, error) {
		return repeatFloor(reps, what, p.next, func() (float64, error) {
			return metrics.W2(pickRows(train, d, n, replace, rng), held, d)
		})
	}
	if len(train)/d < n {
		return errors.New("eval: fewer training rows than held-out ones: no floor to measure")
	}
	if res.W2Floor, res.W2FloorStd, err = floor(opt.FloorReps, false, stream(3), "data floor"); err != nil {
		return err
	}
	if res.W2IIDFloor, res.W2IIDFloorStd, err = floor(opt.IIDFloorReps, true, stream(5), "i.i.d. floor"); err != nil {
		return err
	}
	res.W2Ratio, res.W2IIDRatio = res.W2/res.W2Floor, res.W2/res.W2IIDFloor
	return nil
}

// pickRows returns n rows of x (m×d), chosen uniformly with or without replacement (a
// partial Fisher–Yates shuffle), in a fresh slice; all m rows in order when n = m
// without replacement.
func pickRows(x []float32, d, n int, replace bool, rng *rand.Rand) []float32 {
	m := len(x) / d
	out := make([]float32, 0, n*d)
	if !replace && n == m {
		return append(out, x...)
	}
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	for i := 0; i < n; i++ {
		k := rng.IntN(m)
		if !replace {
			k = i + rng.IntN(m-i)
			idx[i], idx[k] = idx[k], idx[i]
			k = idx[i]
		}
		out = append(out, x[k*d:(k+1)*d]...)
	}
	return out
}

// sampleChecked samples n points from f (in data units) and refuses a diverged solve.
func sampleChecked(f *weights.File, n int, opt Options, rng *rand.Rand) ([]float32, int, error) {
	so := sampler.Options{Method: opt.Solver, RTol: opt.RTol, ATol: opt.ATol}
	if opt.Solver != sampler.Dopri5 {
		steps, err := sampler.StepsForNFE(opt.Solver, opt.NFE)
		if err != nil {
			return nil, 0, err
		}
		so.Steps = steps
	}
	gen, st, err := f.Sample(n, rng, so)
	if err != nil {
		return nil, 0, fmt.Errorf("eval: sampling: %w", err)
	}
	d := f.Meta.Data.Dim
	for i, v := range gen {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, 0, fmt.Errorf("eval: %w", &DivergedError{Sample: i / d, Coord: i % d, Value: v, Solver: opt.Solver, NFE: st.NFE})
		}
	}
	return gen, st.NFE, nil
}

// stages reports Evaluate's stages to Options.Progress: "sampling" at 0, then one
// more done at each next stage, and all of them at done.
type stages struct {
	opt          Options
	ndone, total int
}

func (p *stages) next(stage string) {
	if p.opt.Progress == nil {
		return
	}
	if stage != "sampling" {
		p.ndone++
	}
	p.opt.Progress(p.ndone, p.total, stage)
}

func (p *stages) done() {
	if p.opt.Progress != nil {
		p.opt.Progress(p.total, p.total, "")
	}
}
