package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/progress"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

func sampleCommand() Command {
	return Command{
		Name:    "sample",
		Summary: "draw samples from a model file: points as CSV, .npy or a picture (with their trajectories if asked), images as a PNG grid or .npy",
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

// sampleFlags are sample's flags, parsed; set holds the names given on the command line.
type sampleFlags struct {
	model, out, traj *string
	n, paths, size   *int
	seed             *uint64
	density          *bool
	solver           *solverFlags
	img              imageFlags
	set              map[string]bool
}

func addSampleFlags(fs *flag.FlagSet) *sampleFlags {
	return &sampleFlags{
		model:   fs.String("model", "", "model `FILE` (.safetensors)"),
		n:       fs.Int("n", 1000, "number of samples"),
		solver:  addSolverFlags(fs),
		seed:    fs.Uint64("seed", 1, "random seed for the source noise"),
		out:     fs.String("o", "-", "output CSV `file` (header x0,x1,…, in the data's units); - for stdout; a name ending in .npy writes NumPy's format (float32, n×dim); one ending in .png draws the samples instead (the first two coordinates). An image model writes FILE.png, a grid of the images (a row per class for -class all), or FILE.npy, n×height×width float32 intensities in [0, 1]"),
		traj:    fs.String("trajectories", "", "also write the paths of the first -paths samples, every solver step, to `file`: CSV t,id,x0,x1,… or, for a name ending in .png, a picture"),
		paths:   fs.Int("paths", 50, "particles whose paths -trajectories records (at most -n)"),
		size:    fs.Int("size", defaultPictureSize, fmt.Sprintf("width and height of a PNG of points in `pixels` (%d to %d)", minPictureSize, maxPictureSize)),
		density: fs.Bool("density", false, "shade the data's density behind a PNG (toy datasets only)"),
		img:     addImageFlags(fs),
	}
}

func runSample(env Env) error {
	fs := NewFlagSet(env, "sample", "-model FILE [-n N] [-solver S] [-nfe K | -rtol R -atol A] [-seed S] [-o OUT.csv|OUT.npy|OUT.png] [-trajectories T.csv|T.png [-paths K]] [-size PX] [-density]\n"+
		"       flowmatch sample -model IMAGES -o GRID.png|X.npy [-class all|K|NAME] [-guidance W] [-labels Y.npy] [-scale K] [-n N] [-solver S] [-nfe K] [-seed S]")
	sf := addSampleFlags(fs)
	if err := Parse(fs, env.Args); err != nil {
		return err
	}
	sf.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { sf.set[f.Name] = true })
	// Check every flag before any work.
	switch {
	case *sf.model == "":
		return Usagef("-model is required")
	case fs.NArg() > 0:
		return Usagef("unexpected argument %q (sample takes flags only)", fs.Arg(0))
	case *sf.n < 1:
		return Usagef("-n must be at least 1 (got %d)", *sf.n)
	case *sf.out == "":
		return Usagef("-o is empty (use - for stdout)")
	}
	opt, err := sf.solver.options(fs)
	if err != nil {
		return err
	}
	if err := sf.img.checkEarly(); err != nil {
		return err
	}
	if err := sf.checkOutputs(); err != nil {
		return err
	}
	f, err := readModel(*sf.model)
	if err != nil {
		return err
	}
	if f.Meta.Data.IsImage() || f.Meta.Arch == weights.ArchUNet {
		return runSampleImages(env, sf, f, opt)
	}
	if err := refuseImageFlags(sf.set, f, *sf.model); err != nil {
		return err
	}
	return runSamplePoints(env, sf, f, opt)
}

// checkPoints checks the flags of a run that samples points, before any work.
func (sf *sampleFlags) checkPoints(pngOut, pngTraj bool) error {
	out, traj := *sf.out, *sf.traj
	switch {
	case sf.set["trajectories"] && traj == "":
		return Usagef("-trajectories is empty (a .csv or .png file, or - for stdout)")
	case traj == "-" && out == "-":
		return Usagef("-trajectories - and -o - would both write to stdout: give one of them a file")
	case traj != "" && traj != "-" && traj == out:
		return Usagef("-o and -trajectories are the same file %s", out)
	case sf.set["paths"] && traj == "":
		return Usagef("-paths applies to -trajectories only")
	case *sf.paths < 1:
		return Usagef("-paths must be at least 1 (got %d)", *sf.paths)
	case (sf.set["size"] || *sf.density) && !pngOut && !pngTraj:
		flagName := "-size"
		if *sf.density {
			flagName = "-density"
		}
		return Usagef("%s applies to pictures only: -o FILE.png or -trajectories FILE.png", flagName)
	case *sf.size < minPictureSize || *sf.size > maxPictureSize:
		return Usagef("-size must be %d to %d pixels (got %d)", minPictureSize, maxPictureSize, *sf.size)
	}
	return nil
}

// checkOutputs refuses, before the model is read, an output that cannot be written: a
// folder, a missing folder or a read-only one fails now, not after the work.
func (sf *sampleFlags) checkOutputs() error {
	for _, o := range []struct{ flag, path string }{{"-o", *sf.out}, {"-trajectories", *sf.traj}, {"-labels", *sf.img.labels}} {
		if o.path == "" && o.flag != "-o" {
			continue
		}
		if err := checkOutput(o.flag, o.path); err != nil {
			return err
		}
	}
	return nil
}

// refuseForImages checks the flags of a run that samples images, before any work:
// none of the flags for points, an -o that names a grid or an array, a fixed-step solver.
func (sf *sampleFlags) refuseForImages(model string) error {
	for _, name := range []string{"trajectories", "paths", "density", "size"} {
		if sf.set[name] {
			hint := ""
			if name == "size" {
				hint = " (-scale zooms an image grid)"
			}
			return Usagef("-%s applies to models of points; %s is an image model%s", name, model, hint)
		}
	}
	out, labels := *sf.out, *sf.img.labels
	switch {
	case out == "-" || !(isPNG(out) || isNPY(out)):
		return Usagef("-o %s: %s is an image model: write -o FILE.png (a grid of the images) or -o FILE.npy (n×height×width intensities in [0, 1])", out, model)
	case sf.set["scale"] && !isPNG(out):
		return Usagef("-scale applies to a PNG grid (-o FILE.png)")
	case sf.set["labels"] && labels == "":
		return Usagef("-labels is empty (a .npy file)")
	case labels != "" && !isNPY(labels):
		return Usagef("-labels %s: the classes are written as NumPy's format: name a .npy file", labels)
	case labels != "" && labels == out:
		return Usagef("-o and -labels are the same file %s", out)
	case *sf.solver.solver == sampler.Dopri5:
		return Usagef("-solver dopri5: images are sampled with a fixed-step solver (%s)", strings.Join(fixedStepMethods(), ", "))
	}
	return nil
}

// fixedStepMethods are the solvers that take -nfe.
func fixedStepMethods() []string {
	var m []string
	for _, s := range sampler.Methods() {
		if s != sampler.Dopri5 {
			m = append(m, s)
		}
	}
	return m
}

// runSamplePoints is sample for a model of points: CSV, .npy or a picture, and the
// trajectories if asked.
func runSamplePoints(env Env, sf *sampleFlags, f *weights.File, opt sampler.Options) error {
	out, traj, n := *sf.out, *sf.traj, *sf.n
	pngOut := out != "-" && isPNG(out)
	pngTraj := traj != "" && traj != "-" && isPNG(traj)
	if err := sf.checkPoints(pngOut, pngTraj); err != nil {
		return err
	}
	d := f.Meta.Data.Dim
	if n > maxSampleValues/d {
		return Usagef("-n %d is too many: at most %d samples of dimension %d", n, maxSampleValues/d, d)
	}
	style := pictureStyle{size: *sf.size}
	if *sf.density {
		if err := checkDensity(f); err != nil {
			return err
		}
		var err error
		if style.density, err = newDensityMap(f.Meta.Data.Name); err != nil {
			return err
		}
	}
	rec, err := sf.recorder(f, opt)
	if err != nil {
		return err
	}
	bar := progress.New(env.Stderr, int64(n), progress.Options{Desc: "sampling", Unit: "samples", Force: forceProgress})
	if bar != nil {
		opt.OnStep = sampleProgress(bar.Set, n, f.Meta.Path.TMin, f.Meta.Path.TMax)
	}
	if rec != nil {
		// Recording reads the solver's state and changes nothing: the samples are those
		// of a run without it, bit for bit.
		onBar := opt.OnStep
		opt.OnStep = func(t float64, x []float32) {
			if onBar != nil {
				onBar(t, x)
			}
			rec.onStep(t, x)
		}
	}
	start := time.Now()
	x, st, err := f.Sample(n, sampleRNG(*sf.seed), opt)
	bar.Finish()
	if err != nil {
		return fmt.Errorf("sampling %s: %w", *sf.model, err)
	}
	elapsed := time.Since(start)
	if err := finiteRows(x, d, "sample"); err != nil {
		return err
	}
	how := describeSolve(opt, st)
	style.caption = fmt.Sprintf("%s path, %s, NFE %d, seed %d", f.Meta.Path.Name, how, st.NFE, *sf.seed)
	if err := writeSamples(env, out, pngOut, x, d, dataName(f), style); err != nil {
		return err
	}
	if rec != nil {
		if pngTraj {
			err = drawTrajectories(traj, rec, dataName(f), style)
		} else {
			err = writeOutput(env, "-trajectories", traj, func(w io.Writer) error { return writeTrajectoriesCSV(w, rec) })
		}
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(env.Stderr, "flowmatch sample: %d samples of %s (dim %d, path %s, t %g→%g), %s, NFE %d, %s\n",
		n, dataName(f), d, f.Meta.Path.Name, f.Meta.Path.TMin, f.Meta.Path.TMax, how, st.NFE, elapsed.Round(10*time.Microsecond))
	return nil
}

// recorder returns what keeps -trajectories' states, or nil without -trajectories, after
// checking that they fit in memory.
func (sf *sampleFlags) recorder(f *weights.File, opt sampler.Options) (*trajectories, error) {
	if *sf.traj == "" {
		return nil, nil
	}
	d := f.Meta.Data.Dim
	k := min(*sf.paths, *sf.n)
	states := float64(opt.Steps) + 1 // a float: -nfe may be near the largest int
	if opt.Method == sampler.Dopri5 {
		states = sampler.DefaultMaxSteps + 1 // sample leaves dopri5's step limit as it is
	}
	if perPath := float64(d) * states; perPath > maxTrajectoryValues {
		return nil, Usagef("-trajectories cannot record %.0f states of dimension %d: it keeps at most %d values (take fewer steps)", states, d, maxTrajectoryValues)
	}
	if float64(k)*float64(d)*states > maxTrajectoryValues {
		return nil, Usagef("-paths %d is too many to record: %d paths of dimension %d over up to %.0f states pass the %d values -trajectories keeps (at most %.0f paths here)",
			*sf.paths, k, d, states, maxTrajectoryValues, math.Max(1, math.Floor(maxTrajectoryValues/states/float64(d))))
	}
	return &trajectories{k: k, d: d, data: f.Meta.Data}, nil
}

// writeSamples writes the samples to out: CSV to stdout or a file, a NumPy .npy file
// (float32, n×d) for a name ending in .npy, or a picture.
func writeSamples(env Env, out string, png bool, x []float32, d int, name string, style pictureStyle) error {
	if png {
		return drawSamples(out, x, d, name, style)
	}
	if out != "-" && isNPY(out) {
		return writeOutput(env, "-o", out, func(w io.Writer) error { return dataset.WriteNPY(w, x, d) })
	}
	return writeOutput(env, "-o", out, func(w io.Writer) error { return writeCSV(w, x, d) })
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
// form that reads back as the same float32 (dataset.WriteCSV, which train -data reads).
func writeCSV(w io.Writer, x []float32, d int) error { return dataset.WriteCSV(w, x, d) }

// isNPY reports whether an output path names a NumPy .npy file.
func isNPY(path string) bool { return strings.EqualFold(filepath.Ext(path), ".npy") }

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
