package trainer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/flowmatch/flowmatch/cli"
	"github.com/flowmatch/flowmatch/outfile"
	"github.com/flowmatch/flowmatch/recipe"
	"github.com/flowmatch/flowmatch/train/internal/tt"
)

// Options are a run's operating hooks, as opposed to its Config (what is trained).
type Options struct {
	// Log receives plain log lines (nil: slog.Default()).
	Log *slog.Logger
	// Progress, when set, gets a live progress bar (loss, steps/s, ETA) instead of
	// periodic log lines. The command sets it when stderr is a terminal.
	Progress io.Writer
	// StopAfter, when positive, makes Run return ErrStopped right after this many steps
	// (and after writing the checkpoint due at that step, if any): a stand-in for a
	// killed process, for tests of -resume.
	StopAfter int
	// NoVerify skips the check that the pure-Go sampler reproduces libtorch's velocity.
	NoVerify bool
}

// ErrStopped is returned when Options.StopAfter ends a run early.
var ErrStopped = errors.New("trainer: stopped early (Options.StopAfter)")

// Result describes a finished run.
type Result struct {
	Device      string
	Steps       int     // total steps of the run (including those before a resume)
	StartStep   int     // the step this process started from (0, or the checkpoint's)
	FirstLoss   float64 // loss of this process's first step
	Loss        float64 // smoothed loss at the end
	LastLoss    float64
	Seconds     float64 // this process's training time (excluding export)
	StepsPerSec float64 // this process's steps / Seconds
	// RSS is the resident memory (bytes) sampled every 1,000 steps, by step.
	RSS map[int]int64
	// Calls is the number of libtorch calls this process made per training step.
	CallsPerStep float64
	// VerifyMaxErr is the largest |v_libtorch − v_go| over the check batch, and
	// VerifyScale the largest |v| (both 0 when NoVerify).
	VerifyMaxErr, VerifyScale float64
	Checkpoint                string // checkpoint left on disk, if any
}

// Run trains the model cfg describes and writes it to cfg.Out.
//
// Before any work it refuses, with a *cli.UsageError, a run that cannot go ahead as
// asked: one that needs more memory than the machine has (checkMemory), a checkpoint
// left by an earlier run when neither Resume (continue it) nor Restart (discard it) is
// set, and on Resume a checkpoint of other settings or past cfg.Steps. It holds a lock
// on cfg.Out and on the checkpoint while it runs, so that a second run on either fails
// at once.
//
// Its stages: setup (checks, locks, the checkpoint to continue), resumeOrInit (the
// state at the first step), loop (the steps) and finish (export, checkpoint). With
// cfg.Engine EngineGo, runGo (engine_go.go) trains instead, with no checkpoints.
func Run(ctx context.Context, cfg Config, opt Options) (*Result, error) {
	if cfg.Engine == EngineGo {
		return runGo(ctx, cfg, opt)
	}
	r, err := setup(cfg, opt)
	if err != nil {
		return nil, err
	}
	defer r.unlock()

	// libtorch reports errors in a thread-local: keep every call on one OS thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	e, err := newEngineFor(&r.cfg, r.dev)
	if err != nil {
		return nil, err
	}
	defer e.free()
	r.e = e
	if err := r.resumeOrInit(); err != nil {
		return nil, err
	}
	pf := recipe.NewPrefetcher(r.stream, r.cfg.Steps-r.start)
	defer pf.Stop()
	if err := r.loop(ctx, pf); err != nil {
		return nil, err
	}
	return r.finish()
}

// run is the state of one Run, shared by its stages.
type run struct {
	cfg     Config
	opt     Options
	log     *slog.Logger
	dev     tt.Device
	ckOn    bool        // the run keeps a checkpoint
	ckPath  string      // cfg.CkptPath()
	ckFile  string      // the checkpoint file, symlinks resolved
	ck      *checkpoint // the checkpoint resumed from, or nil
	unlocks []func()    // release the locks, last first

	e      *engine
	stream batchStream
	res    *Result

	start    int       // the step this process starts at
	lossEMA  float64   // the smoothed loss (recipe.SmoothLoss)
	elapsed  float64   // training seconds before this process (from the checkpoint)
	rngState []byte    // the data stream's state after the last batch trained on
	lastCkpt int       // step of the last checkpoint on disk, or −1
	t0       time.Time // when this process started stepping
}

