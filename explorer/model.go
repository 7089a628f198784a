package explorer

import (
	"fmt"
	"math"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// Model is a velocity field ready to sample: a trained network (or, in tests, an exact
// field) with the probability path it was trained on.
type Model struct {
	Name    string // the manifest's name, e.g. "moons-ot"
	Dataset string
	Path    sampler.Path
	Field   sampler.Field // of any dimension; a sampler.DivField as well for the learned density
	// TMin and TMax are the times to integrate between; a zero TMax means Path.TMax().
	TMin, TMax float64
	// Mean and Std, when set, map the network's space to data space:
	// x_data = Mean + Std·x_net per coordinate. The app works in data space.
	Mean, Std []float64
	// Arch and Data are the file's network kind and data description: an image model
	// (Arch "unet") is shown by the Images mode only (images.go).
	Arch string
	Data weights.DataInfo
}

// DecodeModel turns the bytes of a model file into a model named name (the manifest's
// name), taking its dataset from the file's metadata when it names a known dataset of
// the model's dimension. Any dimension and any kind of network the weights package
// builds ([weights.File.Field]) decodes; [Model.Plottable] says whether the explorer's
// pictures can draw it.
func DecodeModel(name, ds string, b []byte) (*Model, error) {
	f, err := weights.DecodeBytes(b)
	if err != nil {
		return nil, fmt.Errorf("not a valid model file: %w", err)
	}
	net, path, err := f.Field()
	if err != nil {
		return nil, err
	}
	m := &Model{
		Name: name, Dataset: ds, Path: path, Field: net,
		TMin: f.Meta.Path.TMin, TMax: f.Meta.Path.TMax, Arch: f.Meta.Arch, Data: f.Meta.Data,
	}
	if dn := f.Meta.Data.Name; dn != "" && dataset.Dim(dn) == net.Dim() {
		m.Dataset = dn
	}
	if nz := f.Meta.Data.Normalization; nz != nil {
		m.Mean, m.Std = nz.Mean, nz.Std
	}
	return m, nil
}

func (m *Model) tRange() (float64, float64) {
	if m.TMax == 0 {
		return m.TMin, m.Path.TMax()
	}
	return m.TMin, m.TMax
}

// Dim is the dimension of the model's points. Check first: a model without a field
// has none.
func (m *Model) Dim() int { return m.Field.Dim() }

// PlotDim is the dimension of the explorer's pictures: the scatter plot, trails, vector
// field, learned density and dropped groups are drawn in the plane.
const PlotDim = 2

// Plottable reports whether the explorer's pictures can draw the model: whether it is
// 2-D. A model of another dimension is integrated all the same; its panel says why it
// is not drawn ([Model.PlotError]).
func (m *Model) Plottable() bool { return m.Dim() == PlotDim }

// PlotError says, for a model the pictures cannot draw, why; nil for a 2-D model.
func (m *Model) PlotError() error {
	if m.Plottable() {
		return nil
	}
	return fmt.Errorf("the explorer draws 2-D models only; the model %s has dimension %d (its particles are computed but not drawn)",
		m.Name, m.Dim())
}

// Check reports whether the app can integrate the model: a field of dimension 1 or
// more, a sane time range and normalisation (one mean and scale per coordinate).
func (m *Model) Check() error {
	if m.Field == nil || m.Path == nil {
		return fmt.Errorf("the model has no field or no path")
	}
	d := m.Field.Dim()
	if d < 1 {
		return fmt.Errorf("the model's field has dimension %d", d)
	}
	t0, t1 := m.tRange()
	if !(t0 >= 0 && t0 < t1 && t1 <= m.Path.TMax()) {
		return fmt.Errorf("time range [%g, %g] is outside the path's [0, %g]", t0, t1, m.Path.TMax())
	}
	if m.Mean != nil || m.Std != nil {
		if len(m.Mean) != d || len(m.Std) != d {
			return fmt.Errorf("normalisation has %d means and %d scales, want %d each", len(m.Mean), len(m.Std), d)
		}
		for j := range m.Std {
			// Std 0 is a coordinate the model keeps constant (weights.Normalization).
			if !(m.Std[j] >= 0) || math.IsInf(m.Std[j], 0) || math.IsNaN(m.Mean[j]) || math.IsInf(m.Mean[j], 0) {
				return fmt.Errorf("normalisation coordinate %d: mean %g, scale %g", j, m.Mean[j], m.Std[j])
			}
		}
	}
	return nil
}

// dataField is a model's field in data space: with x_data = μ + σ·x_net,
// v_data(x, t) = σ·v_net((x − μ)/σ, t). Its divergence equals the network's.
type dataField struct {
	f         sampler.Field
	mean, std []float64
	buf       []float32
}

func (m *Model) dataSpaceField() sampler.Field {
	if m.Mean == nil {
		return m.Field
	}
	return &dataField{f: m.Field, mean: m.Mean, std: m.Std}
}

func (g *dataField) Dim() int { return g.f.Dim() }

func (g *dataField) toNet(x []float32) []float32 {
	if cap(g.buf) < len(x) {
		g.buf = make([]float32, len(x))
	}
	b := g.buf[:len(x)]
	d := len(g.mean)
	for i, v := range x {
		if s := g.std[i%d]; s > 0 {
			b[i] = float32((float64(v) - g.mean[i%d]) / s)
		} else {
			b[i] = 0 // a constant coordinate: where the network was trained
		}
	}
	return b
}

func (g *dataField) scale(dst []float32) {
	d := len(g.std)
	for i := range dst {
		dst[i] = float32(float64(dst[i]) * g.std[i%d])
	}
}

func (g *dataField) Velocity(dst, x []float32, t float64) {
	g.f.Velocity(dst, g.toNet(x), t)
	g.scale(dst)
}

func (g *dataField) VelocityDiv(dst, div, x []float32, t float64) {
	df, ok := g.f.(sampler.DivField)
	if !ok {
		panic("explorer: VelocityDiv on a field without divergence")
	}
	df.VelocityDiv(dst, div, g.toNet(x), t)
	g.scale(dst)
}
