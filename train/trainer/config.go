package trainer

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/outfile"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// Couplings of noise and data within a batch, named as model files record them
// (weights.Couplings).
const (
	CouplingIndependent = weights.CouplingIndependent // I-CFM: x0 and x1 drawn independently
	CouplingOT          = weights.CouplingOT          // OT-CFM: x0 paired to x1 by an exact assignment per batch
)

// Config is one training run. The zero value is not usable; start from Default.
type Config struct {
	Data     string           // dataset name (dataset.Names()), or a CSV or .npy file of points (IsDataFile)
	Own      *OwnData         // the file's points when Data is one (LoadOwnData); Run loads them if nil
	Path     sampler.PathSpec // probability path
	Coupling string           // CouplingIndependent or CouplingOT
	OTGroup  int              // OT coupling: rows per exact assignment (the OT minibatch)

	Channels  int             // image models (-data fashion-mnist): the U-Net's base width C
	LabelDrop float64         // image models: the fraction of labels replaced by the null class
	images    *dataset.Images // the training images, once loaded (loadOwn)

	Hidden     int                   // width of each hidden layer
	Layers     int                   // number of hidden layers
	Activation string                // sampler.ActSiLU (the only one the trainer implements)
	Time       sampler.TimeEmbedding // how the network sees t

	Steps       int     // optimiser steps
	Batch       int     // points per step
	LR          float64 // peak learning rate
	Warmup      int     // linear warmup steps, then cosine decay to LR·MinLRFrac at Steps
	MinLRFrac   float64 // final learning rate as a fraction of LR
	WeightDecay float64 // AdamW decoupled weight decay
	Beta1       float64
	Beta2       float64
	AdamEps     float64
	Clip        float64 // global gradient-norm clip; 0 disables
	EMA         float64 // EMA decay of the exported weights; 0 exports the raw weights
	Seed        uint64

	Device string // "auto", "cpu" or "cuda"
	Engine string // EngineTorch (libtorch, the default) or EngineGo (pure Go, engine_go.go)

	Out       string        // output model file
	DType     weights.DType // F32 or F16 (or BF16)
	Ckpt      string        // checkpoint file; "" means Out + ".ckpt"
	CkptEvery int           // steps between checkpoints; 0 disables
	KeepCkpt  bool          // keep the checkpoint after a successful export
	Resume    bool          // continue from Ckpt if it exists
	Restart   bool          // discard an existing checkpoint at Ckpt and start over

	LogEvery int    // steps between log lines (non-terminal output)
	Command  string // the command line recorded in the file's provenance
}

// maxLayers is the deepest network the sampler's MLPSpec accepts.
const maxLayers = 64

// Default returns the default configuration: the recipe the default models use.
func Default() Config {
	return Config{
		Data:        "moons",
		Path:        sampler.PathSpec{Name: sampler.PathOT},
		Coupling:    CouplingIndependent,
		OTGroup:     128,
		Channels:    16,
		LabelDrop:   0.3, // guidance 2's FD falls as more labels drop (README, "Images")
		Hidden:      256,
		Layers:      3,
		Activation:  sampler.ActSiLU,
		Time:        sampler.TimeEmbedding{Kind: sampler.TimeRaw},
		Steps:       20000,
		Batch:       1024,
		LR:          2e-3,
		Warmup:      500,
		MinLRFrac:   0,
		WeightDecay: 0,
		Beta1:       0.9,
		Beta2:       0.999,
		AdamEps:     1e-8,
		Clip:        1,
		EMA:         0.999,
		Seed:        1,
		Device:      "auto",
		Engine:      EngineTorch,
		DType:       weights.F32,
		CkptEvery:   1000,
		LogEvery:    500,
	}
}

// Spec returns the network's shape.
func (c *Config) Spec() sampler.MLPSpec {
	h := make([]int, c.Layers)
	for i := range h {
		h[i] = c.Hidden
	}
	dim := dataset.Dim(c.Data)
	if c.Own != nil {
		dim = c.Own.Info.Dim
	}
	return sampler.MLPSpec{Dim: dim, Hidden: h, Activation: c.Activation, Time: c.Time}
}

// CkptPath is where checkpoints go.
func (c *Config) CkptPath() string {
	if c.Ckpt != "" {
		return c.Ckpt
	}
	return c.Out + ".ckpt"
}

