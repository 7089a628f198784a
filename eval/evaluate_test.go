package eval

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// zeroModel is a network whose velocity is 0 everywhere: its samples are the source
// N(0, I) itself, and its density is the standard normal's, so Evaluate's figures
// can be checked against direct computations.
func zeroModel(t *testing.T, name string) *weights.File {
	t.Helper()
	spec := sampler.MLPSpec{Dim: 2, Hidden: []int{8}}
	var ws, bs [][]float32
	for _, sh := range spec.LayerShapes() {
		ws = append(ws, make([]float32, sh[0]*sh[1]))
		bs = append(bs, make([]float32, sh[0]))
	}
	f, err := weights.NewFile(weights.Meta{Model: spec, Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: "ot"}},
		Data: weights.DataInfo{Name: name}}, ws, bs)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestEvaluateZeroField(t *testing.T) {
	f := zeroModel(t, "8gaussians")
	opt := Options{N: 300, Seed: 9, NFE: 4, FloorReps: 2, NLLSteps: 2}
	res, err := Evaluate(f, opt)
	if err != nil {
		t.Fatal(err)
	}
	stream := func(k uint64) *rand.Rand { return rand.New(rand.NewPCG(9, k)) }
	noise := make([]float32, 600)
	r1 := stream(1)
	for i := range noise {
		noise[i] = float32(r1.NormFloat64())
	}
	data, _ := dataset.Sample("8gaussians", 300, stream(2))
	w2, _ := metrics.W2(noise, data, 2)
	fresh, _ := dataset.Sample("8gaussians", 300, stream(4))
	nll := 0.0
	for i := 0; i < 300; i++ {
		x, y := float64(fresh[2*i]), float64(fresh[2*i+1])
		nll += (0.5*(x*x+y*y) + math.Log(2*math.Pi)) / 300
	}
	if math.Abs(res.W2-w2) > 1e-6 || math.Abs(res.NLL-nll) > 1e-4 {
		t.Errorf("W2 %.6f, NLL %.6f; want %.6f, %.6f", res.W2, res.NLL, w2, nll)
	}
	if res.NFE != 4 || res.NLLNFE != 8 || res.Path != "ot" || res.Dataset != "8gaussians" || len(res.MMD) != len(res.Bandwidths) {
		t.Errorf("result %+v", res)
	}
	if res.W2Floor <= 0 || math.Abs(res.W2Ratio-res.W2/res.W2Floor) > 1e-12 || res.W2Ratio < 2 {
		t.Errorf("floor %.4f, ratio %.3f: noise should be far from 8gaussians", res.W2Floor, res.W2Ratio)
	}
	// The floors come from their own streams: 3 for the data floor (as before the i.i.d.
	// floor existed, so earlier figures reproduce), 5 and 6 for the i.i.d. floor.
	r3 := stream(3)
	floor, floorStd, _ := metrics.W2Floor(func(n int) ([]float32, error) { return dataset.Sample("8gaussians", n, r3) }, 2, 300, 2)
	r5 := stream(5)
	iid, iidStd, _ := metrics.W2IIDFloor(func(n int) ([]float32, error) { return dataset.Sample("8gaussians", n, r5) }, 2, 300, 2, stream(6))
	if res.W2Floor != floor || res.W2FloorStd != floorStd || res.W2IIDFloor != iid || res.W2IIDFloorStd != iidStd {
		t.Errorf("floors %.6f ± %.6f, i.i.d. %.6f ± %.6f; want %.6f ± %.6f, %.6f ± %.6f",
			res.W2Floor, res.W2FloorStd, res.W2IIDFloor, res.W2IIDFloorStd, floor, floorStd, iid, iidStd)
	}
	if res.W2IIDFloor <= 0 || math.Abs(res.W2IIDRatio-res.W2/res.W2IIDFloor) > 1e-12 {
		t.Errorf("i.i.d. floor %.4f, ratio %.3f", res.W2IIDFloor, res.W2IIDRatio)
	}
	if _, err := Evaluate(zeroModel(t, ""), opt); err == nil {
		t.Error("a model without a dataset: no error")
	}
	if _, err := Evaluate(f, Options{NFE: 3}); err == nil {
		t.Error("midpoint with an odd NFE: no error")
	}
}