// batchStream is a run's source of batches: a recipe.Batcher for an MLP, an
// imageStream for a U-Net.
type batchStream interface {
	recipe.Stream
	SetState(state []byte) error
}

// setup checks cfg, resolves the device and the checkpoint, refuses what cannot run,
// takes the locks, and reads the checkpoint to continue, if any.
func setup(cfg Config, opt Options) (*run, error) {
	if err := cfg.loadOwn(); err != nil {
		return nil, &cli.UsageError{Err: err}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, opt: opt, log: opt.Log, ckPath: cfg.CkptPath(), lastCkpt: -1}
	if r.log == nil {
		r.log = slog.Default()
	}
	dev, devName, err := resolveDevice(cfg.Device)
	if err != nil {
		return nil, err
	}
	r.dev, r.res = dev, &Result{Device: devName, RSS: map[int]int64{}}
	if err := checkMemory(&r.cfg, dev); err != nil {
		return nil, &cli.UsageError{Err: err}
	}
	ckTarget, ckOn, err := r.cfg.checkpointTarget()
	if err != nil {
		return nil, err
	}
	r.ckOn, r.ckFile = ckOn, ckTarget.Path
	if out, err := outfile.Resolve(cfg.Out); err == nil && out.Regular {
		if err := r.lock(out.Path, "-o"); err != nil {
			return nil, err
		}
	}
	if ckOn {
		if err := r.lock(ckTarget.Path, "-ckpt"); err != nil {
			return nil, err
		}
		if r.ck, err = openCheckpoint(&r.cfg, r.log); err != nil {
			r.unlock()
			return nil, err
		}
	}
	return r, nil
}

// lock takes the lock on file (named flag in errors), or releases the locks taken so
// far and fails.
func (r *run) lock(file, flag string) error {
	unlock, err := lockFile(file, flag)
	if err != nil {
		r.unlock()
		return err
	}
	r.unlocks = append(r.unlocks, unlock)
	return nil
}

// unlock releases the run's locks, last first.
func (r *run) unlock() {
	for i := len(r.unlocks) - 1; i >= 0; i-- {
		r.unlocks[i]()
	}
	r.unlocks = nil
}

// resumeOrInit puts the engine and the data stream at the run's first step: the
// checkpoint's (parameters, EMA, Adam moments, stream state, step, smoothed loss), or
// step 0 with the initial weights. With Restart it first removes the old checkpoint.
func (r *run) resumeOrInit() error {
	e, ck := r.e, r.ck
	if ck != nil && ck.hdr.NParams != e.n {
		return fmt.Errorf("checkpoint %s has %d parameters, the model %d", r.ckPath, ck.hdr.NParams, e.n)
	}
	if r.ckOn && r.cfg.Restart {
		if err := os.Remove(r.ckFile); err == nil {
			r.log.Info("discarded the old checkpoint (-restart)", "checkpoint", r.ckPath)
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("-restart: %w", err)
		}
	}
	var err error
	if r.stream, err = newStream(&r.cfg); err != nil {
		return err
	}
	if ck != nil {
		if err := r.resume(); err != nil {
			return err
		}
	} else {
		p := initParams(&r.cfg, e)
		e.write(e.P, p)
		e.write(e.E, p)
	}
	if err := e.err(); err != nil {
		return err
	}
	r.res.StartStep = r.start
	r.rngState, err = r.stream.State()
	return err
}

// newStream is the batch stream of cfg at step 0.
func newStream(cfg *Config) (batchStream, error) {
	if cfg.Images() {
		return newImageStream(cfg, cfg.images), nil
	}
	return recipe.NewStream(cfg.data(), cfg.Seed)
}

// newEngineFor allocates the engine of cfg's network on dev.
func newEngineFor(cfg *Config, dev tt.Device) (*engine, error) {
	if cfg.Images() {
		return newImageEngine(cfg.UNet(), cfg.Batch, dev)
	}
	return newEngine(cfg.Spec(), cfg.Batch, dev)
}

// initParams draws the initial parameters of e's network, flat.
func initParams(cfg *Config, e *engine) []float32 {
	if cfg.Images() {
		return initUNet(cfg.UNet(), cfg.Seed)
	}
	return recipe.InitParams(e.shapes, cfg.Seed)
}

