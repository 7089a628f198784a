package eval

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/unet"
)

// MaxImages bounds ImageOptions.N (10^6 Fashion-MNIST samples are 3 GB of float32).
const MaxImages = 1_000_000

// ImageOptions choose how SampleImages draws images from a U-Net. The zero value draws
// 16 images of the classes 0 … Classes−1 in turn, without guidance, with 20-NFE
// midpoint, seed 0.
type ImageOptions struct {
	N int // images (default 16, at most MaxImages)
	// Labels: image i gets Labels[i mod len(Labels)], a class or the null class
	// (Config.Null, unconditional). Nil means 0 … Classes−1, so image i has class
	// i mod Classes.
	Labels []int
	// Guidance is classifier-free guidance's w ≥ 0 (see unet.Guided).
	Guidance float64
	Solver   string // a fixed-step sampler method (default midpoint)
	NFE      int    // network evaluations per image (default 20)
	Seed     uint64
	// Batch is how many images one solve integrates together (default 256): the
	// network's activations grow with it, the per-call overhead shrinks.
	Batch int
	// Progress, if set, is called with the images done so far out of N, before the
	// first batch and after each.
	Progress func(done, total int)
}

func (o *ImageOptions) fill(cfg unet.Config) error {
	if o.N == 0 {
		o.N = 16
	}
	if o.N < 1 || o.N > MaxImages {
		return fmt.Errorf("eval: %d images, want 1 to %d", o.N, MaxImages)
	}
	if o.Labels == nil {
		for c := range cfg.Classes {
			o.Labels = append(o.Labels, c)
		}
	}
	for _, l := range o.Labels {
		if err := cfg.CheckLabel(l); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
	}
	if o.Guidance < 0 || math.IsNaN(o.Guidance) || math.IsInf(o.Guidance, 0) {
		return fmt.Errorf("eval: guidance %v, want a finite w ≥ 0", o.Guidance)
	}
	if o.Solver == "" {
		o.Solver = sampler.Midpoint
	}
	if o.Solver == sampler.Dopri5 {
		return fmt.Errorf("eval: solver %s: images take a fixed-step solver (%v)", o.Solver, sampler.Methods()[:4])
	}
	if o.NFE == 0 {
		o.NFE = 20
	}
	if o.Batch == 0 {
		o.Batch = 256
	}
	if o.Batch < 1 {
		return fmt.Errorf("eval: batch %d, want at least 1", o.Batch)
	}
	return nil
}

// SampleImages draws o.N images from net, a U-Net on the OT path (noise at t = 0, data at
// t = 1, as every image model file is), by integrating the guided field
// (unet.Guided) from standard normal noise. It returns N × Dim values in network space
// (for Fashion-MNIST [-1, 1]; weights.DataInfo.ToPixels maps them to [0, 1]), image i
// conditioned on o.Labels[i mod len(o.Labels)]. The noise is drawn for all N images
// first from o.Seed, so the images do not depend on o.Batch. The net's Workers split
// each batch over goroutines. A solve that produces a non-finite value is an error.
func SampleImages(net *unet.Net, o ImageOptions) ([]float32, error) {
	cfg := net.Config()
	if err := o.fill(cfg); err != nil {
		return nil, err
	}
	steps, err := sampler.StepsForNFE(o.Solver, o.NFE)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	solver, err := sampler.NewSolver(sampler.Options{Method: o.Solver, Steps: steps})
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	d := cfg.Dim()
	x := make([]float32, o.N*d)
	rng := rand.New(rand.NewPCG(o.Seed, 0x1a9e5))
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	g := &unet.Guided{Net: net, W: o.Guidance}
	if o.Progress != nil {
		o.Progress(0, o.N)
	}
	for lo := 0; lo < o.N; lo += o.Batch {
		hi := min(o.N, lo+o.Batch)
		g.Labels = g.Labels[:0]
		for i := lo; i < hi; i++ {
			g.Labels = append(g.Labels, o.Labels[i%len(o.Labels)])
		}
		if _, err := solver.Solve(g, x[lo*d:hi*d]); err != nil {
			return nil, fmt.Errorf("eval: sampling images %d to %d: %w", lo, hi-1, err)
		}
		if o.Progress != nil {
			o.Progress(hi, o.N)
		}
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("eval: sampling diverged: image %d has a non-finite value", i/d)
		}
	}
	return x, nil
}
