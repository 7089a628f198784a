package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/eval"
	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/progress"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

func evalCommand() Command {
	return Command{
		Name:    "eval",
		Summary: "measure a model's samples against its dataset: W2 vs floor, MMD, NLL; for images, a classifier's accuracy and Fréchet distance",
		Run:     runEval,
	}
}

func runEval(env Env) error {
	fs := NewFlagSet(env, "eval", "-model FILE [-data POINTS.csv|.npy] [-n N] [-solver S] [-nfe K | -rtol R -atol A] [-json]\n"+
		"       flowmatch eval -model IMAGES.safetensors [-n N] [-guidance 0,1,2] [-solver S] [-nfe K] [-classifier FILE] [-json]\n"+
		"       flowmatch eval -images X.npy -labels Y.npy [-classifier FILE] [-json]")
	usage := fs.Usage
	fs.Usage = func() {
		usage()
		fmt.Fprint(env.Stderr, evalHelp)
	}
	model := fs.String("model", "", "model file (`FILE`.safetensors)")
	data := fs.String("data", "", "for a model trained on a file of points (train -data FILE): that `FILE` (CSV or .npy), whose held-out rows it is scored on")
	n := fs.Int("n", 2000, fmt.Sprintf("points in each compared set (at most %d: exact W2 takes n²·8 bytes and up to n³ time); for an image model, samples per guidance (default 10000)", eval.MaxN))
	sf := addSolverFlags(fs)
	seed := fs.Uint64("seed", 0, "random seed (noise, data and floor draws)")
	reps := fs.Int("reps", 3, "draws averaged for each W2 floor")
	nllSteps := fs.Int("nll-steps", 20, "RK4 steps of the likelihood solve (0 skips the likelihood)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	ef := addEvalImageFlags(fs)
	if err := Parse(fs, env.Args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case fs.NArg() > 0:
		return Usagef("unexpected argument %q", fs.Arg(0))
	case ef.external():
		return ef.runExternal(env, *model, *seed, *asJSON, set)
	case *model == "":
		return Usagef("-model is required")
	}
	f, err := weights.ReadFile(*model)
	if err != nil {
		return &UsageError{err}
	}
	if f.Meta.Data.IsImage() || f.Meta.Arch == weights.ArchUNet || f.Meta.Arch == weights.ArchClassifier {
		return ef.runModel(env, f, *model, imageEvalArgs{n: *n, seed: *seed, json: *asJSON, set: set, solver: sf, fs: fs})
	}
	if err := ef.refuse(set, f, *model); err != nil {
		return err
	}
	switch {
	case *n < 2:
		return Usagef("-n must be at least 2 (got %d)", *n)
	case *n > eval.MaxN:
		return Usagef("-n %d is above %d, the most points eval compares: exact W2 needs an n×n matrix of n²·8 bytes (%s here) and time growing as n³",
			*n, eval.MaxN, metrics.MatrixSize(*n))
	case *reps < 1:
		return Usagef("-reps must be at least 1 (got %d)", *reps)
	case *nllSteps < 0:
		return Usagef("-nll-steps must not be negative (got %d)", *nllSteps)
	}
	so, err := sf.options(fs)
	if err != nil {
		return err
	}
	own, err := readOwnData(f, *data)
	if err != nil {
		return err
	}
	per, _ := sampler.EvalsPerStep(so.Method)
	opt := eval.Options{N: *n, Solver: so.Method, NFE: so.Steps * per, RTol: so.RTol, ATol: so.ATol,
		Seed: *seed, FloorReps: *reps, NLLSteps: *nllSteps, Own: own}
	if *nllSteps == 0 {
		opt.NLLSteps = -1
	}
	sb := &stageBar{w: env.Stderr}
	opt.Progress = sb.update
	res, err := eval.Evaluate(f, opt)
	sb.finish() // cleared before the results or the error line
	if err != nil {
		return evalError(*model, err)
	}
	res.Model = *model
	return writeEval(env.Stdout, res, *asJSON)
}

// evalError says which model diverged, and makes a file that is not the model's data a
// usage error.
func evalError(model string, err error) error {
	var de *eval.DivergedError
	if errors.As(err, &de) {
		return fmt.Errorf("%s: %w", model, de)
	}
	var dataErr *eval.DataError
	if errors.As(err, &dataErr) {
		return &UsageError{err} // the file is not the model's data
	}
	return err
}

// writeEval writes eval's figures for a model of points as text or JSON.
func writeEval(w io.Writer, res *eval.Result, asJSON bool) error {
	if !asJSON {
		printEval(w, res)
		return nil
	}
	if math.IsNaN(res.NLL) {
		res.NLL = 0 // JSON has no NaN; nll_nfe = 0 says it was skipped
	}
	if res.W2Skipped { // JSON has no NaN; w2_skipped says why they are 0
		res.W2, res.W2Ratio, res.W2Floor, res.W2IIDFloor, res.W2IIDRatio = 0, 0, 0, 0, 0
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

// readOwnData reads -data for a model of a user's data, and refuses -data for a model
// of a built-in dataset and a missing -data for a model of a file.
func readOwnData(f *weights.File, path string) (*dataset.Own, error) {
	src := f.Meta.Data.Source
	switch {
	case path == "" && src == (weights.Source{}):
		return nil, nil
	case path == "":
		return nil, Usagef("the model was trained on the file %s (%d rows): pass it with -data to score the model on its held-out rows", src.File, src.Rows)
	case src == (weights.Source{}):
		return nil, Usagef("-data applies to a model trained on a file of points; this one was trained on the dataset %q (leave out -data)", f.Meta.Data.Name)
	}
	own, err := dataset.ReadFile(path, dataset.ReadOptions{Dim: f.Meta.Data.Dim, DimWhat: "the model's dimension"})
	if err != nil {
		return nil, Usagef("-data: %v", err)
	}
	return own, nil
}

// printEval writes eval's figures as text.
func printEval(w io.Writer, res *eval.Result) {
	fmt.Fprintf(w, "model    %s (dataset %s, path %s)\n", res.Model, res.Dataset, res.Path)
	fmt.Fprintf(w, "sampling %s, NFE %d, n %d\n", res.Solver, res.NFE, res.N)
	against, data, iid := "fresh data", "two fresh data draws", "what a perfect model scores: 1 = indistinguishable from the data"
	if res.HeldOut > 0 {
		against = fmt.Sprintf("%d of the %d rows held out of training", res.N, res.HeldOut)
		data = "n training rows drawn without replacement vs the same held-out rows"
		iid = "n training rows drawn with replacement, what a model that reproduced its training data scores"
	}
	if res.W2Skipped {
		fmt.Fprintf(w, "W2       not measured: dimension above %d, where n points say little about W2\n", eval.MaxW2Dim)
	} else {
		fmt.Fprintf(w, "W2       %.4f (model samples vs %s; lower is better)\n", res.W2, against)
		fmt.Fprintf(w, "         = %.2f× the data-vs-data floor %.4f ± %.4f (%s)\n",
			res.W2Ratio, res.W2Floor, res.W2FloorStd, data)
		fmt.Fprintf(w, "         = %.2f× the i.i.d. floor %.4f ± %.4f (%s)\n",
			res.W2IIDRatio, res.W2IIDFloor, res.W2IIDFloorStd, iid)
	}
	fmt.Fprintf(w, "MMD²     ")
	for i, b := range res.Bandwidths {
		fmt.Fprintf(w, "σ=%g: %.2e  ", b, res.MMD[i])
	}
	fmt.Fprintln(w)
	if res.NLLNFE > 0 {
		what := "fresh data"
		if res.HeldOut > 0 {
			what = "the held-out rows, in the data's units"
		}
		fmt.Fprintf(w, "NLL      %.4f nats (%s, exact divergence, RK4, NFE %d)\n", res.NLL, what, res.NLLNFE)
	}
}

// stageBar draws eval's stages as a progress bar on a terminal (nothing elsewhere).
type stageBar struct {
	w   io.Writer
	bar *progress.Bar
}

func (s *stageBar) update(done, total int, next string) {
	if done == 0 {
		s.bar = progress.New(s.w, int64(total), progress.Options{Desc: "eval: " + next, Unit: "stages"})
	}
	s.bar.Set(int64(done))
	if next != "" {
		s.bar.Describe("eval: " + next)
	}
}

func (s *stageBar) finish() { s.bar.Finish() }

var evalHelp = `
eval samples N points from the model and measures them against N fresh points of the
model's dataset. W2 (exact optimal matching) is shown over two floors, each the mean of
-reps draws at the same N:

  data-vs-data floor  W2 between two fresh data draws.
  i.i.d. floor        W2 between N points drawn i.i.d. from a large data draw and N fresh
                      data points: what a model indistinguishable from the data scores.

moons, rings, circles, 2spirals and pinwheel draw a fixed number of points in each mode,
so two data draws balance exactly, while a model (or the true distribution sampled
i.i.d.) puts a random number in each; even a perfect model then scores above the data
floor (at n 2000 about 1.45× on moons, 2.0× on rings, 1.35× on circles and pinwheel).
W2 / i.i.d. floor is the figure that a perfect model brings to 1 on every dataset;
W2 / data floor is the project's older reference figure.

-n is at most ` + fmt.Sprint(eval.MaxN) + `: exact matching needs an n×n cost matrix (n²·8 bytes) and time
growing as n³ (at the limit, about a minute when the samples are far from the data, as
an untrained model's are). On a terminal a progress bar counts the stages: sampling,
the model's W2, each floor draw, MMD and NLL.
`
