package cli

import (
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/eval"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// gaussJVP is sampler.GaussianTarget with Jacobian-vector products, for Hutchinson's
// estimator: the field is affine in x with a diagonal Jacobian, so the products are the
// slopes times the tangent (and Hutchinson's estimate, εᵀ diag(s) ε = Σ s, is exact).
type gaussJVP struct{ sampler.GaussianTarget }

func (g gaussJVP) VelocityJVP(dst, jv, x, v []float32, t float64) {
	g.Velocity(dst, x, t)
	d := g.Dim()
	zero, one := make([]float32, d), make([]float32, d)
	v0, v1 := make([]float32, d), make([]float32, d)
	for j := range one {
		one[j] = 1
	}
	g.Velocity(v0, zero, t)
	g.Velocity(v1, one, t)
	for i := range jv {
		jv[i] = (v1[i%d] - v0[i%d]) * v[i]
	}
}

// flowLogDensity is the exact log density, in the data's units, of what the flow of a
// Gaussian target's marginal field makes of the source N(0, s0² I) from t = 0 to t: per
// coordinate the flow is the affine map that carries the marginal N(μ_0, Σ_0) at 0 to
// N(μ_t, Σ_t) at t (μ = A·m, Σ = A²·v + B²·s0²), so the source lands on
// N(μ_t − √(Σ_t/Σ_0)·μ_0, (Σ_t/Σ_0)·s0²); the normalization then maps it to the data's
// units. On OT the marginal at 0 is the source itself and this is the target's law at t.
func flowLogDensity(g sampler.GaussianTarget, nz *weights.Normalization, x []float32, t float64) float64 {
	c0, ct := g.Path.Coeffs(0), g.Path.Coeffs(t)
	s0 := g.Path.SourceStd()
	lp := 0.0
	for j, m := range g.Mean {
		v := g.Var[j]
		sig0 := c0.A*c0.A*v + c0.B*c0.B*s0*s0
		sigt := ct.A*ct.A*v + ct.B*ct.B*s0*s0
		mean := ct.A*m - math.Sqrt(sigt/sig0)*c0.A*m
		variance := sigt / sig0 * s0 * s0
		// In the data's units: mean and std scale by the normalization.
		mean = nz.Mean[j] + nz.Std[j]*mean
		variance *= nz.Std[j] * nz.Std[j]
		dx := float64(x[j]) - mean
		lp += -0.5*math.Log(2*math.Pi*variance) - 0.5*dx*dx/variance
	}
	return lp
}

// gaussDataLogDensity is the target's own law at t, N(A·m, A²·v + B²·s0²) per
// coordinate, in the data's units.
func gaussDataLogDensity(g sampler.GaussianTarget, nz *weights.Normalization, x []float32, t float64) float64 {
	d := g.Dim()
	xn := make([]float64, d)
	logdet := 0.0
	for j := range xn {
		xn[j] = (float64(x[j]) - nz.Mean[j]) / nz.Std[j]
		logdet += math.Log(nz.Std[j])
	}
	return g.LogDensity(xn, t) - logdet
}

// TestLoglikGaussian: with the exact marginal field of a Gaussian target behind a
// normalization, the log-likelihood is the exact log density in the data's units of the
// flow's push-forward of the source, on every path, for both solvers and both
// divergences. On OT that is the target itself; on VP and VE the path's marginal at t = 0
// is not exactly the source, and the flow's law differs from the target by that.
func TestLoglikGaussian(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, pathName := range []string{sampler.PathOT, sampler.PathVP, sampler.PathVE} {
		path, err := sampler.NewPath(sampler.PathSpec{Name: pathName})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range []int{2, 5} {
			g := sampler.GaussianTarget{Path: path, Mean: make([]float64, d), Var: make([]float64, d)}
			nz := &weights.Normalization{Mean: make([]float64, d), Std: make([]float64, d)}
			for j := 0; j < d; j++ {
				g.Mean[j], g.Var[j] = rng.NormFloat64(), 0.2+rng.Float64()
				nz.Mean[j], nz.Std[j] = 3*rng.NormFloat64(), 0.1+2*rng.Float64()
			}
			m := densityModel{Field: gaussJVP{g}, Path: path, Data: weights.DataInfo{Dim: d, Normalization: nz}, TMin: 0, TMax: path.TMax()}
			// Points around the data, some far out: data-space draws of the target.
			const n = 40
			x := make([]float32, n*d)
			for i := range x {
				j := i % d
				x[i] = float32(nz.Mean[j] + nz.Std[j]*(g.Mean[j]+2*math.Sqrt(g.Var[j])*rng.NormFloat64()))
			}
			// VE's field is stiff near t = 1 (σ_min = 0.01): loglik's default, RK4 at 80
			// NFE, is 6e-3 to 1e-2 nats off there, so VE gets 400.
			rk4 := sampler.Options{Method: sampler.RK4, Steps: 20}
			if pathName == sampler.PathVE {
				rk4.Steps = 100
			}
			rk4Name := fmt.Sprintf("rk4 %d NFE", 4*rk4.Steps)
			for _, c := range []struct {
				name       string
				opt        sampler.Options
				hutchinson bool
			}{
				{rk4Name + ", exact", rk4, false},
				{"dopri5 1e-6, exact", sampler.Options{Method: sampler.Dopri5, RTol: 1e-6, ATol: 1e-6}, false},
				{rk4Name + ", hutchinson", rk4, true},
			} {
				before := append([]float32(nil), x...)
				ll, st, err := m.logLikelihood(x, c.opt, c.hutchinson, 1)
				if err != nil {
					t.Fatal(err)
				}
				worst, target := 0.0, 0.0
				for i := range ll {
					xi := x[i*d : (i+1)*d]
					worst = math.Max(worst, math.Abs(ll[i]-flowLogDensity(g, nz, xi, path.TMax())))
					target = math.Max(target, math.Abs(ll[i]-gaussDataLogDensity(g, nz, xi, path.TMax())))
				}
				t.Logf("%s d=%d %s: max |loglik − exact| = %.3g nats (%.3g from the target's own law), NFE %d", pathName, d, c.name, worst, target, st.NFE)
				if pathName == sampler.PathOT && math.Abs(target-worst) > 1e-9 {
					t.Errorf("OT: the flow's law and the target's differ (%v, %v)", worst, target)
				}
				if worst > 1e-3 {
					t.Errorf("%s d=%d %s: log-likelihood %.3g nats from the exact Gaussian log density, want within 1e-3", pathName, d, c.name, worst)
				}
				for i := range x {
					if x[i] != before[i] {
						t.Fatalf("logLikelihood changed its input")
					}
				}
			}
		}
	}
}

func TestLoglikDivergenceChoice(t *testing.T) {
	path, _ := sampler.NewPath(sampler.PathSpec{Name: sampler.PathOT})
	mlp := func(d int) sampler.Field {
		spec := sampler.MLPSpec{Dim: d, Hidden: []int{4}}
		var ws, bs [][]float32
		for _, sh := range spec.LayerShapes() {
			ws, bs = append(ws, make([]float32, sh[0]*sh[1])), append(bs, make([]float32, sh[0]))
		}
		f, err := weights.NewFile(weights.Meta{Model: spec, Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: "ot"}}}, ws, bs)
		if err != nil {
			t.Fatal(err)
		}
		field, _, err := f.Field()
		if err != nil {
			t.Fatal(err)
		}
		return field
	}
	gauss := sampler.GaussianTarget{Path: path, Mean: make([]float64, 20), Var: make([]float64, 20)}
	plain := sampler.FieldFunc{D: 2, F: func(dst, x []float32, t float64) {}}
	for _, c := range []struct {
		field         sampler.Field
		choice, want  string
		wantErrSubstr string
	}{
		{mlp(2), divAuto, divExact, ""},
		{mlp(exactDivMaxDim), divAuto, divExact, ""},
		{mlp(exactDivMaxDim + 1), divAuto, divHutchinson, ""},
		{mlp(exactDivMaxDim + 1), divExact, divExact, ""},
		{mlp(2), divHutchinson, divHutchinson, ""},
		{gauss, divAuto, divExact, ""}, // exact only: exact whatever the dimension
		{gauss, divHutchinson, "", "no Jacobian-vector products"},
		{plain, divAuto, "", "neither an exact divergence nor"},
		{plain, divExact, "", "no exact divergence"},
	} {
		got, err := densityModel{Field: c.field, Path: path}.divergence(c.choice)
		if c.wantErrSubstr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErrSubstr) {
				t.Errorf("%T dim %d, %s: error %v, want %q", c.field, c.field.Dim(), c.choice, err, c.wantErrSubstr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%T dim %d, %s: %q, %v; want %q", c.field, c.field.Dim(), c.choice, got, err, c.want)
		}
	}
}