// TestEvaluateIIDFloorMoons: moons draws exactly n/2 points per moon, so two data draws
// balance and the data-vs-data floor sits well below what i.i.d. points score (about
// 1.5× at n = 300, 1.6× at 2,000); the i.i.d. floor is the one a perfect model meets.
func TestEvaluateIIDFloorMoons(t *testing.T) {
	res, err := Evaluate(zeroModel(t, "moons"), Options{N: 300, Seed: 3, NFE: 2, FloorReps: 2, IIDFloorReps: 5, NLLSteps: -1})
	if err != nil {
		t.Fatal(err)
	}
	if res.W2IIDFloor < 1.25*res.W2Floor || res.W2IIDFloor > 2.5*res.W2Floor {
		t.Errorf("i.i.d. floor %.4f ± %.4f, data floor %.4f ± %.4f: want 1.25–2.5× apart",
			res.W2IIDFloor, res.W2IIDFloorStd, res.W2Floor, res.W2FloorStd)
	}
	if res.W2IIDFloorStd <= 0 || res.W2IIDRatio >= res.W2Ratio || !math.IsNaN(res.NLL) || res.NLLNFE != 0 {
		t.Errorf("result %+v", res)
	}
}

// TestEvaluateProgress: the callback walks from 0 to Stages() one stage at a time,
// naming each stage before it runs.
func TestEvaluateProgress(t *testing.T) {
	opt := Options{N: 100, Seed: 1, NFE: 2, FloorReps: 2, IIDFloorReps: 2, NLLSteps: 2}
	var names []string
	last, total := -1, opt.Stages()
	opt.Progress = func(done, tot int, next string) {
		if tot != total || done != last+1 {
			t.Errorf("progress %d/%d after %d/%d", done, tot, last, total)
		}
		last = done
		names = append(names, next)
	}
	if _, err := Evaluate(zeroModel(t, "moons"), opt); err != nil {
		t.Fatal(err)
	}
	want := []string{"sampling", "model W2", "data floor 1/2", "data floor 2/2", "i.i.d. floor 1/2", "i.i.d. floor 2/2", "MMD", "NLL", ""}
	if last != total || !slices.Equal(names, want) {
		t.Errorf("stages %q ending at %d/%d; want %q ending at %d", names, last, total, want, len(want)-1)
	}
	opt.NLLSteps = -1
	if opt.Stages() != total-1 {
		t.Errorf("without the likelihood: %d stages, want %d", opt.Stages(), total-1)
	}
}

// blowUpModel is a network whose velocity overflows float32: its first layer maps any
// point far out and its last multiplies that by 1e30, so the first Euler step lands on
// ±Inf and the next gives NaN.
func blowUpModel(t *testing.T, name string) *weights.File {
	t.Helper()
	spec := sampler.MLPSpec{Dim: 2, Hidden: []int{8}}
	var ws, bs [][]float32
	for _, sh := range spec.LayerShapes() {
		w := make([]float32, sh[0]*sh[1])
		for i := range w {
			w[i] = 1e30
		}
		ws, bs = append(ws, w), append(bs, make([]float32, sh[0]))
	}
	f, err := weights.NewFile(weights.Meta{Model: spec, Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: "ot"}},
		Data: weights.DataInfo{Name: name}}, ws, bs)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestEvaluateDiverged: a solve that leaves the samples non-finite is reported as that,
// naming the point, the coordinate and the setting, not as a NaN input to W2.
func TestEvaluateDiverged(t *testing.T) {
	_, err := Evaluate(blowUpModel(t, "moons"), Options{N: 50, Solver: sampler.Euler, NFE: 4, NLLSteps: -1})
	var de *DivergedError
	if !errors.As(err, &de) || de.Solver != sampler.Euler || de.NFE != 4 || !strings.Contains(err.Error(), "the solve diverged") ||
		!strings.Contains(err.Error(), "try more steps or another solver") {
		t.Fatalf("error %v, want a DivergedError", err)
	}
	if v := float64(de.Value); !math.IsNaN(v) && !math.IsInf(v, 0) {
		t.Errorf("reported value %v is finite", de.Value)
	}
}
