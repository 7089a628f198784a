package trainer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/flowmatch/flowmatch/cli"
	"github.com/flowmatch/flowmatch/outfile"
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
func Run(ctx context.Context, cfg Config, opt Options) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := opt.Log
	if log == nil {
		log = slog.Default()
	}
	dev, devName, err := resolveDevice(cfg.Device)
	if err != nil {
		return nil, err
	}
	if err := checkMemory(&cfg, dev); err != nil {
		return nil, &cli.UsageError{Err: err}
	}
	ckTarget, ckOn, err := cfg.checkpointTarget()
	if err != nil {
		return nil, err
	}
	if out, err := outfile.Resolve(cfg.Out); err == nil && out.Regular {
		unlock, err := lockFile(out.Path, "-o")
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	ckPath := cfg.CkptPath()
	var ck *checkpoint
	if ckOn {
		unlock, err := lockFile(ckTarget.Path, "-ckpt")
		if err != nil {
			return nil, err
		}
		defer unlock()
		if ck, err = openCheckpoint(&cfg, log); err != nil {
			return nil, err
		}
	}

	// libtorch reports errors in a thread-local: keep every call on one OS thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	spec := cfg.Spec()
	e, err := newEngine(spec, cfg.Batch, dev)
	if err != nil {
		return nil, err
	}
	defer e.free()
	if ck != nil && ck.hdr.NParams != e.n {
		return nil, fmt.Errorf("checkpoint %s has %d parameters, the model %d", ckPath, ck.hdr.NParams, e.n)
	}
	if ckOn && cfg.Restart {
		if err := os.Remove(ckTarget.Path); err == nil {
			log.Info("discarded the old checkpoint (-restart)", "checkpoint", ckPath)
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("-restart: %w", err)
		}
	}

	pcg := rand.NewPCG(cfg.Seed, streamData)
	rng := rand.New(pcg)
	res := &Result{Device: devName, RSS: map[int]int64{}}
	var lossEMA, elapsed float64
	start := 0
	if ck != nil {
		if err := pcg.UnmarshalBinary(ck.hdr.RNG); err != nil {
			return nil, fmt.Errorf("checkpoint %s: rng state: %w", ckPath, err)
		}
		e.write(e.P, ck.P)
		e.write(e.E, ck.E)
		e.write(e.M, ck.M)
		e.write(e.V, ck.V)
		start, lossEMA, elapsed = ck.hdr.Step, ck.hdr.LossEMA, ck.hdr.Seconds
		res.LastLoss = ck.hdr.Loss
		if was := ck.hdr.Run.Steps; was != 0 && was != cfg.Steps {
			log.Info("resuming with another -steps: the learning-rate schedule continues for the new total",
				"checkpoint", ckPath, "step", start, "was", was, "of", cfg.Steps)
		} else {
			log.Info("resuming", "checkpoint", ckPath, "step", start, "of", cfg.Steps)
		}
	} else {
		p := initParams(e.shapes, cfg.Seed)
		e.write(e.P, p)
		e.write(e.E, p)
	}
	if err := e.err(); err != nil {
		return nil, err
	}
	res.StartStep = start

	b, err := newBatcher(&cfg, rng)
	if err != nil {
		return nil, err
	}

	var t0 time.Time // when this process started stepping
	// The data stream's state after the last batch trained on (batches are drawn ahead).
	rngState, err := pcg.MarshalBinary()
	if err != nil {
		return nil, err
	}
	pf := startPrefetch(b, pcg, cfg.Steps-start)
	defer pf.stop()
	saveCkpt := func(step int, loss float64) error {
		ck := &checkpoint{P: make([]float32, e.n), E: make([]float32, e.n), M: make([]float32, e.n), V: make([]float32, e.n)}
		e.read(ck.P, e.P)
		e.read(ck.E, e.E)
		e.read(ck.M, e.M)
		e.read(ck.V, e.V)
		if err := e.err(); err != nil {
			return err
		}
		ck.hdr = ckptHeader{Run: keyOf(&cfg), Step: step, NParams: e.n, RNG: rngState, LossEMA: lossEMA, Loss: loss,
			Seconds: elapsed + time.Since(t0).Seconds()}
		return writeCheckpoint(ckPath, ck)
	}
	lastCkpt := -1
	if ck != nil {
		lastCkpt = start
	}

	prog := newProgress(opt.Progress, log, cfg, start)
	calls0 := e.c.Calls
	t0 = time.Now()
	step := start
	for ; step < cfg.Steps; step++ {
		if err := ctx.Err(); err != nil {
			prog.finish()
			if !ckOn {
				return nil, fmt.Errorf("interrupted at step %d of %d; no checkpoint (-o %s is not a regular file and -ckpt-every is 0)", step, cfg.Steps, cfg.Out)
			}
			if step > start || ck == nil {
				if err := saveCkpt(step, res.LastLoss); err != nil {
					return nil, err
				}
			}
			return nil, fmt.Errorf("interrupted at step %d of %d; checkpoint %s written; continue with -resume", step, cfg.Steps, ckPath)
		}
		bt := pf.next()
		if bt == nil || bt.err != nil {
			prog.finish()
			if bt == nil {
				return nil, errors.New("trainer: batch producer stopped")
			}
			return nil, bt.err
		}
		x, u := e.inputs()
		copy(x, bt.x)
		copy(u, bt.u)
		rngState = bt.rng
		pf.release(bt)
		loss, err := stepOnce(e, &cfg, step)
		if err != nil {
			prog.finish()
			if lastCkpt >= 0 {
				err = fmt.Errorf("%w; the last good checkpoint (step %d) is kept at %s", err, lastCkpt, ckPath)
			} else if errors.Is(err, errDiverged) {
				err = fmt.Errorf("%w; no checkpoint was written yet", err)
			}
			return nil, err
		}
		res.LastLoss = loss
		if step == start {
			res.FirstLoss = loss
		}
		if step == 0 {
			lossEMA = loss
		} else {
			lossEMA = 0.99*lossEMA + 0.01*loss
		}
		done := step + 1
		if done%1000 == 0 {
			res.RSS[done] = rss()
		}
		prog.update(done, lossEMA, lrAt(&cfg, step))
		if ckOn && cfg.CkptEvery > 0 && done%cfg.CkptEvery == 0 && done < cfg.Steps {
			if err := saveCkpt(done, loss); err != nil {
				return nil, err
			}
			lastCkpt = done
		}
		if opt.StopAfter > 0 && done == opt.StopAfter && done < cfg.Steps {
			prog.finish()
			return nil, ErrStopped
		}
	}
	prog.finish()
	res.Seconds = time.Since(t0).Seconds()
	res.Steps = cfg.Steps
	res.Loss = lossEMA
	if n := step - start; n > 0 {
		res.StepsPerSec = float64(n) / res.Seconds
		res.CallsPerStep = float64(e.c.Calls-calls0) / float64(n)
	}
	if err := export(e, &cfg, res, elapsed+res.Seconds, opt); err != nil {
		return nil, err
	}
	if ckOn && cfg.KeepCkpt {
		if err := saveCkpt(cfg.Steps, res.LastLoss); err != nil {
			return nil, err
		}
		res.Checkpoint = ckPath
	} else if ckOn {
		os.Remove(ckTarget.Path)
	}
	log.Info("wrote model", "file", cfg.Out, "steps", cfg.Steps, "loss", fmt.Sprintf("%.4f", res.Loss),
		"steps_per_s", fmt.Sprintf("%.1f", res.StepsPerSec), "device", devName)
	return res, nil
}