// readLoglik checks loglik's output shape and returns its values.
func readLoglik(t *testing.T, s string, n int) []float64 {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v", err)
	}
	if len(recs) != n+1 || len(recs[0]) != 1 || recs[0][0] != "loglik" {
		t.Fatalf("output has %d records, header %v; want header loglik and %d rows", len(recs), recs[0], n)
	}
	var ll []float64
	for _, r := range recs[1:] {
		v, err := strconv.ParseFloat(r[0], 64)
		if err != nil || len(r) != 1 {
			t.Fatalf("row %v: %v", r, err)
		}
		ll = append(ll, v)
	}
	return ll
}

// TestLoglikCommand: the command gives what its core gives for the model file, in the
// data's units: its mean is minus eval's NLL for the same solve.
func TestLoglikCommand(t *testing.T) {
	dir := t.TempDir()
	model := testModel(t, dir)
	f, err := weights.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	pts := []float32{0.5, 0.25, 1, -1, -2.5, 0.75, 3, 0.5}
	in := filepath.Join(dir, "pts.csv")
	var b strings.Builder
	writeCSV(&b, pts, 2)
	os.WriteFile(in, []byte(b.String()), 0o644)
	out := filepath.Join(dir, "ll.csv")
	code, stdout, stderr := fmRun("loglik", "-model", model, "-in", in, "-o", out)
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q: %s", code, stdout, stderr)
	}
	if !strings.HasPrefix(stderr, "flowmatch loglik: 4 points of moons") || !strings.Contains(stderr, "exact divergence, rk4, 20 steps, NFE 80") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr %q does not report the run (default rk4, 80 NFE) in one line", stderr)
	}
	raw, _ := os.ReadFile(out)
	ll := readLoglik(t, string(raw), 4)

	field, path, _ := f.Field()
	m := densityModel{Field: field, Path: path, Data: f.Meta.Data, TMin: f.Meta.Path.TMin, TMax: f.Meta.Path.TMax}
	want, _, err := m.logLikelihood(pts, sampler.Options{Method: sampler.RK4, Steps: 20}, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	mean := 0.0
	for i := range want {
		if ll[i] != want[i] {
			t.Errorf("point %d: command %v, core %v", i, ll[i], want[i])
		}
		mean += ll[i] / 4
	}
	nll, _, err := eval.NLL(f, pts, 20)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(mean+nll) > 1e-9 {
		t.Errorf("mean log-likelihood %v, eval.NLL %v: want opposite", mean, nll)
	}

	// Hutchinson by request: an estimate near the exact values, and stdin in, stdout out.
	code, stdout, stderr = fmRunIn(b.String(), "loglik", "-model", model, "-in", "-", "-div", "hutchinson", "-seed", "4")
	if code != 0 || !strings.Contains(stderr, "Hutchinson divergence (seed 4)") {
		t.Fatalf("-div hutchinson: exit %d: %s", code, stderr)
	}
	for i, v := range readLoglik(t, stdout, 4) {
		if math.Abs(v-want[i]) > 0.5 {
			t.Errorf("point %d: Hutchinson %v, exact %v", i, v, want[i])
		}
	}
}