// resume loads the checkpoint r.ck.
func (r *run) resume() error {
	e, ck := r.e, r.ck
	if err := r.stream.SetState(ck.hdr.RNG); err != nil {
		return fmt.Errorf("checkpoint %s: rng state: %w", r.ckPath, err)
	}
	e.write(e.P, ck.P)
	e.write(e.E, ck.E)
	e.write(e.M, ck.M)
	e.write(e.V, ck.V)
	r.start, r.lossEMA, r.elapsed = ck.hdr.Step, ck.hdr.LossEMA, ck.hdr.Seconds
	r.res.LastLoss = ck.hdr.Loss
	r.lastCkpt = r.start
	if was := ck.hdr.Run.Steps; was != 0 && was != r.cfg.Steps {
		r.log.Info("resuming with another -steps: the learning-rate schedule continues for the new total",
			"checkpoint", r.ckPath, "step", r.start, "was", was, "of", r.cfg.Steps)
	} else {
		r.log.Info("resuming", "checkpoint", r.ckPath, "step", r.start, "of", r.cfg.Steps)
	}
	return nil
}

// loop trains from r.start to cfg.Steps on the prefetched batches, writing the
// checkpoints that fall due. It ends early with an error on interruption (ctx),
// divergence or Options.StopAfter.
func (r *run) loop(ctx context.Context, pf *recipe.Prefetcher) error {
	cfg, e := &r.cfg, r.e
	sched := cfg.schedule()
	prog := newProgress(r.opt.Progress, r.log, r.cfg, r.start)
	defer prog.finish() // on an error; a no-op after the explicit calls
	calls0 := e.c.Calls
	r.t0 = time.Now()
	step := r.start
	for ; step < cfg.Steps; step++ {
		if err := ctx.Err(); err != nil {
			prog.finish()
			return r.interrupted(step)
		}
		loss, err := r.step(pf, step)
		if err != nil {
			return err
		}
		done := step + 1
		if done%1000 == 0 {
			r.res.RSS[done] = rss()
		}
		prog.update(done, r.lossEMA, sched.At(step))
		if r.ckOn && cfg.CkptEvery > 0 && done%cfg.CkptEvery == 0 && done < cfg.Steps {
			if err := r.saveCheckpoint(done, loss); err != nil {
				return err
			}
			r.lastCkpt = done
		}
		if r.opt.StopAfter > 0 && done == r.opt.StopAfter && done < cfg.Steps {
			return ErrStopped
		}
	}
	prog.finish()
	res := r.res
	res.Seconds = time.Since(r.t0).Seconds()
	res.Steps = cfg.Steps
	res.Loss = r.lossEMA
	if n := step - r.start; n > 0 {
		res.StepsPerSec = float64(n) / res.Seconds
		res.CallsPerStep = float64(e.c.Calls-calls0) / float64(n)
	}
	return nil
}

// step trains step `step` (0-based) on the next prefetched batch and returns its loss.
func (r *run) step(pf *recipe.Prefetcher, step int) (float64, error) {
	e := r.e
	bt := pf.Next()
	if bt == nil || bt.Err != nil {
		if bt == nil {
			return 0, errors.New("trainer: batch producer stopped")
		}
		return 0, bt.Err
	}
	x, u := e.inputs()
	copy(x, bt.X)
	copy(u, bt.U)
	r.rngState = bt.State
	pf.Release(bt)
	loss, err := stepOnce(e, &r.cfg, step)
	if err != nil {
		if r.lastCkpt >= 0 {
			err = fmt.Errorf("%w; the last good checkpoint (step %d) is kept at %s", err, r.lastCkpt, r.ckPath)
		} else if errors.Is(err, errDiverged) {
			err = fmt.Errorf("%w; no checkpoint was written yet", err)
		}
		return 0, err
	}
	r.res.LastLoss = loss
	if step == r.start {
		r.res.FirstLoss = loss
	}
	r.lossEMA = recipe.SmoothLoss(r.lossEMA, loss, step)
	return loss, nil
}

