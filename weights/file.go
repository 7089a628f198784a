package weights

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/flowmatch/flowmatch/sampler"
)

// File is a decoded model file: its metadata and its tensors.
type File struct {
	Meta Meta
	// Tensors in storage order. A valid file holds exactly the tensors its network's
	// spec lists ([Spec.Tensors]): for an MLP, for each Linear layer i = 0 … L−1,
	// [WeightName](i) with shape [out, in] (PyTorch's layout) and [BiasName](i) with
	// shape [out].
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

// checkTensorSet checks that the (name, shape) pairs are exactly the tensors spec
// needs. Names must be unique (the caller guarantees it), and spec valid.
func checkTensorSet(spec Spec, names []string, shapes [][]int) error {
	want := spec.Tensors()
	at := make(map[string]int, len(want))
	for i, t := range want {
		at[t.Name] = i
	}
	for k, name := range names {
		i, ok := at[name]
		if !ok {
			return errf("unexpected tensor %q: the %s network %s holds %s", name, spec.Arch(), spec, describeTensors(want))
		}
		if !equalInts(shapes[k], want[i].Shape) {
			return errf("tensor %q: shape %v but model says %v", name, shapes[k], want[i].Shape)
		}
	}
	if len(names) != len(want) {
		have := make(map[string]bool, len(names))
		for _, n := range names {
			have[n] = true
		}
		for _, t := range want {
			if !have[t.Name] {
				return errf("tensor %q is missing (model %s needs %d tensors, the file has %d)",
					t.Name, spec, len(want), len(names))
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

// NewFile makes a File holding an MLP from its parameters: weights[l] is layer l's
// matrix in PyTorch's layout, [out][in] row-major, and biases[l] its bias, as for
// [sampler.NewMLP]. The slices are copied. For a network of any kind, see
// [NewFileTensors].
//
// meta.Model and meta.Path.PathSpec are required. NewFile writes the defaults out in
// full, so that a file says exactly what it means: the arch, the activation and time
// embedding, every path parameter, t_max (when zero: the path's TMax) and Data.Dim
// (when zero: the model's).
func NewFile(meta Meta, weights, biases [][]float32) (*File, error) {
	if a := meta.arch(); a != ArchMLP {
		return nil, errf("NewFile: arch %q: NewFile makes MLPs (NewFileTensors makes any kind)", a)
	}
	m, spec, err := completeMeta(meta, "NewFile")
	if err != nil {
		return nil, err
	}
	shapes := m.Model.LayerShapes()
	if len(weights) != len(shapes) || len(biases) != len(shapes) {
		return nil, errf("NewFile: model %s has %d layers, got %d weights and %d biases",
			spec, len(shapes), len(weights), len(biases))
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

// NewFileTensors makes a File from a network of any kind: meta's spec ([Meta.Spec])
// says which tensors it has and their shapes, and tensors gives each one's values by
// name, row-major (for an MLP, as [NewFile] takes them). The File holds them in the
// spec's order, each with the spec's shape. The slices are copied; meta.Net is kept as
// it is.
//
// The spec and meta.Path.PathSpec are required; defaults are written out in full, as
// NewFile does.
func NewFileTensors(meta Meta, tensors map[string][]float32) (*File, error) {
	m, spec, err := completeMeta(meta, "NewFileTensors")
	if err != nil {
		return nil, err
	}
	want := spec.Tensors()
	f := &File{Meta: m}
	for _, t := range want {
		data, ok := tensors[t.Name]
		if !ok {
			return nil, errf("NewFileTensors: tensor %q is missing (model %s needs %d tensors, got %d)",
				t.Name, spec, len(want), len(tensors))
		}
		f.Tensors = append(f.Tensors, Tensor{Name: t.Name, DType: F32, Shape: append([]int(nil), t.Shape...),
			Data: append([]float32(nil), data...)})
	}
	if len(tensors) != len(want) {
		names := make([]string, 0, len(tensors))
		for name := range tensors {
			if f.Tensor(name) == nil {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		return nil, errf("NewFileTensors: unexpected tensor %q: the %s network %s holds %s",
			names[0], spec.Arch(), spec, describeTensors(want))
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return f, nil
}

// completeMeta returns a copy of meta with the defaults filled in and everything a File
// keeps copied, and its network's spec, valid. who names the caller in errors.
func completeMeta(meta Meta, who string) (Meta, Spec, error) {
	m := meta
	m.Arch = meta.arch()
	if m.Arch == ArchMLP {
		m.Model.Hidden = append([]int(nil), meta.Model.Hidden...)
		if m.Model.Activation == "" {
			m.Model.Activation = sampler.ActSiLU
		}
		if m.Model.Time.Kind == "" {
			m.Model.Time.Kind = sampler.TimeRaw
		}
	}
	spec, err := m.Spec()
	if err == nil {
		err = spec.Validate()
	}
	if err != nil {
		return m, nil, errf("%s: %v", who, strings.TrimPrefix(err.Error(), "weights: "))
	}
	path, err := sampler.NewPath(m.Path.PathSpec)
	if err != nil {
		return m, nil, errf("%s: %v", who, err)
	}
	m.Path.PathSpec = path.Spec()
	if m.Path.TMax == 0 {
		m.Path.TMax = path.TMax()
	}
	if m.Data.Dim == 0 {
		m.Data.Dim = spec.Dim()
	}
	if len(meta.Data.Shape) > 0 {
		m.Data.Shape = append([]int(nil), meta.Data.Shape...)
	} else {
		m.Data.Shape = nil
	}
	if len(meta.Data.Classes) > 0 {
		m.Data.Classes = append([]string(nil), meta.Data.Classes...)
	} else {
		m.Data.Classes = nil
	}
	if nz := meta.Data.Normalization; nz != nil {
		m.Data.Normalization = &Normalization{
			Mean: append([]float64(nil), nz.Mean...),
			Std:  append([]float64(nil), nz.Std...),
		}
	}
	m.Extra = copyMap(meta.Extra)
	m.Provenance.Notes = copyMap(meta.Provenance.Notes)
	return m, spec, nil
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
// tensors are exactly the ones the network needs with the right shapes, and every
// value is finite. Encode calls it first, so a file that Encode writes decodes again.
func (f *File) Validate() error {
	_, _, err := f.check()
	return err
}

func (f *File) check() (sampler.Path, Spec, error) {
	path, spec, err := f.Meta.check()
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, len(f.Tensors))
	shapes := make([][]int, len(f.Tensors))
	seen := make(map[string]bool, len(f.Tensors))
	for i, t := range f.Tensors {
		if seen[t.Name] {
			return nil, nil, errf("tensor %q appears twice", t.Name)
		}
		seen[t.Name] = true
		names[i], shapes[i] = t.Name, t.Shape
	}
	if err := checkTensorSet(spec, names, shapes); err != nil {
		return nil, nil, err
	}
	for _, t := range f.Tensors {
		n := 1
		for _, d := range t.Shape {
			n *= d
		}
		if len(t.Data) != n {
			return nil, nil, errf("tensor %q: shape %v needs %d values, has %d", t.Name, t.Shape, n, len(t.Data))
		}
		for i, v := range t.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, nil, errf("tensor %q: value %d (%s) is %v", t.Name, i, index(t.Shape, i), v)
			}
		}
	}
	return path, spec, nil
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

// Params returns an MLP's weights and biases in the layout [sampler.NewMLP] takes.
// The slices are the file's own, not copies. A network of another kind has no Params.
func (f *File) Params() (weights, biases [][]float32, err error) {
	if a := f.Meta.arch(); a != ArchMLP {
		return nil, nil, errf("Params: the network is %q, not an MLP", a)
	}
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

// Field builds the velocity network, of whatever kind, and the probability path from
// the file alone. Each call builds a new network (a Field need not be safe for
// concurrent use). For an MLP, the Field is a *[sampler.MLP], as [File.Model] gives.
func (f *File) Field() (sampler.Field, sampler.Path, error) {
	path, spec, err := f.check()
	if err != nil {
		return nil, nil, err
	}
	data := make(map[string][]float32, len(f.Tensors))
	for _, t := range f.Tensors {
		data[t.Name] = t.Data
	}
	net, err := spec.Build(data)
	if err != nil {
		return nil, nil, errf("%v", err)
	}
	return net, path, nil
}

// Model builds an MLP and the probability path from the file alone. A network of
// another kind is an error: [File.Field] builds any kind.
func (f *File) Model() (*sampler.MLP, sampler.Path, error) {
	if a := f.Meta.arch(); a != ArchMLP {
		return nil, nil, errf("Model: the network is %q, not an MLP (File.Field builds any kind)", a)
	}
	net, path, err := f.Field()
	if err != nil {
		return nil, nil, err
	}
	mlp, ok := net.(*sampler.MLP)
	if !ok {
		return nil, nil, errf("Model: the network is a %T, not an MLP", net)
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
	net, path, err := f.Field()
	if err != nil {
		return nil, sampler.Stats{}, err
	}
	d := net.Dim()
	if n < 1 || n > maxSampleValues/d {
		return nil, sampler.Stats{}, fmt.Errorf("weights: Sample: n = %d, want 1 to %d for dim %d", n, maxSampleValues/d, d)
	}
	x := make([]float32, n*d)
	s0 := path.SourceStd()
	for i := range x {
		x[i] = float32(s0 * rng.NormFloat64())
	}
	opt.T0, opt.T1 = f.Meta.Path.TMin, f.Meta.Path.TMax
	st, err := sampler.Solve(net, x, opt)
	if err != nil {
		return nil, st, err
	}
	f.Meta.Data.ToData(x)
	return x, st, nil
}

// maxSampleValues bounds n×Dim in Sample (512 MiB of float32).
const maxSampleValues = 1 << 27
