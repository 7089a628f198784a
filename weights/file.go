package weights

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/flowmatch/flowmatch/sampler"
)

// File is a decoded model file: its metadata and its tensors.
type File struct {
	Meta Meta
	// Tensors in storage order. A valid file holds exactly the tensors its model
	// needs: for each Linear layer i = 0 … L−1, [WeightName](i) with shape [out, in]
	// (PyTorch's layout) and [BiasName](i) with shape [out].
	Tensors []Tensor
}

// Tensor is one named array. Data is row-major with len(Data) = the product of Shape.
type Tensor struct {
	Name  string
	DType DType // how it was stored; Encode ignores it and uses its dtype argument
	Shape []int
	Data  []float32
}

// WeightName is the tensor name of Linear layer i's weight matrix: "layers.{i}.weight".
func WeightName(i int) string { return "layers." + strconv.Itoa(i) + ".weight" }

// BiasName is the tensor name of Linear layer i's bias: "layers.{i}.bias".
func BiasName(i int) string { return "layers." + strconv.Itoa(i) + ".bias" }

// expectedTensors returns, for the model spec, the shape of every tensor a file must
// hold, by name, and the names in canonical order (layer by layer, weight then bias).
func expectedTensors(spec sampler.MLPSpec) (map[string][]int, []string) {
	shapes := spec.LayerShapes()
	want := make(map[string][]int, 2*len(shapes))
	names := make([]string, 0, 2*len(shapes))
	for i, sh := range shapes {
		want[WeightName(i)] = []int{sh[0], sh[1]}
		want[BiasName(i)] = []int{sh[0]}
		names = append(names, WeightName(i), BiasName(i))
	}
	return want, names
}

// checkTensorSet checks that the (name, shape) pairs are exactly the tensors spec
// needs. Names must be unique (the caller guarantees it).
func checkTensorSet(spec sampler.MLPSpec, names []string, shapes [][]int) error {
	want, order := expectedTensors(spec)
	for k, name := range names {
		w, ok := want[name]
		if !ok {
			return errf("unexpected tensor %q: a version %d file holds only layers.{i}.weight and layers.{i}.bias for i = 0…%d",
				name, FormatVersion, len(spec.LayerShapes())-1)
		}
		if !equalInts(shapes[k], w) {
			return errf("tensor %q: shape %v but model says %v", name, shapes[k], w)
		}
	}
	if len(names) != len(want) {
		have := make(map[string]bool, len(names))
		for _, n := range names {
			have[n] = true
		}
		for _, n := range order {
			if !have[n] {
				return errf("tensor %q is missing (model %s needs %d tensors, the file has %d)",
					n, describeModel(spec), len(want), len(names))
			}
		}
	}
	return nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// describeModel writes a spec as "3→64→64→2 silu".
func describeModel(s sampler.MLPSpec) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(s.InputDim()))
	for _, h := range s.Hidden {
		b.WriteString("→" + strconv.Itoa(h))
	}
	b.WriteString("→" + strconv.Itoa(s.Dim))
	act := s.Activation
	if act == "" {
		act = sampler.ActSiLU
	}
	return b.String() + " " + act
}

// NewFile makes a File from a model's parameters: weights[l] is layer l's matrix in
// PyTorch's layout, [out][in] row-major, and biases[l] its bias, as for
// [sampler.NewMLP]. The slices are copied.
//
// meta.Model and meta.Path.PathSpec are required. NewFile writes the defaults out in
// full, so that a file says exactly what it means: the activation and time embedding,
// every path parameter, t_max (when zero: the path's TMax) and Data.Dim (when zero:
// the model's).
func NewFile(meta Meta, weights, biases [][]float32) (*File, error) {
	m := meta
	m.Model.Hidden = append([]int(nil), meta.Model.Hidden...)
	if m.Model.Activation == "" {
		m.Model.Activation = sampler.ActSiLU
	}
	if m.Model.Time.Kind == "" {
		m.Model.Time.Kind = sampler.TimeRaw
	}
	if err := m.Model.Validate(); err != nil {
		return nil, errf("NewFile: %v", err)
	}
	path, err := sampler.NewPath(m.Path.PathSpec)
	if err != nil {
		return nil, errf("NewFile: %v", err)
	}
	m.Path.PathSpec = path.Spec()
	if m.Path.TMax == 0 {
		m.Path.TMax = path.TMax()
	}
	if m.Data.Dim == 0 {
		m.Data.Dim = m.Model.Dim
	}
	if nz := meta.Data.Normalization; nz != nil {
		m.Data.Normalization = &Normalization{
			Mean: append([]float64(nil), nz.Mean...),
			Std:  append([]float64(nil), nz.Std...),
		}
	}
	m.Extra = copyMap(meta.Extra)
	m.Provenance.Notes = copyMap(meta.Provenance.Notes)
	shapes := m.Model.LayerShapes()
	if len(weights) != len(shapes) || len(biases) != len(shapes) {
		return nil, errf("NewFile: model %s has %d layers, got %d weights and %d biases",
			describeModel(m.Model), len(shapes), len(weights), len(biases))
	}
	f := &File{Meta: m}
	for l, sh := range shapes {
		f.Tensors = append(f.Tensors,
			Tensor{Name: WeightName(l), DType: F32, Shape: []int{sh[0], sh[1]}, Data: append([]float32(nil), weights[l]...)},
			Tensor{Name: BiasName(l), DType: F32, Shape: []int{sh[0]}, Data: append([]float32(nil), biases[l]...)})
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return f, nil
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// Validate checks everything Decode checks: the metadata is valid and complete, the
// tensors are exactly the ones the model needs with the right shapes, and every value
// is finite. Encode calls it first, so a file that Encode writes decodes again.
func (f *File) Validate() error {
	_, err := f.check()
	return err
}

func (f *File) check() (sampler.Path, error) {
	path, err := f.Meta.check()
	if err != nil {
		return nil, err
	}
	names := make([]string, len(f.Tensors))
	shapes := make([][]int, len(f.Tensors))
	seen := make(map[string]bool, len(f.Tensors))
	for i, t := range f.Tensors {
		if seen[t.Name] {
			return nil, errf("tensor %q appears twice", t.Name)
		}
		seen[t.Name] = true
		names[i], shapes[i] = t.Name, t.Shape
	}
	if err := checkTensorSet(f.Meta.Model, names, shapes); err != nil {
		return nil, err
	}
	for _, t := range f.Tensors {
		n := 1
		for _, d := range t.Shape {
			n *= d
		}
		if len(t.Data) != n {
			return nil, errf("tensor %q: shape %v needs %d values, has %d", t.Name, t.Shape, n, len(t.Data))
		}
		for i, v := range t.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, errf("tensor %q: value %d (%s) is %v", t.Name, i, index(t.Shape, i), v)
			}
		}
	}
	return path, nil
}

