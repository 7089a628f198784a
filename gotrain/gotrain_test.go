package gotrain

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/recipe"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// refLoss is the CFM loss of the MLP with flat parameters p (recipe.Flatten's layout)
// on input rows x and targets u, and its gradient, in float64 with the exact SiLU: an
// independent implementation of forward and backward, by the chain rule written out
// per element.
func refLoss(shapes [][2]int, p []float64, x, u []float32, batch int) (float64, []float64) {
	grad := make([]float64, len(p))
	loss := 0.0
	L := len(shapes)
	for r := 0; r < batch; r++ {
		in0 := shapes[0][1]
		acts := [][]float64{make([]float64, in0)}
		for i := range acts[0] {
			acts[0][i] = float64(x[r*in0+i])
		}
		var pres [][]float64
		off := 0
		offs := []int{}
		for l, sh := range shapes {
			out, in := sh[0], sh[1]
			offs = append(offs, off)
			z := make([]float64, out)
			a := make([]float64, out)
			for o := 0; o < out; o++ {
				s := p[off+out*in+o]
				for i := 0; i < in; i++ {
					s += p[off+o*in+i] * acts[l][i]
				}
				z[o] = s
				a[o] = s
				if l < L-1 {
					a[o] = s / (1 + math.Exp(-s))
				}
			}
			off += out*in + out
			pres = append(pres, z)
			acts = append(acts, a)
		}
		d := shapes[L-1][0]
		n := float64(batch * d)
		g := make([]float64, d)
		for j := 0; j < d; j++ {
			e := acts[L][j] - float64(u[r*d+j])
			loss += e * e / n
			g[j] = 2 * e / n
		}
		for l := L - 1; l >= 0; l-- {
			out, in := shapes[l][0], shapes[l][1]
			gin := make([]float64, in)
			for o := 0; o < out; o++ {
				grad[offs[l]+out*in+o] += g[o]
				for i := 0; i < in; i++ {
					grad[offs[l]+o*in+i] += g[o] * acts[l][i]
					gin[i] += g[o] * p[offs[l]+o*in+i]
				}
			}
			if l > 0 {
				for i := range gin {
					z := pres[l-1][i]
					sg := 1 / (1 + math.Exp(-z))
					gin[i] *= sg + z*sg*(1-sg)
				}
			}
			g = gin
		}
	}
	return loss, grad
}

func to64(s []float32) []float64 {
	r := make([]float64, len(s))
	for i, v := range s {
		r[i] = float64(v)
	}
	return r
}

