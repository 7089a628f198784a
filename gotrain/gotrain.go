package gotrain

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/flowmatch/flowmatch/recipe"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// Config is one training run. Zero values mean the train module's defaults (see
// withDefaults), so Config{Data: recipe.Data{Dataset: "moons"}} trains the shipped
// models' recipe.
type Config struct {
	// Data says what the batches are: a dataset or own Points, the path (zero: OT),
	// coupling ("": independent), OT group (0: 128), batch (0: 1024) and time features.
	Data       recipe.Data
	Hidden     []int  // hidden widths; nil means {256, 256, 256} (the shipped models' size)
	Activation string // "" means sampler.ActSiLU, the only one implemented so far
	Steps      int    // total steps, for the schedule (0 means 20000)
	LR         float64
	Warmup     int     // linear warmup steps, then cosine decay (recipe.Schedule); 0: none
	MinLRFrac  float64 // final learning rate as a fraction of LR (0: decay to 0)
	// WeightDecay is AdamW's decoupled weight decay (0: none, plain Adam).
	WeightDecay float64
	Beta1       float64 // 0 means 0.9
	Beta2       float64 // 0 means 0.999
	AdamEps     float64 // 0 means 1e-8
	Clip        float64 // global gradient-norm clip; 0 means 1, negative turns clipping off
	EMA         float64 // EMA decay of the exported weights; 0 means 0.999, negative exports the raw weights
	Seed        uint64
	Workers     int // goroutines for the matrix products; 0 means GOMAXPROCS
	// Prefetch draws the batches of the first Steps steps ahead in a goroutine
	// (recipe.Batcher.Prefetch), in the same order, so that drawing them (above all the
	// OT pairing) overlaps the steps on another core. Call Trainer.Close when done.
	Prefetch bool
}

// Defaults of the zero Config fields: the train module's (train/trainer.Default).
const (
	DefaultSteps   = 20000
	DefaultLR      = 2e-3
	DefaultBatch   = 1024
	DefaultOTGroup = 128
	DefaultBeta1   = 0.9
	DefaultBeta2   = 0.999
	DefaultAdamEps = 1e-8
	DefaultClip    = 1
	DefaultEMA     = 0.999
	DefaultHidden  = 256
	DefaultLayers  = 3
)

// withDefaults returns c with its zero fields filled in.
func (c Config) withDefaults() Config {
	if c.Data.Path.Name == "" {
		c.Data.Path.Name = sampler.PathOT
	}
	if c.Data.Coupling == "" {
		c.Data.Coupling = weights.CouplingIndependent
	}
	if c.Data.OTGroup == 0 {
		c.Data.OTGroup = DefaultOTGroup
	}
	if c.Data.Batch == 0 {
		c.Data.Batch = DefaultBatch
	}
	if c.Hidden == nil {
		c.Hidden = []int{DefaultHidden, DefaultHidden, DefaultHidden}
	}
	if c.Activation == "" {
		c.Activation = sampler.ActSiLU
	}
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	if c.Steps == 0 {
		c.Steps = DefaultSteps
	}
	def(&c.LR, DefaultLR)
	def(&c.Beta1, DefaultBeta1)
	def(&c.Beta2, DefaultBeta2)
	def(&c.AdamEps, DefaultAdamEps)
	def(&c.Clip, DefaultClip)
	def(&c.EMA, DefaultEMA)
	c.Clip, c.EMA = max(c.Clip, 0), max(c.EMA, 0)
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	return c
}

// validate checks what recipe and sampler do not.
func (c Config) validate() error {
	switch {
	case c.Activation != sampler.ActSiLU:
		return fmt.Errorf("gotrain: activation %q: only %s is implemented", c.Activation, sampler.ActSiLU)
	case c.Steps < 1:
		return fmt.Errorf("gotrain: %d steps, want at least 1", c.Steps)
	case !(c.LR > 0):
		return fmt.Errorf("gotrain: learning rate %g, want > 0", c.LR)
	case c.Warmup < 0:
		return fmt.Errorf("gotrain: warmup %d, want ≥ 0", c.Warmup)
	case !(c.MinLRFrac >= 0 && c.MinLRFrac <= 1):
		return fmt.Errorf("gotrain: min LR fraction %g, want in [0, 1]", c.MinLRFrac)
	case !(c.WeightDecay >= 0):
		return fmt.Errorf("gotrain: weight decay %g, want ≥ 0", c.WeightDecay)
	case !(c.Beta1 >= 0 && c.Beta1 < 1) || !(c.Beta2 >= 0 && c.Beta2 < 1):
		return fmt.Errorf("gotrain: betas (%g, %g), want each in [0, 1)", c.Beta1, c.Beta2)
	case !(c.AdamEps > 0):
		return fmt.Errorf("gotrain: Adam eps %g, want > 0", c.AdamEps)
	case !(c.EMA < 1):
		return fmt.Errorf("gotrain: EMA decay %g, want < 1", c.EMA)
	}
	return nil
}

// Spec is the network the configuration trains (after defaults).
func (c Config) Spec() sampler.MLPSpec {
	c = c.withDefaults()
	return sampler.MLPSpec{Dim: c.Data.Dim(), Hidden: append([]int(nil), c.Hidden...),
		Activation: c.Activation, Time: c.Data.Time}
}

// errNotFinite is a step's refusal of a non-finite loss or gradient.
var errNotFinite = errors.New("gotrain: non-finite loss or gradient")