// index writes flat index i of a row-major array of the given shape as "[r c]".
func index(shape []int, i int) string {
	idx := make([]int, len(shape))
	for k := len(shape) - 1; k >= 0; k-- {
		if shape[k] > 0 {
			idx[k] = i % shape[k]
			i /= shape[k]
		}
	}
	return fmt.Sprint(idx)
}

// Tensor returns the tensor called name, or nil.
func (f *File) Tensor(name string) *Tensor {
	for i := range f.Tensors {
		if f.Tensors[i].Name == name {
			return &f.Tensors[i]
		}
	}
	return nil
}

// Params returns the model's weights and biases in the layout [sampler.NewMLP] takes.
// The slices are the file's own, not copies.
func (f *File) Params() (weights, biases [][]float32, err error) {
	n := len(f.Meta.Model.LayerShapes())
	if err := f.Meta.Model.Validate(); err != nil {
		return nil, nil, errf("%v", err)
	}
	weights = make([][]float32, n)
	biases = make([][]float32, n)
	for l := 0; l < n; l++ {
		w, b := f.Tensor(WeightName(l)), f.Tensor(BiasName(l))
		if w == nil || b == nil {
			return nil, nil, errf("layer %d: tensor %q or %q is missing", l, WeightName(l), BiasName(l))
		}
		weights[l], biases[l] = w.Data, b.Data
	}
	return weights, biases, nil
}

// Model builds the velocity network and the probability path from the file alone.
func (f *File) Model() (*sampler.MLP, sampler.Path, error) {
	path, err := f.check()
	if err != nil {
		return nil, nil, err
	}
	w, b, err := f.Params()
	if err != nil {
		return nil, nil, err
	}
	mlp, err := sampler.NewMLP(f.Meta.Model, w, b)
	if err != nil {
		return nil, nil, errf("%v", err)
	}
	return mlp, path, nil
}

// NumParams is the number of values in the file's tensors.
func (f *File) NumParams() int {
	n := 0
	for _, t := range f.Tensors {
		n += len(t.Data)
	}
	return n
}

// Sample draws n points from the model: x0 ~ N(0, s0² I) with s0 the path's SourceStd
// (n×Dim standard normals from rng, row by row, scaled by s0), integrated by
// [sampler.Solve] from the file's t_min to its t_max (opt.T0 and opt.T1 are set to
// those), then mapped to data space by the file's normalization, if any. It returns the
// points, n×Dim row-major, and what the solve cost. The same rng state gives the same
// points.
func (f *File) Sample(n int, rng *rand.Rand, opt sampler.Options) ([]float32, sampler.Stats, error) {
	mlp, path, err := f.Model()
	if err != nil {
		return nil, sampler.Stats{}, err
	}
	d := mlp.Dim()
	if n < 1 || n > maxSampleValues/d {
		return nil, sampler.Stats{}, fmt.Errorf("weights: Sample: n = %d, want 1 to %d for dim %d", n, maxSampleValues/d, d)
	}
	x := make([]float32, n*d)
	s0 := path.SourceStd()
	for i := range x {
		x[i] = float32(s0 * rng.NormFloat64())
	}
	opt.T0, opt.T1 = f.Meta.Path.TMin, f.Meta.Path.TMax
	st, err := sampler.Solve(mlp, x, opt)
	if err != nil {
		return nil, st, err
	}
	f.Meta.Data.ToData(x)
	return x, st, nil
}

// maxSampleValues bounds n×Dim in Sample (512 MiB of float32).
const maxSampleValues = 1 << 27