// TestReferenceGradient checks refLoss's gradient by central differences, so that the
// tests below compare against a right answer.
func TestReferenceGradient(t *testing.T) {
	shapes := sampler.MLPSpec{Dim: 2, Hidden: []int{5, 4}}.LayerShapes()
	p := to64(recipe.InitParams(shapes, 3))
	rng := rand.New(rand.NewPCG(1, 1))
	x, u := randSlice(rng, 7*3), randSlice(rng, 7*2)
	_, g := refLoss(shapes, p, x, u, 7)
	const h = 1e-6
	for i := range p {
		q := slices.Clone(p)
		q[i] += h
		lp, _ := refLoss(shapes, q, x, u, 7)
		q[i] -= 2 * h
		lm, _ := refLoss(shapes, q, x, u, 7)
		fd := (lp - lm) / (2 * h)
		if math.Abs(fd-g[i]) > 1e-7+1e-5*math.Abs(g[i]) {
			t.Errorf("parameter %d: gradient %.9g, central difference %.9g", i, g[i], fd)
		}
	}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// TestGradient compares the trainer's loss and gradient (float32, on the kernels) with
// the float64 reference, for widths on and off the kernels' tiles and batches of one
// block and of several.
func TestGradient(t *testing.T) {
	for _, c := range []struct {
		hidden []int
		batch  int
		time   sampler.TimeEmbedding
	}{
		{[]int{8}, 5, sampler.TimeEmbedding{}},
		{[]int{13, 7}, 97, sampler.TimeEmbedding{Kind: sampler.TimeFourier, Freqs: 2}},
		{[]int{64, 64, 64}, 256, sampler.TimeEmbedding{}},
		{[]int{30, 30}, 500, sampler.TimeEmbedding{}},
	} {
		tr, err := New(Config{Data: recipe.Data{Dataset: "moons", Batch: c.batch, Time: c.time}, Hidden: c.hidden, Seed: 7, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		// Perturb the biases off PyTorch's small init so SiLU' varies.
		rng := rand.New(rand.NewPCG(2, 2))
		for i := range tr.P {
			tr.P[i] += float32(0.3 * rng.NormFloat64())
		}
		if err := tr.batch.Next(tr.x, tr.u); err != nil {
			t.Fatal(err)
		}
		loss := tr.lossAndGrad(tr.x, tr.u)
		want, wg := refLoss(tr.shapes, to64(tr.P), tr.x, tr.u, c.batch)
		if math.Abs(loss-want) > 1e-5*want {
			t.Errorf("%v: loss %.8g, want %.8g", c.hidden, loss, want)
		}
		gn := 0.0
		for _, v := range wg {
			gn = math.Max(gn, math.Abs(v))
		}
		for i, v := range wg {
			if d := math.Abs(float64(tr.G[i]) - v); d > 1e-5*gn+1e-4*math.Abs(v) {
				t.Fatalf("%v batch %d: gradient[%d] = %.8g, want %.8g (largest %.3g)", c.hidden, c.batch, i, tr.G[i], v, gn)
			}
		}
	}
}

// TestStepAllocs checks that forward and backward allocate nothing, and a whole step
// on own points only the batch draw's one slice (recipe.Batcher's, a new one a batch).
func TestStepAllocs(t *testing.T) {
	for _, c := range []string{weights.CouplingIndependent, weights.CouplingOT} {
		pts := make([]float32, 2000)
		for i := range pts {
			pts[i] = float32(i%37) / 37
		}
		tr, err := New(Config{Data: recipe.Data{Points: pts, PointsDim: 2, Batch: 256, Coupling: c},
			Hidden: []int{64, 64}, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(5, func() { tr.lossAndGrad(tr.x, tr.u) }); n > 0 {
			t.Errorf("%s: forward and backward allocate %v times a step", c, n)
		}
		if n := testing.AllocsPerRun(5, func() { tr.Step() }); n > 1 {
			t.Errorf("%s: a step allocates %v times", c, n)
		}
	}
}

// TestNonFinite checks that a step on a non-finite gradient fails and changes nothing.
func TestNonFinite(t *testing.T) {
	tr, err := New(Config{Data: recipe.Data{Dataset: "moons", Batch: 32}, Hidden: []int{8}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Step(); err != nil {
		t.Fatal(err)
	}
	tr.P[3] = float32(math.Inf(1))
	p, e, m := slices.Clone(tr.P), slices.Clone(tr.E), slices.Clone(tr.M)
	if _, err := tr.Step(); !errors.Is(err, errNotFinite) {
		t.Fatalf("step with an infinite weight: %v", err)
	}
	if !slices.Equal(p, tr.P) || !slices.Equal(e, tr.E) || !slices.Equal(m, tr.M) || tr.Steps() != 1 {
		t.Error("a failed step changed the trainer")
	}
}

// TestConfigErrors checks that bad settings are refused with an error.
func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{Data: recipe.Data{Dataset: "nope"}},
		{Data: recipe.Data{Dataset: "moons"}, Activation: sampler.ActTanh},
		{Data: recipe.Data{Dataset: "moons"}, LR: -1},
		{Data: recipe.Data{Dataset: "moons"}, Hidden: []int{0}},
		{Data: recipe.Data{Dataset: "moons"}, EMA: 1},
		{Data: recipe.Data{Dataset: "moons", Coupling: "x"}},
		{Data: recipe.Data{Points: []float32{1, 2, 3}, PointsDim: 2}},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

// TestLearns trains a small network on moons for a few hundred steps (independent
// pairs, the browser's default, whose loss has a high floor: the conditional variance
// of u_t) and checks that its samples' W2 to fresh data falls well below the untrained
// network's (500 points: 1.03 untrained, 0.32 after 400 steps, against an i.i.d.
// floor of 0.14; the shipped OT-CFM model, 12,000 steps of a larger network, scores
// 0.18), that the loss falls (2.94 to 2.07), and that the model file round-trips.
func TestLearns(t *testing.T) {
	const steps = 400
	tr, err := New(Config{Data: recipe.Data{Dataset: "moons", Batch: 256},
		Hidden: []int{64, 64}, Steps: steps, LR: 1e-2, Warmup: 20, EMA: 0.99, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	w2 := func() float64 {
		f, err := tr.File(Provenance{Command: "test"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := weights.Marshal(f, weights.F32)
		if err != nil {
			t.Fatal(err)
		}
		if f, err = weights.DecodeBytes(b); err != nil {
			t.Fatal(err)
		}
		const n = 500
		x, _, err := f.Sample(n, rand.New(rand.NewPCG(9, 9)), sampler.Options{Steps: 20})
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := dataset.Sample("moons", n, rand.New(rand.NewPCG(10, 10)))
		w, err := metrics.W2(x, ref, 2)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	before := w2()
	first := 0.0
	for i := 0; i < steps; i++ {
		loss, err := tr.Step()
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = loss
		}
	}
	after := w2()
	t.Logf("W2 %.3f untrained, %.3f after %d steps (loss %.3f)", before, after, steps, tr.Loss())
	if !(after < before/2) || !(tr.Loss() < 0.8*first) {
		t.Errorf("W2 %.3f and loss %.3f after %d steps, untrained %.3f and %.3f: not learning", after, tr.Loss(), steps, before, first)
	}
}

// TestPrefetch checks that prefetched batches are the stream's: the same losses and
// weights, bit for bit, as drawing them in the step, past the prefetched Steps too.
func TestPrefetch(t *testing.T) {
	run := func(prefetch bool) ([]float64, []float32) {
		tr, err := New(Config{Data: recipe.Data{Dataset: "moons", Batch: 64, Coupling: weights.CouplingOT, OTGroup: 32},
			Hidden: []int{16}, Steps: 5, Seed: 4, Prefetch: prefetch})
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		var losses []float64
		for i := 0; i < 8; i++ {
			l, err := tr.Step()
			if err != nil {
				t.Fatal(err)
			}
			losses = append(losses, l)
		}
		return losses, tr.Params()
	}
	l0, p0 := run(false)
	l1, p1 := run(true)
	if !slices.Equal(l0, l1) || !slices.Equal(p0, p1) {
		t.Errorf("prefetched losses %v, drawn in the step %v", l1, l0)
	}
}
