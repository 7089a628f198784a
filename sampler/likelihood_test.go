package sampler

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLikelihoodGaussian: on the analytic Gaussian case, the continuity equation gives
// the true log density of the data.
func TestLikelihoodGaussian(t *testing.T) {
	p, _ := NewPath(PathSpec{Name: PathOT})
	g := GaussianTarget{Path: p, Mean: []float64{1.5, -0.7}, Var: []float64{0.3, 2.0}}
	x := []float32{1.5, -0.7, 0, 0, 2.5, 1.8, -1, -3}
	for _, o := range []Options{{Method: RK4, Steps: 40}, {Method: Dopri5, RTol: 1e-6, ATol: 1e-6}} {
		ll, st, err := LogLikelihood(g, p, x, LikelihoodOptions{Solver: o})
		if err != nil {
			t.Fatal(err)
		}
		for i := range ll {
			want := g.LogDensity([]float64{float64(x[2*i]), float64(x[2*i+1])}, 1)
			near(t, o.Method+" log p_1", ll[i], want, 2e-4)
		}
		t.Logf("%s: NFE %d", o.Method, st.NFE)
	}
}

// TestLikelihoodHutchinson: Hutchinson's estimate is unbiased, so its mean difference
// from the exact divergence over many points and draws is zero within sampling error.
func TestLikelihoodHutchinson(t *testing.T) {
	spec := MLPSpec{Dim: 5, Hidden: []int{32, 32}}
	m, _, _ := randomMLP(t, spec, 5)
	p, _ := NewPath(PathSpec{Name: PathOT})
	rng := rand.New(rand.NewPCG(1, 2))
	n := 400
	x := make([]float32, n*spec.Dim)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	opt := LikelihoodOptions{Solver: Options{Method: RK4, Steps: 10}}
	exact, _, err := LogLikelihood(m, p, x, opt)
	if err != nil {
		t.Fatal(err)
	}
	var diffs []float64
	for seed := uint64(0); seed < 4; seed++ {
		opt.Hutchinson, opt.Seed = true, seed
		est, _, err := LogLikelihood(m, p, x, opt)
		if err != nil {
			t.Fatal(err)
		}
		for i := range est {
			diffs = append(diffs, est[i]-exact[i])
		}
	}
	mean, sq := 0.0, 0.0
	for _, d := range diffs {
		mean += d
	}
	mean /= float64(len(diffs))
	for _, d := range diffs {
		sq += (d - mean) * (d - mean)
	}
	se := math.Sqrt(sq/float64(len(diffs)-1)) / math.Sqrt(float64(len(diffs)))
	if se == 0 || math.Abs(mean) > 5*se {
		t.Errorf("Hutchinson minus exact: mean %.4g, standard error %.4g", mean, se)
	}
	t.Logf("Hutchinson minus exact: mean %.4g ± %.4g (sd %.3g)", mean, se, se*math.Sqrt(float64(len(diffs))))
}

func TestLikelihoodErrors(t *testing.T) {
	p, _ := NewPath(PathSpec{Name: PathOT})
	plain := FieldFunc{D: 2, F: func(dst, x []float32, t float64) {}}
	if _, _, err := LogLikelihood(plain, p, make([]float32, 4), LikelihoodOptions{}); err == nil {
		t.Error("field without divergence: no error")
	}
	g := GaussianTarget{Path: p, Mean: []float64{0, 0}, Var: []float64{1, 1}}
	if _, _, err := LogLikelihood(g, p, make([]float32, 4), LikelihoodOptions{Hutchinson: true}); err == nil {
		t.Error("Hutchinson without JVP: no error")
	}
	if _, _, err := LogLikelihood(g, p, make([]float32, 3), LikelihoodOptions{}); err == nil {
		t.Error("ragged batch: no error")
	}
}