// Validate checks everything that can be checked before any work: names, ranges, and
// that the output and checkpoint files can be written (see outfile.Check; a checkpoint
// must be a regular file, since -resume reads it back).
func (c *Config) Validate() error {
	if err := c.validateEngine(); err != nil {
		return err
	}
	if err := c.validateTraining(); err != nil {
		return err
	}
	if c.Out == "" {
		return errors.New("-o is required (the model file to write)")
	}
	if err := outfile.Check(c.Out); err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	if c.Resume && c.Restart {
		return errors.New("-resume and -restart exclude each other (continue the checkpoint, or discard it)")
	}
	_, _, err := c.checkpointTarget()
	return err
}

// checkpointTarget resolves where this run's checkpoint goes. ok is false when the run
// keeps none: with -ckpt-every 0, no -ckpt and no -resume, when the default path beside
// -o cannot hold one (-o is a device, say). Otherwise the checkpoint must be a regular
// file (or not exist yet) in a writable folder, and not the -o file.
func (c *Config) checkpointTarget() (t outfile.Target, ok bool, err error) {
	explicit := c.Ckpt != "" || c.CkptEvery > 0 || c.Resume || c.Restart
	flag := "-ckpt"
	if c.Ckpt == "" {
		if out, err := outfile.Resolve(c.Out); err == nil && !out.Regular {
			if !explicit {
				return t, false, nil
			}
			return t, false, fmt.Errorf("-o %s is not a regular file, so no checkpoint can go beside it: pass -ckpt FILE, or -ckpt-every 0 for none", c.Out)
		}
		flag = "checkpoint"
	}
	t, err = outfile.Resolve(c.CkptPath())
	if err == nil && !t.Regular {
		err = fmt.Errorf("%s %s is not a regular file: a checkpoint must be a file that -resume can read back (pass a file, or -ckpt-every 0 for none)", flag, c.CkptPath())
	} else {
		if err == nil {
			err = outfile.Check(c.CkptPath())
		}
		if err != nil {
			err = fmt.Errorf("%s: %w", flag, err)
		}
	}
	if err != nil {
		if !explicit {
			return t, false, nil
		}
		return t, false, err
	}
	if out, oerr := outfile.Resolve(c.Out); oerr == nil && samePath(out.Path, t.Path) {
		return t, false, fmt.Errorf("%s %s is the -o file: pass another -ckpt", flag, c.CkptPath())
	}
	return t, true, nil
}

// samePath reports whether two paths name the same file.
func samePath(a, b string) bool {
	if fa, err := os.Stat(a); err == nil {
		if fb, err := os.Stat(b); err == nil {
			return os.SameFile(fa, fb)
		}
	}
	aa, err1 := filepath.Abs(a)
	ab, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == ab
}

