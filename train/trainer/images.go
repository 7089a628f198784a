package trainer

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/recipe"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/unet"
	"github.com/flowmatch/flowmatch/weights"
)

// DataFashion is the built-in image dataset, Fashion-MNIST (Debian's
// dataset-fashion-mnist): a class-conditional U-Net (package unet) learns it on the OT
// path with per-sample label dropout for classifier-free guidance.
const DataFashion = "fashion-mnist"

// Images reports whether the run trains an image model (-data fashion-mnist).
func (c *Config) Images() bool { return c.Data == DataFashion }

// UNet is the image model's shape: pytorch_fmnist.py's U-Net at base width Channels
// (time features C, embedding 4C).
func (c *Config) UNet() unet.Config {
	u := unet.Default()
	u.Channels, u.TimeFeatures, u.Emb = c.Channels, c.Channels, 4*c.Channels
	return u
}

// imageDefaults are the recipe of the shipped image model, for the flags a command
// line leaves unset (the MLP's defaults suit 2-D points, not 784-pixel images):
// pytorch_fmnist.py's schedule (Adam 1e-3, 500 warmup steps, cosine decay to 10%,
// clipping at 1) at its batch of 64, for 38,000 steps rather than its 4,000 (about
// 100 minutes on 2 cores, inside the 2-hour budget; FD keeps falling with steps:
// 9,000 steps scored 61 and 35 where 25,000 scored 37 and 24, guidance 0 and 1,
// n = 1,000), with an EMA of twice pytorch_fmnist.py's half-life (0.9995: ~1,400
// steps) for a run ten times longer. Config's LabelDrop, 0.3, is part of the recipe too.
var imageDefaults = map[string]func(c *Config){
	"steps":      func(c *Config) { c.Steps = 38000 },
	"batch":      func(c *Config) { c.Batch = 64 },
	"lr":         func(c *Config) { c.LR = 1e-3 },
	"min-lr":     func(c *Config) { c.MinLRFrac = 0.1 },
	"ckpt-every": func(c *Config) { c.CkptEvery = 500 },
	"log-every":  func(c *Config) { c.LogEvery = 100 },
	"ema":        func(c *Config) { c.EMA = 0.9995 },
}

// validateImages checks what an image run needs instead of an MLP's settings.
func (c *Config) validateImages() error {
	switch {
	case c.Path.Name != sampler.PathOT:
		return fmt.Errorf("-data %s trains on -path ot only (got %s)", DataFashion, c.Path.Name)
	case c.Coupling != CouplingIndependent:
		return fmt.Errorf("-data %s: -coupling %s would pair noise and images across classes; use -coupling independent", DataFashion, c.Coupling)
	case c.Engine != EngineTorch:
		return fmt.Errorf("-data %s trains with -engine torch only", DataFashion)
	case c.Steps <= 0 || c.Batch <= 0:
		return fmt.Errorf("-steps and -batch must be positive (got %d, %d)", c.Steps, c.Batch)
	case math.IsNaN(c.LabelDrop) || c.LabelDrop < 0 || c.LabelDrop >= 1:
		return fmt.Errorf("-label-drop must be in [0, 1) (got %g)", c.LabelDrop)
	case c.Channels < 2 || c.Channels%2 != 0:
		return fmt.Errorf("-channels must be an even number of at least 2 (got %d)", c.Channels)
	}
	u := c.UNet()
	if err := u.Validate(); err != nil {
		return fmt.Errorf("-channels %d: %w", c.Channels, err)
	}
	return nil
}

// imageInfo is an image model's data record.
func imageInfo() weights.DataInfo {
	return weights.DataInfo{Name: DataFashion, Dim: 28 * 28, Shape: []int{1, 28, 28},
		Classes: dataset.FashionMNISTClasses(), Pixels: []float64{-1, 1}}
}

