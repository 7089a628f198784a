package eval

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/sampler"
)

// The NLL of Gaussian data under the exact Gaussian flow is the Gaussian's entropy
// plus sampling error: for N(m, diag(v)), E[−log p] = Σ ½ log(2πe v_j).
func TestMeanNLLGaussian(t *testing.T) {
	p, _ := sampler.NewPath(sampler.PathSpec{Name: sampler.PathOT})
	mean, vars := []float64{1, -2}, []float64{0.5, 1.5}
	g := sampler.GaussianTarget{Path: p, Mean: mean, Var: vars}
	rng := rand.New(rand.NewPCG(1, 1))
	n := 4000
	x := make([]float32, 2*n)
	want := 0.0 // the sample's exact mean NLL
	for i := 0; i < n; i++ {
		for j := 0; j < 2; j++ {
			v := mean[j] + math.Sqrt(vars[j])*rng.NormFloat64()
			x[2*i+j] = float32(v)
			want += (0.5*math.Log(2*math.Pi*vars[j]) + 0.5*(v-mean[j])*(v-mean[j])/vars[j]) / float64(n)
		}
	}
	got, nfe, err := MeanNLL(g, p, x, sampler.Options{Method: sampler.RK4, Steps: 20, T0: 1, T1: 0})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got-want) > 1e-3 || nfe != 80 {
		t.Errorf("mean NLL %.5f (NFE %d), want %.5f", got, nfe, want)
	}
	entropy := 0.5*math.Log(2*math.Pi*math.E*vars[0]) + 0.5*math.Log(2*math.Pi*math.E*vars[1])
	if math.Abs(got-entropy) > 0.05 {
		t.Errorf("mean NLL %.4f far from the entropy %.4f", got, entropy)
	}
}

// W2 between a point set and its translate by c is |c|, and MMD of a set with itself
// is 0: the metrics Evaluate reports, on the closed forms the issue names.
func TestMetricClosedForms(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	n := 300
	a, b := make([]float32, 2*n), make([]float32, 2*n)
	for i := 0; i < n; i++ {
		a[2*i], a[2*i+1] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		b[2*i], b[2*i+1] = a[2*i]+3, a[2*i+1]-4
	}
	w, err := metrics.W2(a, b, 2)
	if err != nil || math.Abs(w-5) > 1e-5 {
		t.Errorf("W2 of a translate by (3, −4): %v, %v; want 5", w, err)
	}
	m, err := metrics.MMD(a, a, 2, metrics.DefaultBandwidths())
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range m {
		if math.Abs(v) > 1e-9 {
			t.Errorf("MMD of identical sets at bandwidth %g: %g", metrics.DefaultBandwidths()[i], v)
		}
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{{N: 1}, {Solver: "leapfrog"}, {FloorReps: -1}, {IIDFloorReps: -2}} {
		if err := o.fill(); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	// Above MaxN exact W2 would allocate n²·8 bytes (80 GB at 100,000) and run for
	// hours: refused before any work.
	if err := (&Options{N: 100000}).fill(); !errors.Is(err, metrics.ErrTooLarge) || !strings.Contains(err.Error(), fmt.Sprint(MaxN)) {
		t.Errorf("n = 100000: %v", err)
	}
	if err := (&Options{N: MaxN}).fill(); err != nil {
		t.Errorf("n = MaxN: %v", err)
	}
	var o Options
	if err := o.fill(); err != nil || o.N != 2000 || o.Solver != sampler.Midpoint || o.NFE != 20 || o.FloorReps != 3 || o.IIDFloorReps != 3 {
		t.Errorf("defaults: %+v, %v", o, err)
	}
	o = Options{FloorReps: 5}
	if err := o.fill(); err != nil || o.IIDFloorReps != 5 {
		t.Errorf("the i.i.d. floor takes FloorReps by default: %+v, %v", o, err)
	}
}