// validateTraining checks the settings that training itself needs, in this order:
// the data, the network, the optimiser, then storage and device.
func (c *Config) validateTraining() error {
	checks := []func() error{c.validateData, c.validateNetwork, c.validateOptimiser, c.validateStorage}
	if c.Images() {
		checks[0], checks[1] = c.validateImages, func() error { return nil }
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// validateData checks the dataset, the path and its parameters, and the coupling.
func (c *Config) validateData() error {
	if dataset.Dim(c.Data) == 0 && c.Own == nil {
		return fmt.Errorf("unknown dataset %q (want one of %s, or a .csv or .npy file of points)", c.Data, strings.Join(dataset.Names(), ", "))
	}
	if _, err := sampler.NewPath(c.Path); err != nil {
		return err
	}
	// A parameter of another path would be ignored without a word.
	for _, p := range []struct {
		flag  string
		v     float64
		paths []string
	}{
		{"-sigma-min", c.Path.SigmaMin, []string{sampler.PathOT, sampler.PathVE}},
		{"-sigma-max", c.Path.SigmaMax, []string{sampler.PathVE}},
		{"-beta-min", c.Path.BetaMin, []string{sampler.PathVP}},
		{"-beta-max", c.Path.BetaMax, []string{sampler.PathVP}},
		{"-eps", c.Path.Eps, []string{sampler.PathVP, sampler.PathVE}},
	} {
		if p.v != 0 && !slices.Contains(p.paths, c.Path.Name) {
			return fmt.Errorf("%s applies to -path %s only, not -path %s", p.flag, strings.Join(p.paths, " and "), c.Path.Name)
		}
	}
	switch c.Coupling {
	case CouplingIndependent, CouplingOT:
	default:
		return fmt.Errorf("unknown coupling %q (want %s or %s)", c.Coupling, CouplingIndependent, CouplingOT)
	}
	return nil
}

// validateNetwork checks the network's shape, the steps and the batch (and the OT group
// within it).
func (c *Config) validateNetwork() error {
	if c.Activation != sampler.ActSiLU {
		return fmt.Errorf("activation %q: the trainer implements only %q", c.Activation, sampler.ActSiLU)
	}
	pos := func(name string, v int) error {
		if v <= 0 {
			return fmt.Errorf("-%s must be positive (got %d)", name, v)
		}
		return nil
	}
	for _, e := range []error{pos("steps", c.Steps), pos("batch", c.Batch), pos("hidden", c.Hidden), pos("layers", c.Layers)} {
		if e != nil {
			return e
		}
	}
	if c.Layers > maxLayers { // before Spec, which makes a slice of -layers widths
		return fmt.Errorf("-layers must be at most %d (got %d)", maxLayers, c.Layers)
	}
	if err := c.Spec().Validate(); err != nil {
		return err
	}
	if c.Coupling == CouplingOT && (c.OTGroup < 1 || c.OTGroup > 4096) {
		return fmt.Errorf("-ot-group must be in [1, 4096] (got %d)", c.OTGroup)
	}
	return nil
}

// validateOptimiser checks the schedule, AdamW, clipping, EMA and checkpoint interval.
func (c *Config) validateOptimiser() error {
	fin := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case !fin(c.LR) || c.LR <= 0:
		return fmt.Errorf("-lr must be positive (got %g)", c.LR)
	case c.Warmup < 0:
		return fmt.Errorf("-warmup must not be negative (got %d)", c.Warmup)
	case !fin(c.MinLRFrac) || c.MinLRFrac < 0 || c.MinLRFrac > 1:
		return fmt.Errorf("-min-lr must be in [0, 1] (got %g)", c.MinLRFrac)
	case !fin(c.WeightDecay) || c.WeightDecay < 0:
		return fmt.Errorf("-wd must not be negative (got %g)", c.WeightDecay)
	case !fin(c.Beta1) || c.Beta1 < 0 || c.Beta1 >= 1 || !fin(c.Beta2) || c.Beta2 < 0 || c.Beta2 >= 1:
		return fmt.Errorf("Adam betas must be in [0, 1) (got %g, %g)", c.Beta1, c.Beta2)
	case !fin(c.AdamEps) || c.AdamEps <= 0:
		return fmt.Errorf("Adam eps must be positive (got %g)", c.AdamEps)
	case !fin(c.Clip) || c.Clip < 0:
		return fmt.Errorf("-clip must not be negative (got %g)", c.Clip)
	case !fin(c.EMA) || c.EMA < 0 || c.EMA >= 1:
		return fmt.Errorf("-ema must be in [0, 1) (got %g)", c.EMA)
	case c.CkptEvery < 0:
		return fmt.Errorf("-ckpt-every must not be negative (got %d)", c.CkptEvery)
	}
	return nil
}

// validateStorage checks the stored dtype and the device.
func (c *Config) validateStorage() error {
	switch c.DType {
	case weights.F32, weights.F16, weights.BF16:
	default:
		return fmt.Errorf("unknown -dtype %q (want f32, f16 or bf16)", c.DType)
	}
	switch c.Device {
	case "auto", "cpu", "cuda":
	default:
		if _, ok := cudaIndex(c.Device); !ok {
			return fmt.Errorf("unknown -device %q (want auto, cpu, cuda or cuda:N)", c.Device)
		}
	}
	return nil
}

func cudaIndex(dev string) (int, bool) {
	var k int
	if n, err := fmt.Sscanf(dev, "cuda:%d", &k); err == nil && n == 1 && k >= 0 && dev == fmt.Sprintf("cuda:%d", k) {
		return k, true
	}
	return 0, false
}
