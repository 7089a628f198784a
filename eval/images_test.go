package eval

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/classifier"
	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/unet"
	"github.com/flowmatch/flowmatch/weights"
)

// randomUNet is a small U-Net for 1×8×8 images with unet.RandomTensors' values,
// enough to exercise the sampling loop.
func randomUNet(t *testing.T, seed uint64) *unet.Net {
	t.Helper()
	cfg := unet.Config{Shape: []int{1, 8, 8}, Channels: 8, Mult: []int{1, 2}, Blocks: 1,
		Groups: 4, TimeFeatures: 8, Emb: 16, Classes: 10}
	w := unet.RandomTensors(cfg, seed)
	net, err := unet.New(cfg, w)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// TestSampleImagesBatchIndependent: the images do not depend on how they are batched,
// image i is conditioned on its own class (the same seed with other labels differs),
// and progress reaches N.
func TestSampleImagesBatchIndependent(t *testing.T) {
	net := randomUNet(t, 3)
	o := ImageOptions{N: 13, Guidance: 1, NFE: 4, Seed: 5}
	var last int
	o.Progress = func(done, total int) { last = done }
	a, err := SampleImages(net, o)
	if err != nil {
		t.Fatal(err)
	}
	if last != 13 || len(a) != 13*64 {
		t.Fatalf("progress %d, %d values", last, len(a))
	}
	o.Batch, o.Progress = 4, nil
	b, err := SampleImages(net, o)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if d := math.Abs(float64(a[i] - b[i])); d > 1e-5 {
			t.Fatalf("value %d: %v in one batch, %v in batches of 4", i, a[i], b[i])
		}
	}
	o.Labels = []int{3}
	c, err := SampleImages(net, o)
	if err != nil {
		t.Fatal(err)
	}
	same := true
	for i := range 64 {
		same = same && c[i] == a[i]
	}
	if same {
		t.Fatal("image 0 is the same with class 0 and class 3")
	}
	for i := range 64 {
		if d := math.Abs(float64(c[3*64+i] - a[3*64+i])); d > 1e-5 {
			t.Fatalf("image 3 has class 3 both ways but differs at %d: %v, %v", i, c[3*64+i], a[3*64+i])
		}
	}
}

func TestSampleImagesBadOptions(t *testing.T) {
	net := randomUNet(t, 3)
	for _, tc := range []struct {
		o    ImageOptions
		want string
	}{
		{ImageOptions{N: -1}, "images"},
		{ImageOptions{Labels: []int{11}}, "class 11"},
		{ImageOptions{Guidance: -1}, "guidance"},
		{ImageOptions{Guidance: math.NaN()}, "guidance"},
		{ImageOptions{Solver: "dopri5"}, "fixed-step"},
		{ImageOptions{Solver: "nope"}, "nope"},
		{ImageOptions{NFE: 3}, "3"},
	} {
		_, err := SampleImages(net, tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: err %v, want one line naming %q", tc.o, err, tc.want)
		}
	}
}

// TestNewJudgeConstantFeatures: a classifier whose features are the same for every
// image (all weights 0) is refused in one line, not turned into distances of 0 and
// ratios of 0/0; a random one whose features vary is taken.
func TestNewJudgeConstantFeatures(t *testing.T) {
	spec := weights.ClassifierSpec{Side: 8, Channels: []int{3, 4}, Hidden: 5, Classes: 3}
	rng := rand.New(rand.NewPCG(1, 2))
	set := func(n int) *dataset.Images {
		im := &dataset.Images{N: n, H: 8, W: 8, X: make([]float32, n*64), Y: make([]uint8, n), Classes: []string{"a", "b", "c"}}
		for i := range im.X {
			im.X[i] = float32(rng.Float64()*2 - 1)
		}
		for i := range im.Y {
			im.Y[i] = uint8(i % 3)
		}
		return im
	}
	train, test := set(40), set(30)
	zero := classifier.RandomTensors(spec, 1)
	for _, v := range zero {
		clear(v)
	}
	net, err := classifier.New(spec, zero)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewJudge(net, train, test); err == nil || !strings.Contains(err.Error(), "do not vary") {
		t.Errorf("a classifier of zeros: %v, want an error saying its features do not vary", err)
	}
	net, err = classifier.New(spec, classifier.RandomTensors(spec, 1))
	if err != nil {
		t.Fatal(err)
	}
	j, err := NewJudge(net, train, test)
	if err != nil {
		t.Fatal(err)
	}
	if _, fd, err := j.Floor(20, 3); err != nil || !(fd > 0) {
		t.Errorf("a random classifier's floor: %g, %v", fd, err)
	}
}
