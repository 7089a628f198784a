package trainer

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/flowmatch/flowmatch/cli"
	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/outfile"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// Command is the `flowmatch train` subcommand.
func Command() cli.Command {
	return cli.Command{
		Name:    "train",
		Summary: "train a velocity network with libtorch (gotch) or pure Go (-engine go) and export it",
		Run:     runCommand,
	}
}

const usage = "-data NAME -path ot|vp|ve -o FILE [flags]"

// ParseFlags turns command-line arguments into a validated Config. Every error is a
// *cli.UsageError (exit status 2), found before any work is done.
func ParseFlags(env cli.Env) (Config, error) {
	c := Default()
	fs := cli.NewFlagSet(env, "train", usage)
	fs.StringVar(&c.Data, "data", c.Data, "dataset: "+strings.Join(dataset.Names(), ", ")+", "+DataFashion+" (images), or a `FILE`.csv or .npy of points (a tenth held out, the rest standardised)")
	fs.StringVar(&c.Path.Name, "path", c.Path.Name, "probability path: ot, vp or ve")
	fs.Float64Var(&c.Path.SigmaMin, "sigma-min", 0, "ot: σ_min (default 0); ve: σ_min (default 0.01)")
	fs.Float64Var(&c.Path.SigmaMax, "sigma-max", 0, "ve: σ_max (default 10)")
	fs.Float64Var(&c.Path.BetaMin, "beta-min", 0, "vp: β_min (default 0.1)")
	fs.Float64Var(&c.Path.BetaMax, "beta-max", 0, "vp: β_max (default 20)")
	fs.Float64Var(&c.Path.Eps, "eps", 0, "vp, ve: train and sample on [0, 1−eps] (default 1e-3)")
	fs.StringVar(&c.Coupling, "coupling", c.Coupling, "independent (I-CFM) or ot (OT-CFM: exact assignment within each batch)")
	fs.IntVar(&c.OTGroup, "ot-group", c.OTGroup, "-coupling ot: points per exact assignment (the OT minibatch)")
	fs.IntVar(&c.Channels, "channels", c.Channels, "-data "+DataFashion+": the U-Net's base width C (levels of C, 2C, 2C channels)")
	fs.Float64Var(&c.LabelDrop, "label-drop", c.LabelDrop, "-data "+DataFashion+": fraction of labels dropped to the null class (for guidance)")
	fs.IntVar(&c.Hidden, "hidden", c.Hidden, "width of the hidden layers")
	fs.IntVar(&c.Layers, "layers", c.Layers, "number of hidden layers")
	timeEmb := fs.String("time", "raw", "time features: raw (t) or fourier (t, sin 2πkt, cos 2πkt for k = 1..-freqs)")
	fs.IntVar(&c.Time.Freqs, "freqs", 0, "frequencies of -time fourier (default 4)")
	fs.IntVar(&c.Steps, "steps", c.Steps, "optimiser steps")
	fs.IntVar(&c.Batch, "batch", c.Batch, "batch size")
	fs.Float64Var(&c.LR, "lr", c.LR, "peak learning rate (AdamW)")
	fs.IntVar(&c.Warmup, "warmup", c.Warmup, "linear warmup steps before the cosine decay")
	fs.Float64Var(&c.MinLRFrac, "min-lr", c.MinLRFrac, "final learning rate as a fraction of -lr")
	fs.Float64Var(&c.WeightDecay, "wd", c.WeightDecay, "AdamW weight decay")
	fs.Float64Var(&c.Clip, "clip", c.Clip, "clip the global gradient norm to this (0: off)")
	fs.Float64Var(&c.EMA, "ema", c.EMA, "EMA decay of the exported weights (0: export the raw weights)")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "random seed (data, noise, initialisation)")
	fs.StringVar(&c.Device, "device", c.Device, "auto (CUDA when available), cpu, cuda or cuda:N")
	fs.StringVar(&c.Engine, "engine", c.Engine, "torch (libtorch) or go (pure Go, CPU, no checkpoints)")
	fs.StringVar(&c.Out, "o", "", "output model file (.safetensors)")
	dtype := fs.String("dtype", "f32", "stored precision: f32, f16 or bf16")
	fs.StringVar(&c.Ckpt, "ckpt", "", "checkpoint file (default: the output file + .ckpt)")
	fs.IntVar(&c.CkptEvery, "ckpt-every", c.CkptEvery, "write a checkpoint every N steps (0: never)")
	fs.BoolVar(&c.KeepCkpt, "keep-ckpt", false, "keep the checkpoint after the model is written")
	fs.BoolVar(&c.Resume, "resume", false, "continue from the checkpoint, if there is one (-steps may differ: the schedule follows the new total)")
	fs.BoolVar(&c.Restart, "restart", false, "discard the checkpoint of an earlier run and start over")
	fs.IntVar(&c.LogEvery, "log-every", c.LogEvery, "steps between log lines when stderr is not a terminal")
	if err := cli.Parse(fs, env.Args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, cli.Usagef("unexpected argument %q (flags only)", fs.Arg(0))
	}
	if err := c.setTimeAndDType(*timeEmb, *dtype); err != nil {
		return c, err
	}
	if c.Images() {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, apply := range imageDefaults {
			if !set[name] {
				apply(&c)
			}
		}
	}
	c.Command = provenanceCommand(env.Args)
	if err := c.loadOwn(); err != nil { // the data's errors first: no work is done, no file written
		return c, &cli.UsageError{Err: err}
	}
	if err := c.Validate(); err != nil {
		return c, &cli.UsageError{Err: err}
	}
	dev, _, err := resolveDevice(c.Device)
	if err != nil {
		return c, &cli.UsageError{Err: err}
	}
	if err := checkMemory(&c, dev); err != nil {
		return c, &cli.UsageError{Err: err}
	}
	return c, nil
}

