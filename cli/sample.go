package cli

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/flowmatch/flowmatch/outfile"
	"github.com/flowmatch/flowmatch/progress"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

func sampleCommand() Command {
	return Command{
		Name:    "sample",
		Summary: "draw samples from a model file and write them as CSV",
		Run:     runSample,
	}
}

// sampleRNG is the random source behind -seed: PCG seeded with the seed and a fixed
// stream constant.
func sampleRNG(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x666c6f776d617463)) // "flowmatc"
}

// maxSampleValues bounds -n × dim (512 MiB of float32).
const maxSampleValues = 1 << 27

// forceProgress draws the progress bar off a terminal too; tests set it.
var forceProgress bool

// sampleProgress returns a solver OnStep that reports, through set, the fraction of
// [t0, t1] covered, counted in samples out of n. Time is the one measure of progress
// both kinds of solver share: dopri5 does not know its number of steps ahead, and for
// a fixed-step solver the fraction of time is the fraction of steps.
func sampleProgress(set func(int64), n int, t0, t1 float64) func(float64, []float32) {
	if !(t1 != t0) {
		return nil
	}
	return func(t float64, _ []float32) {
		frac := (t - t0) / (t1 - t0)
		set(int64(math.Round(float64(n) * min(max(frac, 0), 1))))
	}
}

func runSample(env Env) error {
	fs := NewFlagSet(env, "sample", "-model FILE [-n N] [-solver S] [-nfe K | -rtol R -atol A] [-seed S] [-o OUT.csv]")
	model := fs.String("model", "", "model `FILE` (.safetensors)")
	n := fs.Int("n", 1000, "number of samples")
	sf := addSolverFlags(fs)
	seed := fs.Uint64("seed", 1, "random seed for the source noise")
	out := fs.String("o", "-", "output CSV `file`; - for stdout")
	if err := Parse(fs, env.Args); err != nil {
		return err
	}
	// Check every flag before any work.
	switch {
	case *model == "":
		return Usagef("-model is required")
	case fs.NArg() > 0:
		return Usagef("unexpected argument %q (sample takes flags only)", fs.Arg(0))
	case *n < 1:
		return Usagef("-n must be at least 1 (got %d)", *n)
	case *out == "":
		return Usagef("-o is empty (use - for stdout)")
	}
	opt, err := sf.options(fs)
	if err != nil {
		return err
	}

	// A folder, a missing folder or a read-only one fails now, not after the work.
	if *out != "-" {
		if err := outfile.Check(*out); err != nil {
			return Usagef("-o: %v", err)
		}
	}

	f, err := readModel(*model)
	if err != nil {
		return err
	}
	d := f.Meta.Data.Dim
	if *n > maxSampleValues/d {
		return Usagef("-n %d is too many: at most %d samples of dimension %d", *n, maxSampleValues/d, d)
	}
	bar := progress.New(env.Stderr, int64(*n), progress.Options{Desc: "sampling", Unit: "samples", Force: forceProgress})
	if bar != nil {
		opt.OnStep = sampleProgress(bar.Set, *n, f.Meta.Path.TMin, f.Meta.Path.TMax)
	}
	start := time.Now()
	x, st, err := f.Sample(*n, sampleRNG(*seed), opt)
	bar.Finish()
	if err != nil {
		return fmt.Errorf("sampling %s: %w", *model, err)
	}
	elapsed := time.Since(start)
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("sample %d, coordinate %d is %v: the solve diverged (try more steps or another solver)", i/d, i%d, v)
		}
	}
	if *out == "-" {
		if err := writeCSV(env.Stdout, x, d); err != nil {
			return fmt.Errorf("writing stdout: %w", err)
		}
	} else {
		w, err := outfile.Create(*out)
		if err != nil {
			return Usagef("-o: %v", err)
		}
		defer w.Abort() // keeps an existing file as it was when anything below fails
		if err := writeCSV(w, x, d); err != nil {
			return fmt.Errorf("writing %s: %w", *out, unwrapPath(err))
		}
		if err := w.Commit(); err != nil {
			return err
		}
	}

	how := fmt.Sprintf("%s, %d steps", opt.Method, st.Steps)
	if opt.Method == sampler.Dopri5 {
		how = fmt.Sprintf("dopri5 (rtol %g, atol %g), %d steps, %d rejected", opt.RTol, opt.ATol, st.Steps, st.Rejected)
	}
	name := f.Meta.Data.Name
	if name == "" {
		name = "unnamed data"
	}
	fmt.Fprintf(env.Stderr, "flowmatch sample: %d samples of %s (dim %d, path %s, t %g→%g), %s, NFE %d, %s\n",
		*n, name, d, f.Meta.Path.Name, f.Meta.Path.TMin, f.Meta.Path.TMax, how, st.NFE, elapsed.Round(10*time.Microsecond))
	return nil
}

