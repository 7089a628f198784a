package cli

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/flowmatch/flowmatch/progress"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

func encodeCommand() Command {
	return Command{
		Name:    "encode",
		Summary: "map data points back to the noise that the model turns into them (CSV in, CSV out)",
		Run:     runEncode,
	}
}

// pointsFlags are the flags that encode and loglik share: the model, the points and the
// output, plus the solver.
type pointsFlags struct {
	name           string // the command's
	model, in, out *string
	solver         *solverFlags
}

func addPointsFlags(env Env, name, usage, outWhat string) (*flag.FlagSet, *pointsFlags) {
	fs := NewFlagSet(env, name, usage)
	pf := &pointsFlags{
		name:  name,
		model: fs.String("model", "", "model `FILE` (.safetensors)"),
		in:    fs.String("in", "", "input CSV `file` of points in the data's units, one a row (header optional); - for stdin"),
		out:   fs.String("o", "-", "output CSV `file` of "+outWhat+"; - for stdout"),
	}
	return fs, pf
}

// check checks the shared flags after Parse, before any work.
func (pf *pointsFlags) check(fs *flag.FlagSet, name string) (sampler.Options, error) {
	switch {
	case *pf.model == "":
		return sampler.Options{}, Usagef("-model is required")
	case *pf.in == "":
		return sampler.Options{}, Usagef("-in is required (a CSV of points, or - for stdin)")
	case fs.NArg() > 0:
		return sampler.Options{}, Usagef("unexpected argument %q (%s takes flags only)", fs.Arg(0), name)
	}
	opt, err := pf.solver.options(fs)
	if err != nil {
		return opt, err
	}
	if err := checkOutput("-o", *pf.out); err != nil {
		return opt, err
	}
	return opt, nil
}

// load reads the model and then the points (whose width is the model's dimension).
func (pf *pointsFlags) load(env Env) (*weights.File, []float32, error) {
	f, err := readModel(*pf.model)
	if err != nil {
		return nil, nil, err
	}
	if err := refuseImageModel(f, *pf.model, pf.name); err != nil {
		return nil, nil, err
	}
	r, name, closeIn, err := openPoints(env, *pf.in)
	if err != nil {
		return nil, nil, err
	}
	defer closeIn()
	x, err := readPoints(r, name, f.Meta.Data.Dim, 0)
	if err != nil {
		return nil, nil, err
	}
	return f, x, nil
}

func runEncode(env Env) error {
	fs, pf := addPointsFlags(env, "encode",
		"-model FILE -in POINTS.csv [-solver S] [-nfe K | -rtol R -atol A] [-o NOISE.csv]", "noise")
	pf.solver = addSolverFlags(fs)
	if err := Parse(fs, env.Args); err != nil {
		return err
	}
	opt, err := pf.check(fs, "encode")
	if err != nil {
		return err
	}
	f, x, err := pf.load(env)
	if err != nil {
		return err
	}
	field, _, err := f.Field()
	if err != nil {
		return &UsageError{err}
	}
	d := f.Meta.Data.Dim
	n := len(x) / d

	bar := progress.New(env.Stderr, int64(n), progress.Options{Desc: "encoding", Unit: "points", Force: forceProgress})
	if bar != nil {
		opt.OnStep = sampleProgress(bar.Set, n, f.Meta.Path.TMax, f.Meta.Path.TMin)
	}
	start := time.Now()
	f.Meta.Data.FromData(x)
	st, err := encodeNoise(field, x, f.Meta.Path.TMin, f.Meta.Path.TMax, opt)
	bar.Finish()
	if err != nil {
		return fmt.Errorf("encoding %s: %w", *pf.in, err)
	}
	elapsed := time.Since(start)
	if err := finiteRows(x, d, "point"); err != nil {
		return err
	}
	if err := writeOutput(env, "-o", *pf.out, func(w io.Writer) error { return writeCSV(w, x, d) }); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "flowmatch encode: %d points of %s (dim %d, path %s, t %g→%g), %s, NFE %d, %s\n",
		n, dataName(f), d, f.Meta.Path.Name, f.Meta.Path.TMax, f.Meta.Path.TMin, describeSolve(opt, st), st.NFE,
		elapsed.Round(10*time.Microsecond))
	return nil
}

// encodeNoise integrates x (n×d, the network's space) in place backwards along the
// field, from tmax to tmin: the inverse of sampling, which integrates from tmin to tmax.
// What it leaves in x is the noise, in the source's space (N(0, s0² I) for data the
// model fits).
func encodeNoise(field sampler.Field, x []float32, tmin, tmax float64, opt sampler.Options) (sampler.Stats, error) {
	opt.T0, opt.T1, opt.Grid = tmax, tmin, nil
	return sampler.Solve(field, x, opt)
}

// describeSolve says which solver ran and what it took: "heun, 4 steps" or "dopri5
// (rtol 1e-05, atol 1e-05), 12 steps, 1 rejected".
func describeSolve(opt sampler.Options, st sampler.Stats) string {
	if opt.Method == sampler.Dopri5 {
		return fmt.Sprintf("dopri5 (rtol %g, atol %g), %d steps, %d rejected", opt.RTol, opt.ATol, st.Steps, st.Rejected)
	}
	return fmt.Sprintf("%s, %d steps", opt.Method, st.Steps)
}

// dataName is the model's dataset name for messages.
func dataName(f *weights.File) string {
	if f.Meta.Data.Name == "" {
		return "unnamed data"
	}
	return f.Meta.Data.Name
}
