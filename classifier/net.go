package classifier

import (
	"errors"
	"fmt"
	"io"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// chunk is how many images one worker pushes through the network at a time: enough
// rows for the matrix products, activations of a few MB.
const chunk = 64

// Net is a classifier built from its tensors. Its methods may be called from one
// goroutine at a time (each call spreads its batch over Workers goroutines).
type Net struct {
	// Workers is how many goroutines share a batch (0 means GOMAXPROCS). Each image's
	// result is computed the same way whatever the split.
	Workers int

	spec    weights.ClassifierSpec
	classes []string
	w       map[string][]float32 // biases and fc2 as given
	w3      [][2][]float32       // per level, the convolutions' weights in im2col layout
	fc1     []float32            // fc1's weight with its columns in NHWC order
	kids    []*worker
}

// worker is one goroutine's scratch over the shared weights.
type worker struct {
	mm           sampler.MatMul
	a, b, p, col []float32 // two convolutions' outputs, the pooled one, im2col rows
	feat, logits []float32
}

// New builds the classifier spec describes from its tensors, by name
// (weights.ClassifierSpec.Tensors), each holding the product of its shape in values. It
// keeps the slices: the caller must not change them after.
func New(spec weights.ClassifierSpec, tensors map[string][]float32) (*Net, error) {
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("classifier: %w", err)
	}
	for _, t := range spec.Tensors() {
		n := 1
		for _, d := range t.Shape {
			n *= d
		}
		if v, ok := tensors[t.Name]; !ok || len(v) != n {
			return nil, fmt.Errorf("classifier: tensor %q: %d values, want %d for shape %v", t.Name, len(v), n, t.Shape)
		}
	}
	spec.Channels = append([]int(nil), spec.Channels...)
	m := &Net{spec: spec, w: tensors}
	ci := 1
	for l, co := range spec.Channels {
		var p [2][]float32
		for k := range 2 {
			p[k] = permute3(tensors[weights.ConvName(l, k)+".weight"], co, ci)
			ci = co
		}
		m.w3 = append(m.w3, p)
	}
	m.fc1 = flatToNHWC(tensors["fc1.weight"], spec.Hidden, ci, spec.FlatSide()*spec.FlatSide())
	return m, nil
}

// Load reads a classifier's file (arch "classifier").
func Load(path string) (*Net, error) {
	f, err := weights.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("classifier: %w", err)
	}
	m, err := FromFile(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Decode reads a classifier's file from r.
func Decode(r io.Reader) (*Net, error) {
	f, err := weights.Decode(r)
	if err != nil {
		return nil, fmt.Errorf("classifier: %w", err)
	}
	return FromFile(f)
}

// ErrNotClassifier is returned (wrapped) for a valid model file of another kind.
var ErrNotClassifier = errors.New("not a classifier")

// FromFile builds the classifier a decoded file holds, refusing a file of another arch
// or one whose input is not intensities in [0, 1] (data "pixels" [0, 1]).
func FromFile(f *weights.File) (*Net, error) {
	spec, ok := f.Meta.Net.(*weights.ClassifierSpec)
	if f.Meta.Arch != weights.ArchClassifier || !ok {
		return nil, fmt.Errorf("classifier: the file holds a %q network (%s): %w", f.Meta.Arch, f.Meta.Data.Name, ErrNotClassifier)
	}
	if p := f.Meta.Data.Pixels; len(p) != 2 || p[0] != 0 || p[1] != 1 {
		return nil, fmt.Errorf("classifier: data pixels %v, want [0 1] (the classifier reads intensities)", p)
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("classifier: %w", err)
	}
	t := make(map[string][]float32, len(f.Tensors))
	for _, x := range f.Tensors {
		t[x.Name] = x.Data
	}
	m, err := New(*spec, t)
	if err != nil {
		return nil, err
	}
	m.classes = append([]string(nil), f.Meta.Data.Classes...)
	return m, nil
}

// Spec returns the network's shape.
func (m *Net) Spec() weights.ClassifierSpec { return m.spec }

// Dim is the pixels per image, Side².
func (m *Net) Dim() int { return m.spec.Dim() }

// Classes names the classes, when the file did (nil for a Net made by New).
func (m *Net) Classes() []string { return m.classes }

// Logits returns the n × Classes logits of the n = len(x)/Dim images in x (intensities
// in [0, 1], row-major, image after image).
func (m *Net) Logits(x []float32) []float32 {
	_, logits := m.run(x, false, true)
	return logits
}

// Features returns the n × Hidden penultimate features, ReLU(fc1(·)), the input of the
// last layer: what the Fréchet distance compares.
func (m *Net) Features(x []float32) []float32 {
	feat, _ := m.run(x, true, false)
	return feat
}

// Predict returns each image's most likely class (the first of equal logits).
func (m *Net) Predict(x []float32) []int {
	_, logits := m.run(x, false, true)
	return argmax(logits, m.spec.Classes)
}

// FeaturesAndPredict returns both the features and the predicted classes in one pass.
func (m *Net) FeaturesAndPredict(x []float32) ([]float32, []int) {
	feat, logits := m.run(x, true, true)
	return feat, argmax(logits, m.spec.Classes)
}

func argmax(logits []float32, k int) []int {
	out := make([]int, len(logits)/k)
	for i := range out {
		row := logits[i*k : (i+1)*k]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		out[i] = best
	}
	return out
}

// Accuracy is the fraction of the images of x that m assigns their label.
func Accuracy(m *Net, x []float32, labels []int) float64 {
	pred := m.Predict(x)
	hit := 0
	for i, p := range pred {
		if p == labels[i] {
			hit++
		}
	}
	return float64(hit) / float64(max(1, len(pred)))
}