// interrupted ends a run stopped at step by its context: it writes a checkpoint to
// continue from (unless the run keeps none, or it has not moved since resuming) and
// says how to continue.
func (r *run) interrupted(step int) error {
	cfg := &r.cfg
	if !r.ckOn {
		return fmt.Errorf("interrupted at step %d of %d; no checkpoint (-o %s is not a regular file and -ckpt-every is 0)", step, cfg.Steps, cfg.Out)
	}
	if step > r.start || r.ck == nil {
		if err := r.saveCheckpoint(step, r.res.LastLoss); err != nil {
			return err
		}
	}
	return fmt.Errorf("interrupted at step %d of %d; checkpoint %s written; continue with -resume", step, cfg.Steps, r.ckPath)
}

// saveCheckpoint writes the state after `step` steps, whose last loss was loss.
func (r *run) saveCheckpoint(step int, loss float64) error {
	e := r.e
	ck := &checkpoint{P: make([]float32, e.n), E: make([]float32, e.n), M: make([]float32, e.n), V: make([]float32, e.n)}
	e.read(ck.P, e.P)
	e.read(ck.E, e.E)
	e.read(ck.M, e.M)
	e.read(ck.V, e.V)
	if err := e.err(); err != nil {
		return err
	}
	ck.hdr = ckptHeader{Run: keyOf(&r.cfg), Step: step, NParams: e.n, RNG: r.rngState, LossEMA: r.lossEMA, Loss: loss,
		Seconds: r.elapsed + time.Since(r.t0).Seconds()}
	return writeCheckpoint(r.ckPath, ck)
}

// finish exports the model, then keeps the final checkpoint (KeepCkpt) or removes it.
func (r *run) finish() (*Result, error) {
	cfg, res := &r.cfg, r.res
	if err := export(r.e, cfg, res, r.elapsed+res.Seconds, r.opt); err != nil {
		return nil, err
	}
	if r.ckOn && cfg.KeepCkpt {
		if err := r.saveCheckpoint(cfg.Steps, res.LastLoss); err != nil {
			return nil, err
		}
		res.Checkpoint = r.ckPath
	} else if r.ckOn {
		os.Remove(r.ckFile)
	}
	r.log.Info("wrote model", "file", cfg.Out, "steps", cfg.Steps, "loss", fmt.Sprintf("%.4f", res.Loss),
		"steps_per_s", fmt.Sprintf("%.1f", res.StepsPerSec), "device", res.Device)
	return res, nil
}

func resolveDevice(d string) (tt.Device, string, error) {
	switch d {
	case "cpu":
		return tt.CPU, "cpu", nil
	case "auto":
		if tt.CUDAAvailable() {
			return 0, "cuda:0", nil
		}
		return tt.CPU, "cpu", nil
	}
	k := 0
	if d != "cuda" {
		k, _ = cudaIndex(d)
	}
	if !tt.CUDAAvailable() {
		return 0, "", fmt.Errorf("-device %s: libtorch sees no CUDA device (a CPU-only libtorch, or no GPU); use -device cpu or auto", d)
	}
	return tt.Device(k), fmt.Sprintf("cuda:%d", k), nil
}

// rss is the process's resident set size in bytes (Linux), or 0.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, res int64
	if _, err := fmt.Sscan(string(b), &size, &res); err != nil {
		return 0
	}
	return res * int64(os.Getpagesize())
}

// progress shows a bar on a terminal, log lines otherwise.
type progress struct {
	bar   *progressbar.ProgressBar
	log   *slog.Logger
	every int
	steps int
	start int
	t0    time.Time
}