// readModel reads the model file at path. Each way it can fail (a missing file, a
// folder, a file that is not a model) is the user's, so each is a usage error.
func readModel(path string) (*weights.File, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, Usagef("%s is a folder, not a model file", path)
	}
	f, err := weights.ReadFile(path)
	if err != nil {
		return nil, &UsageError{err}
	}
	return f, nil
}

// writeCSV writes a header x0,x1,… and one row per point, each value in the shortest
// form that reads back as the same float32.
func writeCSV(w io.Writer, x []float32, d int) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	for j := 0; j < d; j++ {
		if j > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("x" + strconv.Itoa(j))
	}
	bw.WriteByte('\n')
	var buf []byte
	for i := 0; i < len(x); i += d {
		buf = buf[:0]
		for j, v := range x[i : i+d] {
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendFloat(buf, float64(v), 'g', -1, 32)
		}
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// unwrapPath drops a *PathError's repetition of the (temporary) file's name.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// solverFlags are the flags that choose a solver and its budget, shared by the commands
// that sample: -solver, then -nfe for a fixed-step method or -rtol/-atol for dopri5.
type solverFlags struct {
	solver     *string
	nfe        *int
	rtol, atol *float64
}

func addSolverFlags(fs *flag.FlagSet) *solverFlags {
	return addSolverFlagsWith(fs, sampler.Midpoint, 20)
}

// addSolverFlagsWith is addSolverFlags with other defaults for -solver and -nfe.
func addSolverFlagsWith(fs *flag.FlagSet, solver string, nfe int) *solverFlags {
	return &solverFlags{
		solver: fs.String("solver", solver, "ODE solver: "+strings.Join(sampler.Methods(), ", ")),
		nfe:    fs.Int("nfe", nfe, "network evaluations for a fixed-step solver: a whole number of steps (euler 1 a step, midpoint and heun 2, rk4 4)"),
		rtol:   fs.Float64("rtol", 1e-5, "relative tolerance (dopri5 only)"),
		atol:   fs.Float64("atol", 1e-5, "absolute tolerance (dopri5 only)"),
	}
}

// options checks the flags after fs.Parse and turns them into solver options, or a
// usage error that says which flag is wrong and what would do.
func (sf *solverFlags) options(fs *flag.FlagSet) (sampler.Options, error) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	solver, nfe, rtol, atol := *sf.solver, *sf.nfe, *sf.rtol, *sf.atol
	opt := sampler.Options{Method: solver}
	per, err := sampler.EvalsPerStep(solver)
	if err != nil {
		return opt, Usagef("unknown -solver %q (want one of %s)", solver, strings.Join(sampler.Methods(), ", "))
	}
	if solver == sampler.Dopri5 {
		if set["nfe"] {
			return opt, Usagef("dopri5 is adaptive: it takes -rtol and -atol, not -nfe")
		}
		if !(rtol > 0 && atol > 0) || math.IsInf(rtol, 0) || math.IsInf(atol, 0) {
			return opt, Usagef("-rtol and -atol must be positive and finite (got %g, %g)", rtol, atol)
		}
		opt.RTol, opt.ATol = rtol, atol
		return opt, nil
	}
	if set["rtol"] || set["atol"] {
		return opt, Usagef("-rtol and -atol apply to dopri5 only; %s takes -nfe", solver)
	}
	switch {
	case nfe < 1:
		return opt, Usagef("-nfe must be positive (got %d)", nfe)
	case nfe < per:
		return opt, Usagef("-nfe %d is less than one %s step, which takes %d evaluations", nfe, solver, per)
	case nfe%per != 0:
		lo := nfe / per * per
		return opt, Usagef("-nfe %d is not a whole number of %s steps of %d evaluations each: use %d or %d", nfe, solver, per, lo, lo+per)
	}
	opt.Steps = nfe / per
	return opt, nil
}
