package unet

import (
	"fmt"
	"strconv"
)

// Config is a U-Net's shape: the "model" metadata of a weights file whose arch is
// "unet", in its JSON form. Every field is required (a file writes them all out);
// [Default] is the reference network of pytorch_fmnist.py.
type Config struct {
	// Shape is one sample's [channels, height, width]; x holds channels·height·width
	// values per sample, channel-major (PyTorch's NCHW without the N).
	Shape []int `json:"shape"`
	// Channels is the base width C: level i has C·Mult[i] channels.
	Channels int `json:"channels"`
	// Mult holds one channel multiplier per level; level i works at 1/2^i the input's
	// height and width, so 28×28 with three levels works at 28, 14 and 7.
	Mult []int `json:"mult"`
	// Blocks is the number of residual blocks per level, on the way down and up.
	Blocks int `json:"blocks"`
	// Groups is GroupNorm's group count: min(Groups, channels) groups for a tensor.
	Groups int `json:"groups"`
	// TimeFeatures is the number of sinusoidal time features (even).
	TimeFeatures int `json:"time_features"`
	// Emb is the width of the time-and-class embedding.
	Emb int `json:"emb"`
	// Classes is the number of classes; the class embedding has one more row, the
	// null class Classes, for classifier-free guidance.
	Classes int `json:"classes"`
}

// Default returns pytorch_fmnist.py's U-Net at its default width: Fashion-MNIST's
// 1×28×28, C = 16, levels of 16, 32, 32 channels, one block per level, GroupNorm(8),
// 16 time features, a 64-wide embedding, 10 classes.
func Default() Config {
	return Config{Shape: []int{1, 28, 28}, Channels: 16, Mult: []int{1, 2, 2}, Blocks: 1,
		Groups: 8, TimeFeatures: 16, Emb: 64, Classes: 10}
}

// Limits on a Config, so that a hostile file cannot ask for an absurd network.
const (
	maxSide     = 256      // height and width
	maxInChans  = 4        // image channels
	maxChannels = 256      // C
	maxMult     = 8        // each level's multiplier
	maxLevels   = 4        // len(Mult)
	maxBlocks   = 4        // blocks per level
	maxGroups   = 64       // GroupNorm groups
	maxFeatures = 1024     // time features
	maxEmb      = 4096     // embedding width
	maxClasses  = 1000     // classes
	maxParams   = 50 << 20 // all tensors' values together (200 MiB as float32)
	maxMACs     = 10e9     // multiply-adds per sample: activations stay bounded too
)

// Dim is the number of values per sample, channels·height·width.
func (c Config) Dim() int {
	if len(c.Shape) != 3 {
		return 0
	}
	return c.Shape[0] * c.Shape[1] * c.Shape[2]
}

// Null is the null class's label, Classes: the label of an unconditional evaluation.
func (c Config) Null() int { return c.Classes }

// CheckLabel reports whether label is a class 0 … Classes−1 or the null class Classes,
// as [Net.Forward] and [Guided] need; the error is one line naming the range.
func (c Config) CheckLabel(label int) error {
	if label < 0 || label > c.Classes {
		return fmt.Errorf("unet: class %d, want 0 to %d (or %d, the null class, for unconditional)", label, c.Classes-1, c.Classes)
	}
	return nil
}

// Validate reports whether c describes a network within the limits above whose
// GroupNorms divide their channels and whose levels halve the input evenly.
func (c Config) Validate() error {
	if len(c.Shape) != 3 {
		return fmt.Errorf("unet: shape %v, want [channels, height, width]", c.Shape)
	}
	checks := []struct {
		name   string
		v, max int
	}{
		{"shape channels", c.Shape[0], maxInChans}, {"height", c.Shape[1], maxSide}, {"width", c.Shape[2], maxSide},
		{"channels", c.Channels, maxChannels}, {"levels", len(c.Mult), maxLevels}, {"blocks", c.Blocks, maxBlocks},
		{"groups", c.Groups, maxGroups}, {"time_features", c.TimeFeatures, maxFeatures}, {"emb", c.Emb, maxEmb},
		{"classes", c.Classes, maxClasses},
	}
	for i, m := range c.Mult {
		checks = append(checks, struct {
			name   string
			v, max int
		}{"mult[" + strconv.Itoa(i) + "]", m, maxMult})
	}
	for _, k := range checks {
		if k.v < 1 || k.v > k.max {
			return fmt.Errorf("unet: %s %d, want 1 to %d", k.name, k.v, k.max)
		}
	}
	if c.TimeFeatures%2 != 0 {
		return fmt.Errorf("unet: time_features %d, want an even number (sines and cosines)", c.TimeFeatures)
	}
	if f := 1 << (len(c.Mult) - 1); c.Shape[1]%f != 0 || c.Shape[2]%f != 0 {
		return fmt.Errorf("unet: %d levels halve the size %d times, but %d×%d is not divisible by %d",
			len(c.Mult), len(c.Mult)-1, c.Shape[1], c.Shape[2], f)
	}
	for _, b := range c.blocks() {
		for _, ch := range []int{b.ci, b.co} {
			if g := c.groups(ch); ch%g != 0 {
				return fmt.Errorf("unet: block %s: GroupNorm of %d groups over %d channels", b.name, g, ch)
			}
		}
	}
	if p := c.Params(); p > maxParams {
		return fmt.Errorf("unet: %d parameters, more than the limit %d", p, maxParams)
	}
	if m := c.MACs(); m > maxMACs {
		return fmt.Errorf("unet: %d multiply-adds per sample, more than the limit %d", m, int64(maxMACs))
	}
	return nil
}

// groups is the GroupNorm group count over ch channels.
func (c Config) groups(ch int) int { return min(c.Groups, ch) }

// String describes the network in a few words: "unet 1×28×28 C16 ×[1 2 2] b1 g8 e64 10+1 classes".
func (c Config) String() string {
	s := fmt.Sprintf("unet C%d ×%v b%d g%d t%d e%d %d+1 classes", c.Channels, c.Mult, c.Blocks, c.Groups, c.TimeFeatures, c.Emb, c.Classes)
	if len(c.Shape) == 3 {
		s = fmt.Sprintf("unet %d×%d×%d", c.Shape[0], c.Shape[1], c.Shape[2]) + s[4:]
	}
	return s
}
