package trainer

import (
	"github.com/flowmatch/flowmatch/recipe"
)

// The training recipe, batches and schedules alike, is package recipe's (pure Go, so
// that a trainer without libtorch shares it): these give a Config's part of it.

// data describes the batches of the run: drawn in pure Go by recipe.Batcher, with
// (x_t, u_t) from sampler.Interpolate and the input rows from the sampler's own
// TimeEmbedding.Features, so that what the trainer regresses on is exactly what the
// sampler integrates.
func (c *Config) data() recipe.Data {
	return recipe.Data{Dataset: c.Data, Path: c.Path, Coupling: c.Coupling, OTGroup: c.OTGroup, Batch: c.Batch, Time: c.Time}
}

// schedule is the run's learning rate by step.
func (c *Config) schedule() recipe.Schedule {
	return recipe.Schedule{LR: c.LR, Warmup: c.Warmup, Steps: c.Steps, MinLRFrac: c.MinLRFrac}
}

// adamw is the run's optimiser.
func (c *Config) adamw() recipe.AdamW {
	return recipe.AdamW{Beta1: c.Beta1, Beta2: c.Beta2, Eps: c.AdamEps, WeightDecay: c.WeightDecay}
}
