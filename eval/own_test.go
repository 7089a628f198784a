package eval

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// ownZeroModel is a zero-velocity model of a user's data in d dimensions with the
// normalization (mean, std): its samples are mean + std·z, z ~ N(0, I), and its density
// in data units is that Gaussian's. It records own as its source, holding out rows by seed.
func ownZeroModel(t *testing.T, own *dataset.Own, mean, std []float64, seed uint64) *weights.File {
	t.Helper()
	spec := sampler.MLPSpec{Dim: own.Dim, Hidden: []int{4}}
	var ws, bs [][]float32
	for _, sh := range spec.LayerShapes() {
		ws = append(ws, make([]float32, sh[0]*sh[1]))
		bs = append(bs, make([]float32, sh[0]))
	}
	f, err := weights.NewFile(weights.Meta{Model: spec, Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: "ot"}},
		Data: weights.DataInfo{Name: own.File, Normalization: &weights.Normalization{Mean: mean, Std: std},
			Source: weights.Source{File: own.File, Rows: own.Rows, SHA256: own.SHA256,
				Holdout: weights.Holdout{Rule: dataset.HoldoutRule, Seed: seed, Rows: dataset.HoldoutCount(own.Rows)}}}}, ws, bs)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func randomOwn(rows, d int) *dataset.Own {
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, rows*d)
	for i := range x {
		x[i] = float32(3 + 2*rng.NormFloat64())
	}
	return &dataset.Own{File: "p.csv", Rows: rows, Dim: d, Points: x, SHA256: strings.Repeat("ab", 32)}
}

// TestEvaluateOwn checks the figures on a user's data against direct computations: W2
// of the zero model's samples against the held-out rows the rule picks, the floors
// against training rows, and the NLL as the Gaussian's in data units.
func TestEvaluateOwn(t *testing.T) {
	own := randomOwn(300, 2)
	mean, std := []float64{3, 2.5}, []float64{2, 0.5}
	f := ownZeroModel(t, own, mean, std, 7)
	opt := Options{N: 20, Seed: 4, NFE: 4, FloorReps: 2, IIDFloorReps: 2, NLLSteps: 2, Own: own}
	var stages []string
	opt.Progress = func(done, total int, next string) { stages = append(stages, next) }
	res, err := Evaluate(f, opt)
	if err != nil {
		t.Fatal(err)
	}
	// The held-out rows, by the rule, and the 20 of them the comparison picks.
	mask := dataset.Holdout(300, 7)
	var held, train []float32
	for i, h := range mask {
		if h {
			held = append(held, own.Points[2*i:2*i+2]...)
		} else {
			train = append(train, own.Points[2*i:2*i+2]...)
		}
	}
	stream := func(k uint64) *rand.Rand { return rand.New(rand.NewPCG(4, k)) }
	held = pickRows(held, 2, 20, false, stream(2))
	gen := make([]float32, 40)
	r1 := stream(1)
	for i := range gen {
		gen[i] = float32(mean[i%2] + std[i%2]*float64(float32(r1.NormFloat64())))
	}
	w2, _ := metrics.W2(gen, held, 2)
	nll := 0.0
	for i := 0; i < 20; i++ {
		for j := 0; j < 2; j++ {
			z := (float64(held[2*i+j]) - mean[j]) / std[j]
			nll += (0.5*z*z + 0.5*math.Log(2*math.Pi) + math.Log(std[j])) / 20
		}
	}
	if math.Abs(res.W2-w2) > 1e-5 || math.Abs(res.NLL-nll) > 1e-4 {
		t.Errorf("W2 %.6f, NLL %.6f; want %.6f, %.6f", res.W2, res.NLL, w2, nll)
	}
	fl := stream(3)
	var floor float64
	for r := 0; r < 2; r++ {
		v, _ := metrics.W2(pickRows(train, 2, 20, false, fl), held, 2)
		floor += v / 2
	}
	if math.Abs(res.W2Floor-floor) > 1e-9 || res.HeldOut != 30 || res.N != 20 || res.Dataset != "p.csv" || res.W2Skipped {
		t.Errorf("floor %g (want %g), held out %d (30), n %d (20), dataset %q, skipped %v", res.W2Floor, floor, res.HeldOut, res.N, res.Dataset, res.W2Skipped)
	}
	if res.W2IIDFloor <= 0 || math.Abs(res.W2IIDRatio-res.W2/res.W2IIDFloor) > 1e-12 {
		t.Errorf("i.i.d. floor %g, ratio %g", res.W2IIDFloor, res.W2IIDRatio)
	}
	if want := ownStages(opt, 2) + 1; len(stages) != want || stages[len(stages)-1] != "" {
		t.Errorf("progress stages %q, want %d ending in \"\"", stages, want)
	}
	// All the held-out rows when N asks for more.
	opt = Options{Seed: 4, NFE: 4, FloorReps: 1, NLLSteps: -1, Own: own}
	if res, err := Evaluate(f, opt); err != nil || res.N != 30 || !math.IsNaN(res.NLL) {
		t.Errorf("default N: n %v, NLL %v, err %v; want 30, NaN", res.N, res.NLL, err)
	}
}