// imageStream draws an image run's batches: images x1 with their labels (each
// replaced by the null class with probability LabelDrop), noise x0 ~ N(0, I) and
// t ~ U(0, 1), given to the network as x_t = (1 − (1 − σ_min)·t)·x0 + t·x1 with
// target u = x1 − (1 − σ_min)·x0. A batch's input row is x_t's 784 values, then t,
// then the label (as a float).
type imageStream struct {
	im      *dataset.Images
	batch   int
	drop    float64
	sigma   float64
	null    int
	src     *rand.PCG
	rng     *rand.Rand
	ts      []float64
	fetched bool
}

func newImageStream(c *Config, im *dataset.Images) *imageStream {
	src := rand.NewPCG(c.Seed, recipe.StreamData)
	return &imageStream{im: im, batch: c.Batch, drop: c.LabelDrop, sigma: c.Path.SigmaMin,
		null: len(im.Classes), src: src, rng: rand.New(src)}
}

// Sizes are the batch's rows, an input row's values (pixels, t, label) and the pixels.
func (s *imageStream) Sizes() (rows, in, dim int) {
	d := s.im.Dim()
	return s.batch, d + 2, d
}

// Next draws a batch into x (rows of x_t, t, label) and u (targets).
func (s *imageStream) Next(x, u []float32) error {
	d := s.im.Dim()
	a := 1 - s.sigma
	for b := range s.batch {
		k := s.rng.IntN(s.im.N)
		label := int(s.im.Y[k])
		if s.rng.Float64() < s.drop {
			label = s.null
		}
		t := s.rng.Float64()
		x1 := s.im.X[k*d : (k+1)*d]
		row, ub := x[b*(d+2):(b+1)*(d+2)], u[b*d:(b+1)*d]
		for i, v := range x1 {
			x0 := s.rng.NormFloat64()
			row[i] = float32((1-a*t)*x0 + t*float64(v))
			ub[i] = float32(float64(v) - a*x0)
		}
		row[d], row[d+1] = float32(t), float32(label)
	}
	return nil
}

func (s *imageStream) State() ([]byte, error)      { return s.src.MarshalBinary() }
func (s *imageStream) SetState(state []byte) error { return s.src.UnmarshalBinary(state) }

// streamInitUNet is the random stream of a U-Net's initial weights.
const streamInitUNet = 0x756e65740003

// initUNet draws a U-Net's initial parameters, flat in the order of u.Tensors(), as
// PyTorch initialises its modules: convolution and Linear weights and biases uniform in
// ±1/√fan_in (kaiming_uniform with a = √5), GroupNorm scales 1 and shifts 0, the class
// embedding N(0, 1).
func initUNet(u unet.Config, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, streamInitUNet))
	var flat []float32
	fanIn := 0
	for _, t := range u.Tensors() {
		n := 1
		for _, s := range t.Shape {
			n *= s
		}
		vals := make([]float32, n)
		switch {
		case t.Name == "y.weight":
			for i := range vals {
				vals[i] = float32(rng.NormFloat64())
			}
		case len(t.Shape) == 1 && isNorm(t.Name):
			if t.Name[len(t.Name)-len("weight"):] == "weight" {
				for i := range vals {
					vals[i] = 1
				}
			}
		default:
			if len(t.Shape) > 1 { // a weight: its fan-in also bounds the bias after it
				fanIn = n / t.Shape[0]
			}
			bound := 1 / math.Sqrt(float64(fanIn))
			for i := range vals {
				vals[i] = float32((2*rng.Float64() - 1) * bound)
			}
		}
		flat = append(flat, vals...)
	}
	return flat
}

// isNorm reports whether a tensor belongs to a GroupNorm (n1, n2, out.0).
func isNorm(name string) bool {
	for _, suf := range []string{".n1.weight", ".n1.bias", ".n2.weight", ".n2.bias"} {
		if len(name) > len(suf) && name[len(name)-len(suf):] == suf {
			return true
		}
	}
	return name == "out.0.weight" || name == "out.0.bias"
}