// setTimeAndDType sets the time embedding and the stored precision from -time (with
// -freqs, already in c.Time.Freqs) and -dtype.
func (c *Config) setTimeAndDType(timeEmb, dtype string) error {
	switch timeEmb {
	case sampler.TimeRaw:
		if c.Time.Freqs != 0 {
			return cli.Usagef("-freqs needs -time fourier")
		}
		c.Time = sampler.TimeEmbedding{Kind: sampler.TimeRaw}
	case sampler.TimeFourier:
		c.Time.Kind = sampler.TimeFourier
		if c.Time.Freqs == 0 {
			c.Time.Freqs = 4
		}
	default:
		return cli.Usagef("unknown -time %q (want raw or fourier)", timeEmb)
	}
	switch strings.ToLower(dtype) {
	case "f32", "float32":
		c.DType = weights.F32
	case "f16", "float16":
		c.DType = weights.F16
	case "bf16", "bfloat16":
		c.DType = weights.BF16
	default:
		return cli.Usagef("unknown -dtype %q (want f32, f16 or bf16)", dtype)
	}
	return nil
}

func runCommand(env cli.Env) error {
	cfg, err := ParseFlags(env)
	if err != nil {
		return err
	}
	if w := cfg.Own.constantWarning(); w != "" {
		fmt.Fprintln(env.Stderr, w)
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, nil))
	opt := Options{Log: log}
	if f, ok := env.Stderr.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			opt.Progress = f
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := Run(ctx, cfg, opt)
	if err != nil {
		return err
	}
	// A model written to stdout (-o /dev/stdout) must not get the summary appended.
	summary := env.Stdout
	if t, err := outfile.Resolve(cfg.Out); err == nil && !t.Regular {
		summary = env.Stderr
	}
	check := fmt.Sprintf("pure-Go sampler matches libtorch to %.2g (velocity scale %.3g)", res.VerifyMaxErr, res.VerifyScale)
	if cfg.Engine == EngineGo {
		check = "trained with -engine go"
	}
	data := cfg.Data
	if IsDataFile(data) {
		data = filepath.Base(data) // a file of points: its name, as the model records it
	}
	fmt.Fprintf(summary, "wrote %s: %s (path %s), %d steps, loss %.4f, %.1f steps/s on %s; %s\n",
		cfg.Out, data, cfg.Path.Name, res.Steps, res.Loss, res.StepsPerSec, res.Device, check)
	return nil
}
