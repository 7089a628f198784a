package trainer

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"time"

	"github.com/sugarme/gotch"

	"github.com/flowmatch/flowmatch/outfile"
	"github.com/flowmatch/flowmatch/recipe"
	"github.com/flowmatch/flowmatch/weights"
)

// Versions of the native stack, recorded in every file's provenance. setup-gotch.sh
// writes them into the adapted gotch copy.
var (
	LibtorchVersion = gotch.FlowmatchLibtorch
	GotchVersion    = gotch.FlowmatchGotch
)

// export writes the EMA weights (the raw weights when EMA is 0, which Run keeps in E
// too) to cfg.Out, reads the file back, and checks that the pure-Go sampler's network
// computes the same velocities as libtorch's with the file's own (possibly float16)
// values.
func export(e *engine, cfg *Config, res *Result, seconds float64, opt Options) error {
	if cfg.Images() {
		return exportImages(e, cfg, res, seconds, opt)
	}
	flat := make([]float32, e.n)
	e.read(flat, e.E)
	if err := e.err(); err != nil {
		return err
	}
	ws, bs := recipe.Unflatten(e.shapes, flat)
	meta := weights.Meta{
		Model:      cfg.Spec(),
		Path:       weights.PathInfo{PathSpec: cfg.Path},
		Data:       cfg.dataInfo(),
		Provenance: provenanceOf(cfg, res, seconds),
	}
	f, err := weights.NewFile(meta, ws, bs)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	data, err := writeModel(cfg, f)
	if err != nil || opt.NoVerify {
		return err
	}
	maxErr, scale, err := verify(e, cfg, data)
	if err != nil {
		return err
	}
	res.VerifyMaxErr, res.VerifyScale = maxErr, scale
	return nil
}

// writeModel encodes f in cfg's dtype and writes it to cfg.Out, returning the bytes
// written (which verify reads back when cfg.Out is no regular file).
func writeModel(cfg *Config, f *weights.File) ([]byte, error) {
	data, err := weights.Marshal(f, cfg.DType)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if err := outfile.WriteFile(cfg.Out, data); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return data, nil
}

// provenanceOf is how the run made its model, as the file records it.
func provenanceOf(cfg *Config, res *Result, seconds float64) weights.Provenance {
	conf, _ := json.Marshal(keyOf(cfg))
	cmd := cfg.Command
	if cmd == "" {
		cmd = "(library call)"
	}
	return weights.Provenance{
		Command:   cmd,
		Steps:     cfg.Steps,
		FinalLoss: round(res.Loss, 6),
		Seed:      cfg.Seed,
		Batch:     cfg.Batch,
		LR:        cfg.LR,
		EMA:       cfg.EMA,
		Coupling:  cfg.Coupling,
		Optimizer: "adamw",
		Device:    res.Device,
		Seconds:   math.Round(seconds*10) / 10, // to 0.1 s (round keeps significant digits: 1 gave 5000 for 4,823 s)
		LibTorch:  LibtorchVersion,
		Gotch:     GotchVersion,
		Go:        runtime.Version(),
		Date:      time.Now().UTC().Format(time.RFC3339),
		Notes:     map[string]string{"config": string(conf), "dtype": string(cfg.DType)},
	}
}

// streamVerify is the random stream (recipe.StreamData's sibling) of verify's batches.
const streamVerify = 0x7665726966790003

// verify reads cfg.Out back (or, when it is no regular file, such as /dev/stdout,
// decodes the bytes written to it) and compares the sampler's velocity with libtorch's
// on a batch of path points at a few times, with libtorch running the file's decoded
// parameters (so float16 rounding is on both sides). The two differ only by float32
// summation order; the bound allows 1e-4 relative to the velocity scale.
func verify(e *engine, cfg *Config, data []byte) (maxErr, scale float64, err error) {
	var f *weights.File
	if t, rerr := outfile.Resolve(cfg.Out); rerr == nil && t.Regular {
		f, err = weights.ReadFile(cfg.Out)
	} else {
		f, err = weights.DecodeBytes(data)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("verify: %w", err)
	}
	mlp, path, err := f.Model()
	if err != nil {
		return 0, 0, fmt.Errorf("verify: %w", err)
	}
	ws, bs, err := f.Params()
	if err != nil {
		return 0, 0, fmt.Errorf("verify: %w", err)
	}
	// G, the gradient buffer, is free now: load the file's parameters into it.
	e.write(e.G, recipe.Flatten(ws, bs))
	b, err := recipe.NewBatcher(cfg.data(), rand.NewPCG(cfg.Seed, streamVerify))
	if err != nil {
		return 0, 0, err
	}
	d := e.spec.Dim
	goV := make([]float32, e.batch*d)
	ts := make([]float64, e.batch)
	for _, frac := range []float64{0, 0.25, 0.5, 0.75, 1} {
		t := frac * path.TMax()
		p, err := b.Draw()
		if err != nil {
			return 0, 0, err
		}
		for i := range ts {
			ts[i] = t
		}
		// Points on the path at t: x_t for this batch's (x0, x1).
		c := path.Coeffs(t)
		x := make([]float32, e.batch*d)
		for i := range x {
			x[i] = float32(c.A*float64(p.X1[i]) + c.B*float64(p.X0[i]))
		}
		tv := e.velocity(e.gv, x, ts)
		if err := e.err(); err != nil {
			return 0, 0, err
		}
		mlp.Velocity(goV, x, t)
		for i := range goV {
			maxErr = math.Max(maxErr, math.Abs(float64(goV[i]-tv[i])))
			scale = math.Max(scale, math.Abs(float64(tv[i])))
		}
	}
	if maxErr > 1e-4*math.Max(1, scale) {
		return maxErr, scale, fmt.Errorf("verify: the pure-Go sampler's velocity differs from libtorch's by %.3g (scale %.3g) on %s", maxErr, scale, cfg.Out)
	}
	return maxErr, scale, nil
}

func round(v float64, digits int) float64 {
	s := strconv.FormatFloat(v, 'g', digits, 64)
	r, _ := strconv.ParseFloat(s, 64)
	return r
}
