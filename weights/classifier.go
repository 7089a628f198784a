package weights

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/flowmatch/flowmatch/sampler"
)

// ArchClassifier is the "arch" of an image classifier (package classifier), the judge
// that `flowmatch eval` scores image models with: a file of this kind holds no velocity
// field, so Build refuses it. Its "path" metadata is required like any file's and means
// nothing; its data's pixels say the input scale ([0, 1] for intensities).
const ArchClassifier = "classifier"

// ClassifierSpec is the "classifier" kind's spec (its JSON form is the "model"
// metadata): a small convolutional network for one-channel Side×Side images. Each level
// l is two 3×3 convolutions (padding 1) to Channels[l] channels, each followed by ReLU,
// then a 2×2 max pool; the last level's output, flattened channel-major (PyTorch's
// flatten of NCHW), feeds a Linear layer to Hidden features, ReLU (the penultimate
// features), then a Linear layer to Classes logits.
type ClassifierSpec struct {
	Side     int   `json:"side"`
	Channels []int `json:"channels"`
	Hidden   int   `json:"hidden"`
	Classes  int   `json:"classes"`
}

// DefaultClassifier is the shipped Fashion-MNIST classifier's shape: 28×28, levels of
// 32 and 64 channels, 128 features, 10 classes (468 k parameters, 18.8 M multiply-adds
// per image).
func DefaultClassifier() ClassifierSpec {
	return ClassifierSpec{Side: 28, Channels: []int{32, 64}, Hidden: 128, Classes: 10}
}

// Limits on a ClassifierSpec, so that a hostile file cannot ask for an absurd network.
const (
	maxClassifierSide     = 256
	maxClassifierLevels   = 4
	maxClassifierChannels = 512
	maxClassifierHidden   = 4096
	maxClassifierClasses  = 1000
	maxClassifierParams   = 50 << 20
	maxClassifierMACs     = 10e9
)

func (c *ClassifierSpec) Arch() string { return ArchClassifier }

// Dim is the pixels per image, Side².
func (c *ClassifierSpec) Dim() int { return c.Side * c.Side }

func (c *ClassifierSpec) String() string {
	return fmt.Sprintf("classifier %d×%d conv %v → %d → %d classes", c.Side, c.Side, c.Channels, c.Hidden, c.Classes)
}

// Validate checks the limits and that every level halves the side evenly.
func (c *ClassifierSpec) Validate() error {
	if c.Side < 1 || c.Side > maxClassifierSide {
		return fmt.Errorf("classifier side %d, want 1 to %d", c.Side, maxClassifierSide)
	}
	if len(c.Channels) < 1 || len(c.Channels) > maxClassifierLevels {
		return fmt.Errorf("classifier has %d levels, want 1 to %d", len(c.Channels), maxClassifierLevels)
	}
	for l, ch := range c.Channels {
		if ch < 1 || ch > maxClassifierChannels {
			return fmt.Errorf("classifier level %d: %d channels, want 1 to %d", l, ch, maxClassifierChannels)
		}
	}
	if c.Side%(1<<len(c.Channels)) != 0 {
		return fmt.Errorf("classifier side %d does not halve evenly %d times", c.Side, len(c.Channels))
	}
	if c.Hidden < 1 || c.Hidden > maxClassifierHidden {
		return fmt.Errorf("classifier hidden width %d, want 1 to %d", c.Hidden, maxClassifierHidden)
	}
	if c.Classes < 2 || c.Classes > maxClassifierClasses {
		return fmt.Errorf("classifier has %d classes, want 2 to %d", c.Classes, maxClassifierClasses)
	}
	if p := c.Params(); p > maxClassifierParams {
		return fmt.Errorf("classifier has %d parameters, want at most %d", p, maxClassifierParams)
	}
	if m := c.MACs(); m > maxClassifierMACs {
		return fmt.Errorf("classifier needs %d multiply-adds per image, want at most %g", m, maxClassifierMACs)
	}
	return nil
}

// ConvName is the name of level l's convolution k (0 or 1) without ".weight" or
// ".bias": "l0.c1".
func ConvName(l, k int) string { return "l" + strconv.Itoa(l) + ".c" + strconv.Itoa(k) }

// FlatSide is the side of the last level's output, Side / 2^levels.
func (c *ClassifierSpec) FlatSide() int { return c.Side >> len(c.Channels) }

// Tensors are, per level l and convolution k, ConvName(l, k)+".weight" [co, ci, 3, 3]
// and ".bias" [co] (PyTorch's Conv2d layout), then fc1.weight [Hidden, flat], fc1.bias,
// fc2.weight [Classes, Hidden], fc2.bias. Only for a valid spec (like Params and MACs,
// it reads Channels as they are).
func (c *ClassifierSpec) Tensors() []TensorSpec {
	var ts []TensorSpec
	ci := 1
	for l, co := range c.Channels {
		for k := range 2 {
			ts = append(ts, TensorSpec{ConvName(l, k) + ".weight", []int{co, ci, 3, 3}}, TensorSpec{ConvName(l, k) + ".bias", []int{co}})
			ci = co
		}
	}
	fs := c.FlatSide()
	return append(ts, TensorSpec{"fc1.weight", []int{c.Hidden, ci * fs * fs}}, TensorSpec{"fc1.bias", []int{c.Hidden}},
		TensorSpec{"fc2.weight", []int{c.Classes, c.Hidden}}, TensorSpec{"fc2.bias", []int{c.Classes}})
}

// Params is the number of values in all the tensors, computed without allocating.
func (c *ClassifierSpec) Params() int64 {
	var n int64
	ci := int64(1)
	for _, co := range c.Channels {
		co := int64(co)
		n += co*ci*9 + co + co*co*9 + co
		ci = co
	}
	fs := int64(c.FlatSide())
	h := int64(c.Hidden)
	return n + h*ci*fs*fs + h + int64(c.Classes)*h + int64(c.Classes)
}

// MACs is the number of multiply-adds of one image's forward pass (convolutions and
// Linear layers).
func (c *ClassifierSpec) MACs() int64 {
	var n int64
	ci, side := int64(1), int64(c.Side)
	for _, co := range c.Channels {
		co := int64(co)
		n += side * side * 9 * (ci*co + co*co)
		ci, side = co, side/2
	}
	h := int64(c.Hidden)
	return n + h*ci*side*side + int64(c.Classes)*h
}

// ErrNotField is returned (wrapped) by Build for a network that is not a velocity field.
var ErrNotField = errors.New("not a velocity field")

// Build refuses: a classifier is not a velocity field. Package classifier builds it.
func (c *ClassifierSpec) Build(map[string][]float32) (sampler.Field, error) {
	return nil, fmt.Errorf("arch %q is an image classifier, %w: sample or evaluate an image model (arch %q)",
		ArchClassifier, ErrNotField, ArchUNet)
}

func (c *ClassifierSpec) MarshalJSON() ([]byte, error) {
	type plain ClassifierSpec
	return json.Marshal((*plain)(c))
}

// UnmarshalJSON decodes strictly: an unknown field is an error.
func (c *ClassifierSpec) UnmarshalJSON(b []byte) error {
	type plain ClassifierSpec
	return strictJSON(string(b), (*plain)(c))
}
