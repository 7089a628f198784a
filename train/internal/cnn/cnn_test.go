package cnn

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/flowmatch/flowmatch/classifier"
	"github.com/flowmatch/flowmatch/weights"
	"github.com/sugarme/gotch/ts"
)

// TestPureGoMatchesLibtorch: package classifier's forward pass (im2col on the sampler's
// kernels) gives libtorch's logits and penultimate features on the same weights within
// 1e-4 relative, for the shipped shape, with weights from a short training run so the
// BatchNorm folding is exercised too.
func TestPureGoMatchesLibtorch(t *testing.T) {
	runtime.LockOSThread() // libtorch's grad mode is per OS thread (ts.NoGrad below)
	defer runtime.UnlockOSThread()
	spec := weights.DefaultClassifier()
	m, err := NewModel(spec, 3)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 5))
	n, d := 70, spec.Dim()
	x := make([]float32, n*d)
	for i := range x {
		x[i] = rng.Float32()
	}
	// A few training-mode passes move the BatchNorm running statistics off their
	// initial values, so Export has something to fold.
	ts.NoGrad(func() {
		for range 3 {
			in := ts.MustOfSlice(x).MustView([]int64{int64(n), 1, int64(spec.Side), int64(spec.Side)}, true)
			m.Forward(in, true).MustDrop()
			in.MustDrop()
		}
	})
	tensors := m.Export()
	wantLogits, wantFeat, err := PlainForward(spec, tensors, x)
	if err != nil {
		t.Fatal(err)
	}
	// The model in eval mode gives the same logits as the folded plain network.
	var evalLogits []float32
	ts.NoGrad(func() {
		in := ts.MustOfSlice(x).MustView([]int64{int64(n), 1, int64(spec.Side), int64(spec.Side)}, true)
		out := m.Forward(in, false)
		evalLogits = out.Vals().([]float32)
		out.MustDrop()
	})
	within(t, "folded BatchNorm vs eval mode", evalLogits, wantLogits, 1e-4)

	net, err := classifier.New(spec, tensors)
	if err != nil {
		t.Fatal(err)
	}
	feat, _ := net.FeaturesAndPredict(x)
	within(t, "logits", net.Logits(x), wantLogits, 1e-4)
	within(t, "features", feat, wantFeat, 1e-4)
}

// within fails unless max |got − want| ≤ tol · max |want|.
func within(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	var e, s float64
	for i := range want {
		e = math.Max(e, math.Abs(float64(got[i]-want[i])))
		s = math.Max(s, math.Abs(float64(want[i])))
	}
	if e > tol*s {
		t.Fatalf("%s: max error %g against max |value| %g (relative %g, want ≤ %g)", what, e, s, e/s, tol)
	}
	t.Logf("%s: relative error %.2g", what, e/s)
}
