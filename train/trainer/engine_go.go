package trainer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/flowmatch/flowmatch/cli"
	"github.com/flowmatch/flowmatch/gotrain"
	"github.com/flowmatch/flowmatch/outfile"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// Engines that run the training steps (-engine).
const (
	EngineTorch = "torch" // libtorch through gotch: the default
	EngineGo    = "go"    // package gotrain, pure Go on the sampler's kernels (CPU only)
)

// validateEngine checks -engine and what -engine go cannot do: it keeps no checkpoint
// (so -resume is refused), runs on the CPU only and implements SiLU only.
func (c *Config) validateEngine() error {
	switch c.Engine {
	case "", EngineTorch:
		return nil
	case EngineGo:
	default:
		return fmt.Errorf("unknown -engine %q (want %s or %s)", c.Engine, EngineTorch, EngineGo)
	}
	switch {
	case c.Resume:
		return errors.New("-resume: -engine go keeps no checkpoint to resume from (train again, or use -engine torch)")
	case c.Device != "auto" && c.Device != "cpu":
		return fmt.Errorf("-device %s: -engine go runs on the CPU only", c.Device)
	case c.Activation != sampler.ActSiLU:
		return fmt.Errorf("-engine go implements the SiLU activation only, not %q", c.Activation)
	}
	return nil
}

// goConfig is the pure-Go trainer's configuration of this run: the same recipe.
func (c *Config) goConfig() gotrain.Config {
	spec := c.Spec()
	return gotrain.Config{Data: c.data(), Hidden: spec.Hidden, Activation: c.Activation,
		Steps: c.Steps, LR: c.LR, Warmup: c.Warmup, MinLRFrac: c.MinLRFrac, WeightDecay: c.WeightDecay,
		Beta1: c.Beta1, Beta2: c.Beta2, AdamEps: c.AdamEps,
		Clip: negIfZero(c.Clip), EMA: negIfZero(c.EMA), Seed: c.Seed, Prefetch: true}
}

// negIfZero maps the train module's "0: off" to gotrain's "negative: off" (its zero
// means the default).
func negIfZero(v float64) float64 {
	if v == 0 {
		return -1
	}
	return v
}

// runGo is Run with -engine go: the steps of package gotrain, with the same progress
// bar or log lines, lock and export (no checkpoints: an interrupted run is lost).
func runGo(ctx context.Context, cfg Config, opt Options) (*Result, error) {
	if err := cfg.loadOwn(); err != nil {
		return nil, &cli.UsageError{Err: err}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := opt.Log
	if log == nil {
		log = slog.Default()
	}
	if out, err := outfile.Resolve(cfg.Out); err == nil && out.Regular {
		unlock, err := lockFile(out.Path, "-o")
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	tr, err := gotrain.New(cfg.goConfig())
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	res := &Result{Device: "cpu (pure Go, " + sampler.KernelName() + " kernel)", RSS: map[int]int64{}}
	prog := newProgress(opt.Progress, log, cfg, 0)
	defer prog.finish()
	t0 := time.Now()
	for step := 0; step < cfg.Steps; step++ {
		if ctx.Err() != nil {
			prog.finish()
			return nil, fmt.Errorf("interrupted at step %d of %d; -engine go keeps no checkpoint", step, cfg.Steps)
		}
		loss, err := tr.Step()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errDiverged, err)
		}
		if step == 0 {
			res.FirstLoss = loss
		}
		res.LastLoss = loss
		done := step + 1
		if done%1000 == 0 {
			res.RSS[done] = rss()
		}
		prog.update(done, tr.Loss(), cfg.schedule().At(step))
		if opt.StopAfter > 0 && done == opt.StopAfter && done < cfg.Steps {
			return nil, ErrStopped
		}
	}
	prog.finish()
	res.Seconds = time.Since(t0).Seconds()
	res.Steps, res.Loss = tr.Steps(), tr.Loss()
	res.StepsPerSec = float64(res.Steps) / res.Seconds
	if err := exportGo(tr, &cfg, res); err != nil {
		return nil, err
	}
	log.Info("wrote model", "file", cfg.Out, "steps", cfg.Steps, "loss", fmt.Sprintf("%.4f", res.Loss),
		"steps_per_s", fmt.Sprintf("%.1f", res.StepsPerSec), "device", res.Device, "engine", EngineGo)
	return res, nil
}

// exportGo writes the trainer's EMA weights to cfg.Out with the run's metadata (the
// data record and provenance of the libtorch engine's files, engine "go") and checks
// that the file reads back.
func exportGo(tr *gotrain.Trainer, cfg *Config, res *Result) error {
	conf, _ := json.Marshal(keyOf(cfg))
	cmd := cfg.Command
	if cmd == "" {
		cmd = "(library call)"
	}
	f, err := tr.File(gotrain.Provenance{Command: cmd, Device: res.Device, Seconds: math.Round(res.Seconds*10) / 10,
		Data:  cfg.dataInfo(),
		Notes: map[string]string{"config": string(conf), "dtype": string(cfg.DType), "kernel": sampler.KernelName()}})
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	f.Meta.Provenance.FinalLoss = round(res.Loss, 6)
	data, err := weights.Marshal(f, cfg.DType)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := outfile.WriteFile(cfg.Out, data); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if _, err := weights.DecodeBytes(data); err != nil {
		return fmt.Errorf("export: the written model does not read back: %w", err)
	}
	return nil
}