// Random streams: one PCG per purpose, all from the seed.
const (
	streamData = 0x646174610001 // batches
	streamInit = 0x696e69740002 // initial weights
)

// initParams draws PyTorch's default nn.Linear initialisation: weights and biases
// uniform in ±1/√fan_in (kaiming_uniform_ with a = √5 gives exactly that bound for the
// weights). gotch v0.9.1's default draws N(0, 1) weights instead, whatever the fan-in.
func initParams(shapes [][2]int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, streamInit))
	var flat []float32
	for _, sh := range shapes {
		out, in := sh[0], sh[1]
		bound := 1 / math.Sqrt(float64(in))
		for i := 0; i < out*in+out; i++ {
			flat = append(flat, float32(bound*(2*rng.Float64()-1)))
		}
	}
	return flat
}

// lrAt is the learning rate of step s (0-based): linear warmup from LR/Warmup to LR
// over Warmup steps, then a cosine from LR down to LR·MinLRFrac at the last step.
func lrAt(c *Config, s int) float64 {
	if s < c.Warmup {
		return c.LR * float64(s+1) / float64(c.Warmup)
	}
	n := c.Steps - c.Warmup
	if n <= 1 {
		return c.LR
	}
	p := float64(s-c.Warmup) / float64(n-1)
	lo := c.LR * c.MinLRFrac
	return lo + 0.5*(c.LR-lo)*(1+math.Cos(math.Pi*p))
}

// emaDecay ramps the EMA decay up over the first steps (min(decay, (1+s)/(10+s))), so
// that the average is not dominated by the random initialisation on short runs.
func emaDecay(decay float64, s int) float64 {
	return math.Min(decay, float64(1+s)/float64(10+s))
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
// backward, clip, AdamW, EMA. It returns the batch's loss (before the update).
func stepOnce(e *engine, cfg *Config, step int) (float64, error) {
	e.upload()
	loss := e.lossAndGrad()
	norm := e.gradNorm()
	if err := e.err(); err != nil {
		return 0, err
	}
	if !tt.Finite(loss) || !tt.Finite(norm) {
		what := fmt.Sprintf("loss is %v", loss)
		if tt.Finite(loss) {
			what = fmt.Sprintf("gradient norm is %v", norm)
		}
		hint := "try a lower -lr or a longer -warmup"
		if cfg.Clip == 0 {
			hint = "try a lower -lr, or -clip 1 to clip the gradient norm (clipping is off)"
		}
		return 0, fmt.Errorf("%w at step %d: %s (lr %.3g); %s", errDiverged, step+1, what, lrAt(cfg, step), hint)
	}
	gscale := 1.0
	if cfg.Clip > 0 {
		if c := cfg.Clip / (norm + 1e-6); c < 1 {
			gscale = c
		}
	}
	lr := lrAt(cfg, step)
	e.adamw(step+1, lr, gscale, cfg)
	if cfg.EMA > 0 {
		e.emaUpdate(emaDecay(cfg.EMA, step))
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