func newProgress(w io.Writer, log *slog.Logger, cfg Config, start int) *progress {
	p := &progress{log: log, every: cfg.LogEvery, steps: cfg.Steps, start: start, t0: time.Now()}
	if w != nil {
		p.bar = progressbar.NewOptions(cfg.Steps-start,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(fmt.Sprintf("%s/%s", cfg.Data, cfg.Path.Name)),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("steps"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetWidth(30),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

func (p *progress) update(done int, loss, lr float64) {
	if p.bar != nil {
		if done%25 == 0 || done == p.steps {
			p.bar.Describe(fmt.Sprintf("loss %.4f", loss))
		}
		p.bar.Set(done - p.start)
		return
	}
	if p.every > 0 && (done%p.every == 0 || done == p.steps) {
		el := time.Since(p.t0).Seconds()
		rate := float64(done-p.start) / el
		eta := time.Duration(float64(p.steps-done) / rate * float64(time.Second)).Round(time.Second)
		p.log.Info("train", "step", done, "of", p.steps, "loss", fmt.Sprintf("%.4f", loss), "lr", fmt.Sprintf("%.3g", lr),
			"steps_per_s", fmt.Sprintf("%.1f", rate), "eta", eta.String(), "rss_mb", fmt.Sprintf("%.1f", float64(rss())/(1<<20)))
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
}

// errDiverged marks a NaN or infinite loss or gradient.
var errDiverged = errors.New("training diverged")

// stepOnce runs training step `step` (0-based) on the batch in e.inputs(): forward,
// backward, clip, AdamW, EMA, with the recipe's rules. It returns the batch's loss
// (before the update).
func stepOnce(e *engine, cfg *Config, step int) (float64, error) {
	e.upload()
	loss := e.lossAndGrad()
	norm := e.gradNorm()
	if err := e.err(); err != nil {
		return 0, err
	}
	lr := cfg.schedule().At(step)
	if !tt.Finite(loss) || !tt.Finite(norm) {
		what := fmt.Sprintf("loss is %v", loss)
		if tt.Finite(loss) {
			what = fmt.Sprintf("gradient norm is %v", norm)
		}
		hint := "try a lower -lr or a longer -warmup"
		if cfg.Clip == 0 {
			hint = "try a lower -lr, or -clip 1 to clip the gradient norm (clipping is off)"
		}
		return 0, fmt.Errorf("%w at step %d: %s (lr %.3g); %s", errDiverged, step+1, what, lr, hint)
	}
	e.adamw(step+1, lr, recipe.ClipScale(norm, cfg.Clip), cfg.adamw())
	if cfg.EMA > 0 {
		e.emaUpdate(recipe.EMADecay(cfg.EMA, step))
	} else {
		e.c.Copy_(e.E, e.P)
	}
	return loss, e.err()
}

// openCheckpoint reads the checkpoint of cfg, if there is one, and decides what the run
// does with it: continue it (Resume: it must be of the same settings and not past
// cfg.Steps), discard it (Restart: nil), or refuse to overwrite it (neither). Every
// refusal is a *cli.UsageError of one line that names the flag to pass.
func openCheckpoint(cfg *Config, log *slog.Logger) (*checkpoint, error) {
	path := cfg.CkptPath()
	usage := func(format string, a ...any) error { return cli.Usagef(format, a...) }
	ck, err := readCheckpoint(path)
	switch {
	case errors.Is(err, errNoCheckpoint):
		if cfg.Resume {
			log.Info("no checkpoint to resume from; starting at step 0", "checkpoint", path)
		}
		return nil, nil
	case cfg.Restart:
		return nil, nil
	case err != nil && !cfg.Resume:
		return nil, usage("%v (in the way of this run's checkpoint): pass -restart to replace it, or another -ckpt", ckptError(path, err))
	case err != nil:
		return nil, usage("cannot resume: %v; pass -restart to discard it", ckptError(path, err))
	case !cfg.Resume:
		return nil, usage("checkpoint %s holds a run at step %d of %d: continue it with -resume, or pass -restart to discard it and start over",
			path, ck.hdr.Step, ck.hdr.Run.Steps)
	case !ck.hdr.Run.sameRun(keyOf(cfg)):
		was, now := ck.hdr.Run.diff(keyOf(cfg))
		if was == "" {
			was, now = "other settings", "these"
		}
		return nil, usage("checkpoint %s was made with %s; these flags say %s: resume with the checkpoint's flags, or pass -restart to discard it",
			path, was, now)
	case ck.hdr.Step > cfg.Steps:
		return nil, usage("checkpoint %s is at step %d, past -steps %d: pass -steps %d or more to continue it, or -restart to discard it",
			path, ck.hdr.Step, cfg.Steps, ck.hdr.Step)
	}
	return ck, nil
}

// ckptError is readCheckpoint's error, naming the checkpoint once.
func ckptError(path string, err error) error {
	if _, ok := err.(*os.PathError); ok {
		return fmt.Errorf("checkpoint %s: %w", path, unwrapPath(err))
	}
	return err
}
