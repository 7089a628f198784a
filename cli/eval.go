package cli

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/flowmatch/flowmatch/eval"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

func evalCommand() Command {
	return Command{
		Name:    "eval",
		Summary: "measure a model's samples against its dataset: W2 vs floor, MMD, NLL",
		Run:     runEval,
	}
}

func runEval(env Env) error {
	fs := NewFlagSet(env, "eval", "-model FILE [-n N] [-solver S] [-nfe K | -rtol R -atol A] [-json]")
	model := fs.String("model", "", "model file (`FILE`.safetensors)")
	n := fs.Int("n", 2000, "points in each compared set")
	sf := addSolverFlags(fs)
	seed := fs.Uint64("seed", 0, "random seed (noise, data and floor draws)")
	reps := fs.Int("reps", 3, "data-vs-data draws averaged for the W2 floor")
	nllSteps := fs.Int("nll-steps", 20, "RK4 steps of the likelihood solve (0 skips the likelihood)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	if err := Parse(fs, env.Args); err != nil {
		return err
	}
	switch {
	case *model == "":
		return Usagef("-model is required")
	case fs.NArg() > 0:
		return Usagef("unexpected argument %q", fs.Arg(0))
	case *n < 2:
		return Usagef("-n must be at least 2 (got %d)", *n)
	case *reps < 1:
		return Usagef("-reps must be at least 1 (got %d)", *reps)
	case *nllSteps < 0:
		return Usagef("-nll-steps must not be negative (got %d)", *nllSteps)
	}
	so, err := sf.options(fs)
	if err != nil {
		return err
	}
	f, err := weights.ReadFile(*model)
	if err != nil {
		return &UsageError{err}
	}
	per, _ := sampler.EvalsPerStep(so.Method)
	opt := eval.Options{N: *n, Solver: so.Method, NFE: so.Steps * per, RTol: so.RTol, ATol: so.ATol,
		Seed: *seed, FloorReps: *reps, NLLSteps: *nllSteps}
	if *nllSteps == 0 {
		opt.NLLSteps = -1
	}
	res, err := eval.Evaluate(f, opt)
	if err != nil {
		return err
	}
	res.Model = *model
	if *asJSON {
		if math.IsNaN(res.NLL) {
			res.NLL = 0 // JSON has no NaN; nll_nfe = 0 says it was skipped
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	w := env.Stdout
	fmt.Fprintf(w, "model    %s (dataset %s, path %s)\n", res.Model, res.Dataset, res.Path)
	fmt.Fprintf(w, "sampling %s, NFE %d, n %d\n", res.Solver, res.NFE, res.N)
	fmt.Fprintf(w, "W2       %.4f   floor %.4f ± %.4f (data vs data, n %d)   ratio %.2f\n",
		res.W2, res.W2Floor, res.W2FloorStd, res.N, res.W2Ratio)
	fmt.Fprintf(w, "MMD²     ")
	for i, b := range res.Bandwidths {
		fmt.Fprintf(w, "σ=%g: %.2e  ", b, res.MMD[i])
	}
	fmt.Fprintln(w)
	if res.NLLNFE > 0 {
		fmt.Fprintf(w, "NLL      %.4f nats (fresh data, exact divergence, RK4, NFE %d)\n", res.NLL, res.NLLNFE)
	}
	return nil
}
