package weights

import (
	"math/rand/v2"
	"testing"

	"github.com/flowmatch/flowmatch/sampler"
)

// randomParams draws weights and biases for spec, scaled like a trained network's.
func randomParams(rng *rand.Rand, spec sampler.MLPSpec) (weights, biases [][]float32) {
	for _, sh := range spec.LayerShapes() {
		out, in := sh[0], sh[1]
		w := make([]float32, out*in)
		for i := range w {
			w[i] = float32(rng.NormFloat64() / float64(in))
		}
		b := make([]float32, out)
		for i := range b {
			b[i] = float32(0.1 * rng.NormFloat64())
		}
		weights, biases = append(weights, w), append(biases, b)
	}
	return weights, biases
}

// randomFile makes a valid File with random parameters.
func randomFile(t testing.TB, seed uint64, meta Meta) *File {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	w, b := randomParams(rng, meta.Model)
	f, err := NewFile(meta, w, b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// testMetas are metadata exercising every optional part of the format. The last has a
// data shape and classes, so it is written as version 2.
func testMetas() []Meta {
	return []Meta{
		{
			Model: sampler.MLPSpec{Dim: 2, Hidden: []int{16, 16}},
			Path:  PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}},
			Data:  DataInfo{Name: "moons"},
		},
		{
			Model: sampler.MLPSpec{Dim: 3, Hidden: []int{8}, Activation: sampler.ActTanh,
				Time: sampler.TimeEmbedding{Kind: sampler.TimeFourier, Freqs: 4}},
			Path: PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathVP, BetaMin: 0.2, BetaMax: 10, Eps: 1e-4}, TMin: 0.01},
			Data: DataInfo{Name: "blobs", Normalization: &Normalization{Mean: []float64{1, -2, 0.5}, Std: []float64{2, 0.5, 1}}},
			Provenance: Provenance{Command: `flowmatch train -data "blobs"`, Steps: 20000, FinalLoss: 1.25, Seed: 1<<63 + 5,
				Batch: 1024, LR: 2e-3, EMA: 0.999, Coupling: "ot", Optimizer: "adamw", Device: "cuda",
				Seconds: 61.5, LibTorch: "1.13.1", Gotch: "v0.9.1", Go: "go1.26", Date: "2026-11-29T12:00:00Z",
				Notes: map[string]string{"warmup": "500"}},
			Extra: map[string]string{"license": "MIT", "<odd key>": "\"quoted\"\n & <b>"},
		},
		{
			Model: sampler.MLPSpec{Dim: 1, Hidden: []int{4, 5, 6}, Activation: sampler.ActReLU},
			Path:  PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathVE, SigmaMax: 5}},
		},
		{
			Arch:  ArchMLP,
			Model: sampler.MLPSpec{Dim: 4, Hidden: []int{6}, Time: sampler.TimeEmbedding{Kind: sampler.TimeFourier, Freqs: 1}},
			Path:  PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT, SigmaMin: 0.01}},
			Data: DataInfo{Name: "tiles", Shape: []int{1, 2, 2}, Classes: []string{"zero", "one", "two"},
				Normalization: &Normalization{Mean: []float64{0.5, 0.5, 0.5, 0.5}, Std: []float64{0.25, 0.25, 0.25, 0.25}}},
		},
	}
}

// goldenFile is the small model behind testdata/golden-*.safetensors.
func goldenFile(t testing.TB) *File {
	t.Helper()
	meta := Meta{
		Model: sampler.MLPSpec{Dim: 2, Hidden: []int{3}},
		Path:  PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}},
		Data:  DataInfo{Name: "golden"},
		Provenance: Provenance{
			Command: "go test ./weights -run TestGolden -update",
			Seed:    1,
			Date:    "2026-11-29T00:00:00Z",
		},
	}
	w := [][]float32{
		{0.5, -0.25, 0.125, 1, -1, 0.75, -0.5, 0.375, 2},
		{0.1, -0.2, 0.3, 1e-3, 65504, -3e-6}, // 0.1, 0.2, 0.3, 1e-3 round in float16; -3e-6 is subnormal there
	}
	b := [][]float32{{0, -0.5, 0.25}, {1.5, -1.0 / 3}}
	f, err := NewFile(meta, w, b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// goldenV2File is goldenFile with a data shape and class names, which make it a
// version 2 file (testdata/golden-v2-f32.safetensors).
func goldenV2File(t testing.TB) *File {
	t.Helper()
	f := goldenFile(t)
	meta := f.Meta
	meta.Data.Shape = []int{1, 2}
	meta.Data.Classes = []string{"inner", "outer"}
	w, b, err := f.Params()
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewFile(meta, w, b)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// otherSpec is a Spec of a kind this package does not have, for the errors that a
// Meta mixing kinds gets.
type otherSpec struct{ arch string }

func (o otherSpec) Arch() string          { return o.arch }
func (o otherSpec) Dim() int              { return 2 }
func (o otherSpec) Validate() error       { return nil }
func (o otherSpec) Tensors() []TensorSpec { return []TensorSpec{{"w", []int{2}}} }
func (o otherSpec) String() string        { return "other" }
func (o otherSpec) Build(map[string][]float32) (sampler.Field, error) {
	return sampler.FieldFunc{D: 2, F: func(dst, x []float32, t float64) { copy(dst, x) }}, nil
}
