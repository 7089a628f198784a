package trainer

import (
	"fmt"
	"math"

	"github.com/flowmatch/flowmatch/unet"
	"github.com/flowmatch/flowmatch/weights"
)

// exportImages writes a U-Net run's EMA weights to cfg.Out as an "unet" file (format
// version 4: the data's shape, classes and pixel range), reads it back and checks the
// pure-Go network against libtorch's on the file's own values (verifyImages).
func exportImages(e *engine, cfg *Config, res *Result, seconds float64, opt Options) error {
	flat := make([]float32, e.n)
	e.read(flat, e.E)
	if err := e.err(); err != nil {
		return err
	}
	u := cfg.UNet()
	prov := provenanceOf(cfg, res, seconds)
	prov.Notes["label_drop"] = fmt.Sprint(cfg.LabelDrop)
	meta := weights.Meta{
		Arch:       weights.ArchUNet,
		Net:        &weights.UNetSpec{Config: u},
		Path:       weights.PathInfo{PathSpec: cfg.Path},
		Data:       imageInfo(),
		Provenance: prov,
	}
	f, err := weights.NewFileTensors(meta, unflattenUNet(u, flat))
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	data, err := writeModel(cfg, f)
	if err != nil || opt.NoVerify {
		return err
	}
	res.VerifyMaxErr, res.VerifyScale, err = verifyImages(e, cfg, data)
	return err
}

// unflattenUNet cuts a flat parameter vector into u's tensors, by name.
func unflattenUNet(u unet.Config, flat []float32) map[string][]float32 {
	m := map[string][]float32{}
	off := 0
	for _, t := range u.Tensors() {
		n := 1
		for _, s := range t.Shape {
			n *= s
		}
		m[t.Name] = flat[off : off+n : off+n]
		off += n
	}
	return m
}

// flattenUNet is unflattenUNet's inverse.
func flattenUNet(u unet.Config, tensors map[string][]float32) []float32 {
	var flat []float32
	for _, t := range u.Tensors() {
		flat = append(flat, tensors[t.Name]...)
	}
	return flat
}

// VerifyImagesTol bounds |v_libtorch − v_go| on an image model's check batches,
// relative to the larger of 1 and the velocities' scale: the two differ by float32
// summation order only (about 1e-6 relative); the parity bound is 1e-3.
const VerifyImagesTol = 1e-3

// verifyImages decodes the file written (data) and compares the pure-Go U-Net's
// velocity with libtorch's, both on the file's values, over two training-like batches
// (random images, times and labels, the null class among them).
func verifyImages(e *engine, cfg *Config, data []byte) (maxErr, scale float64, err error) {
	f, err := weights.DecodeBytes(data)
	if err != nil {
		return 0, 0, fmt.Errorf("verify: %w", err)
	}
	field, _, err := f.Field()
	if err != nil {
		return 0, 0, fmt.Errorf("verify: %w", err)
	}
	net, ok := field.(*unet.Net)
	if !ok {
		return 0, 0, fmt.Errorf("verify: %s holds a %T, not a U-Net", cfg.Out, field)
	}
	u := cfg.UNet()
	tensors := map[string][]float32{}
	for _, t := range f.Tensors {
		tensors[t.Name] = t.Data
	}
	e.write(e.G, flattenUNet(u, tensors)) // G, the gradient buffer, is free now
	vcfg := *cfg
	vcfg.Seed ^= streamVerify
	s := newImageStream(&vcfg, cfg.images)
	d, B := u.Dim(), e.batch
	u0 := make([]float32, B*d)
	x, ts, labels, goV := make([]float32, B*d), make([]float64, B), make([]int, B), make([]float32, B*d)
	for range 2 {
		if err := s.Next(e.img.stage, u0); err != nil {
			return 0, 0, err
		}
		for b := range B {
			row := e.img.stage[b*(d+2) : (b+1)*(d+2)]
			copy(x[b*d:(b+1)*d], row[:d])
			ts[b], labels[b] = float64(row[d]), int(row[d+1])
		}
		tv := e.img.velocity(e)
		if err := e.err(); err != nil {
			return 0, 0, err
		}
		net.Forward(goV, x, ts, labels)
		for i := range goV {
			maxErr = math.Max(maxErr, math.Abs(float64(goV[i]-tv[i])))
			scale = math.Max(scale, math.Abs(float64(tv[i])))
		}
	}
	if maxErr > VerifyImagesTol*math.Max(1, scale) {
		return maxErr, scale, fmt.Errorf("verify: the pure-Go U-Net's velocity differs from libtorch's by %.3g (scale %.3g) on %s", maxErr, scale, cfg.Out)
	}
	return maxErr, scale, nil
}