// TestEvaluateOwnHighDim: above MaxW2Dim, W2 and its floors are skipped (NaN), MMD and
// NLL measured.
func TestEvaluateOwnHighDim(t *testing.T) {
	d := MaxW2Dim + 1
	own := randomOwn(100, d)
	mean, std := make([]float64, d), make([]float64, d)
	for j := range mean {
		mean[j], std[j] = 3, 2
	}
	res, err := Evaluate(ownZeroModel(t, own, mean, std, 1), Options{Seed: 1, NFE: 2, NLLSteps: 1, Own: own})
	if err != nil {
		t.Fatal(err)
	}
	if !res.W2Skipped || !math.IsNaN(res.W2) || !math.IsNaN(res.W2IIDFloor) || len(res.MMD) == 0 || math.IsNaN(res.NLL) || res.N != 10 {
		t.Errorf("d %d: %+v", d, res)
	}
}

// TestEvaluateOwnWrongData: other data than the model's, or none, is a DataError that
// says what is wrong.
func TestEvaluateOwnWrongData(t *testing.T) {
	own := randomOwn(300, 2)
	f := ownZeroModel(t, own, []float64{0, 0}, []float64{1, 1}, 7)
	other := *own
	other.SHA256 = strings.Repeat("cd", 32)
	fewer := *own
	fewer.Rows, fewer.Points, fewer.SHA256 = 200, own.Points[:400], ""
	ruled := ownZeroModel(t, own, []float64{0, 0}, []float64{1, 1}, 7)
	ruled.Meta.Data.Source.Holdout.Rule = "dataset.Holdout/v9"
	none := ownZeroModel(t, own, []float64{0, 0}, []float64{1, 1}, 7)
	none.Meta.Data.Source.Holdout = weights.Holdout{}
	for _, c := range []struct {
		f    *weights.File
		own  *dataset.Own
		want string
	}{
		{f, nil, "the model was trained on the file p.csv (300 rows): give that file"},
		{f, &other, "p.csv is not the data the model was trained on: its SHA-256 is cdcdcdcdcdcd…, the model's file p.csv had abababababab…"},
		{ruled, own, `held-out rows follow the rule "dataset.Holdout/v9", which this version does not know`},
		{none, own, "held out no rows of p.csv"},
		{zeroModel(t, "moons"), own, `the model was trained on the dataset "moons", not on a file of points`},
	} {
		_, err := Evaluate(c.f, Options{N: 10, NFE: 2, Own: c.own})
		var de *DataError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want a DataError containing %q", err, c.want)
		}
	}
	fewerModel := ownZeroModel(t, own, []float64{0, 0}, []float64{1, 1}, 7)
	fewerModel.Meta.Data.Source.SHA256 = ""
	if _, err := Evaluate(fewerModel, Options{N: 10, NFE: 2, Own: &fewer}); err == nil || !strings.Contains(err.Error(), "holds 200 rows of 2, but the model was trained on 300 rows of 2") {
		t.Errorf("fewer rows: %v", err)
	}
}
