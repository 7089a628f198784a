package trainer

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// Couplings of noise and data within a batch.
const (
	CouplingIndependent = "independent" // I-CFM: x0 and x1 drawn independently
	CouplingOT          = "ot"          // OT-CFM: x0 paired to x1 by an exact assignment per batch
)

// Config is one training run. The zero value is not usable; start from Default.
type Config struct {
	Data     string           // dataset name (dataset.Names())
	Path     sampler.PathSpec // probability path
	Coupling string           // CouplingIndependent or CouplingOT
	OTGroup  int              // OT coupling: rows per exact assignment (the OT minibatch)

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

	Out       string        // output model file
	DType     weights.DType // F32 or F16 (or BF16)
	Ckpt      string        // checkpoint file; "" means Out + ".ckpt"
	CkptEvery int           // steps between checkpoints; 0 disables
	KeepCkpt  bool          // keep the checkpoint after a successful export
	Resume    bool          // continue from Ckpt if it exists

	LogEvery int    // steps between log lines (non-terminal output)
	Command  string // the command line recorded in the file's provenance
}

// Default returns the default configuration: the recipe the default models use.
func Default() Config {
	return Config{
		Data:        "moons",
		Path:        sampler.PathSpec{Name: sampler.PathOT},
		Coupling:    CouplingIndependent,
		OTGroup:     128,
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
	return sampler.MLPSpec{Dim: dataset.Dim(c.Data), Hidden: h, Activation: c.Activation, Time: c.Time}
}

// CkptPath is where checkpoints go.
func (c *Config) CkptPath() string {
	if c.Ckpt != "" {
		return c.Ckpt
	}
	return c.Out + ".ckpt"
}

// Validate checks everything that can be checked before any work: names, ranges, and
// that the output and checkpoint files can be written.
func (c *Config) Validate() error {
	if err := c.validateTraining(); err != nil {
		return err
	}
	if c.Out == "" {
		return errors.New("-o is required (the model file to write)")
	}
	if err := checkWritable(c.Out); err != nil {
		return fmt.Errorf("cannot write -o %s: %w", c.Out, err)
	}
	if c.CkptEvery > 0 || c.Resume {
		if err := checkWritable(c.CkptPath()); err != nil {
			return fmt.Errorf("cannot write checkpoint %s: %w", c.CkptPath(), err)
		}
	}
	return nil
}

// validateTraining checks the settings that training itself needs.
func (c *Config) validateTraining() error {
	if dataset.Dim(c.Data) == 0 {
		return fmt.Errorf("unknown dataset %q (want one of %s)", c.Data, strings.Join(dataset.Names(), ", "))
	}
	if _, err := sampler.NewPath(c.Path); err != nil {
		return err
	}
	switch c.Coupling {
	case CouplingIndependent, CouplingOT:
	default:
		return fmt.Errorf("unknown coupling %q (want %s or %s)", c.Coupling, CouplingIndependent, CouplingOT)
	}
	if c.Activation != sampler.ActSiLU {
		return fmt.Errorf("activation %q: the trainer implements only %q", c.Activation, sampler.ActSiLU)
	}
	if err := c.Spec().Validate(); err != nil {
		return err
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
	if c.Coupling == CouplingOT && (c.OTGroup < 1 || c.OTGroup > 4096) {
		return fmt.Errorf("-ot-group must be in [1, 4096] (got %d)", c.OTGroup)
	}
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

// checkWritable checks that path's folder exists and accepts a new file, and that path
// itself is not a folder, without touching path.
func checkWritable(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return errors.New("it is a folder")
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("folder %s does not exist", dir)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	f, err := os.CreateTemp(dir, ".flowmatch-write-test-*")
	if err != nil {
		return fmt.Errorf("folder %s is not writable", dir)
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}
