package weights

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/sampler"
)

func smallClassifier() ClassifierSpec {
	return ClassifierSpec{Side: 4, Channels: []int{2, 3}, Hidden: 5, Classes: 3}
}

// classifierFile is a file of spec with N(0, 0.3²) values, reading intensities in [0, 1].
func classifierFile(t testing.TB, spec ClassifierSpec, seed uint64) *File {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 4))
	tensors := map[string][]float32{}
	for _, ts := range spec.Tensors() {
		n := 1
		for _, d := range ts.Shape {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(0.3 * rng.NormFloat64())
		}
		tensors[ts.Name] = v
	}
	f, err := NewFileTensors(Meta{Arch: ArchClassifier, Net: &spec,
		Path: PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}},
		Data: DataInfo{Name: "test", Shape: []int{1, spec.Side, spec.Side}, Classes: []string{"a", "b", "c"}, Pixels: []float64{0, 1}}}, tensors)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestClassifierFile: a classifier's file round-trips, counts its parameters and
// multiply-adds as its tensors and the closed form say, and is not a velocity field.
func TestClassifierFile(t *testing.T) {
	spec := DefaultClassifier()
	var n int64
	for _, ts := range spec.Tensors() {
		k := int64(1)
		for _, d := range ts.Shape {
			k *= int64(d)
		}
		n += k
	}
	// 28²·9·(1·32 + 32·32) + 14²·9·(32·64 + 64·64) + 3136·128 + 128·10
	wantMACs := int64(784*9*(32+1024) + 196*9*(2048+4096) + 3136*128 + 1280)
	if n != spec.Params() || spec.MACs() != wantMACs || spec.Validate() != nil {
		t.Fatalf("params %d (tensors %d), MACs %d (want %d), validate %v", spec.Params(), n, spec.MACs(), wantMACs, spec.Validate())
	}
	f := classifierFile(t, smallClassifier(), 1)
	b, err := Marshal(f, F16)
	if err != nil {
		t.Fatal(err)
	}
	g, err := DecodeBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if g.Meta.Arch != ArchClassifier || g.Meta.Version() != 4 || g.Meta.Net.String() != f.Meta.Net.String() {
		t.Fatalf("decoded arch %q, version %d, %s", g.Meta.Arch, g.Meta.Version(), g.Meta.Net)
	}
	if _, _, err := g.Field(); err == nil || !strings.Contains(err.Error(), ErrNotField.Error()) {
		t.Fatalf("Field of a classifier: %v", err)
	}
	if _, err := (&ClassifierSpec{}).Build(nil); !errors.Is(err, ErrNotField) {
		t.Fatalf("Build: %v", err)
	}
}

func TestClassifierSpecLimits(t *testing.T) {
	for _, tc := range []struct {
		edit func(*ClassifierSpec)
		want string
	}{
		{func(c *ClassifierSpec) { c.Side = 6 }, "does not halve evenly"},
		{func(c *ClassifierSpec) { c.Side = 0 }, "side 0"},
		{func(c *ClassifierSpec) { c.Channels = nil }, "0 levels"},
		{func(c *ClassifierSpec) { c.Channels = []int{2, 1 << 20} }, "level 1"},
		{func(c *ClassifierSpec) { c.Hidden = -1 }, "hidden width -1"},
		{func(c *ClassifierSpec) { c.Classes = 1 }, "1 classes"},
		{func(c *ClassifierSpec) { c.Side, c.Channels, c.Hidden = 256, []int{512}, 1 }, "multiply-adds"},
		{func(c *ClassifierSpec) { c.Side, c.Channels, c.Hidden = 256, []int{512, 512}, 4096 }, "parameters"},
	} {
		c := smallClassifier()
		tc.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error naming %q", c, err, tc.want)
		}
	}
}
