package recipe

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

func TestSchedule(t *testing.T) {
	c := Schedule{LR: 1, Warmup: 10, Steps: 100, MinLRFrac: 0.1}
	for _, tc := range []struct {
		step int
		want float64
	}{{0, 0.1}, {4, 0.5}, {9, 1}, {10, 1}, {99, 0.1}} {
		if got := c.At(tc.step); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("lr(%d) = %g, want %g", tc.step, got, tc.want)
		}
	}
	prev := math.Inf(1)
	for s := 10; s < 100; s++ {
		lr := c.At(s)
		if lr > prev || lr < 0.1-1e-12 {
			t.Fatalf("cosine not decreasing to 0.1 at step %d: %g after %g", s, lr, prev)
		}
		prev = lr
	}
	// Half-way through the cosine, the mean of the ends.
	if got := (Schedule{LR: 2, Steps: 101, MinLRFrac: 0.5}).At(50); math.Abs(got-1.5) > 1e-12 {
		t.Errorf("cosine midpoint %g, want 1.5", got)
	}
	// No room for a cosine: the peak.
	for _, c := range []Schedule{{LR: 3, Warmup: 5, Steps: 5}, {LR: 3, Warmup: 5, Steps: 6}, {LR: 3, Steps: 1}} {
		if got := c.At(c.Steps - 1); got != 3 {
			t.Errorf("%+v: last lr %g, want 3", c, got)
		}
	}
	// A resumed run with more steps continues from where its checkpoint is.
	long := Schedule{LR: 1, Warmup: 10, Steps: 200}
	if a, b := c.At(50), long.At(50); !(b > a) {
		t.Errorf("extending the run should slow the decay: lr(50) %g of 100 steps, %g of 200", a, b)
	}
}

func TestClipScale(t *testing.T) {
	for _, tc := range []struct{ norm, clip, want float64 }{
		{0.5, 1, 1}, {4, 1, 1 / (4 + 1e-6)}, {4, 0, 1}, {0, 1, 1}, {1e9, 2, 2 / (1e9 + 1e-6)},
	} {
		if got := ClipScale(tc.norm, tc.clip); got != tc.want {
			t.Errorf("ClipScale(%g, %g) = %g, want %g", tc.norm, tc.clip, got, tc.want)
		}
	}
	if got := GradNorm([]float32{3, 4, 0}); got != 5 {
		t.Errorf("GradNorm = %g, want 5", got)
	}
}

func TestEMADecay(t *testing.T) {
	if got := EMADecay(0.999, 0); got != 0.1 {
		t.Errorf("decay at step 0: %g, want 0.1", got)
	}
	if got := EMADecay(0.999, 90); got != 0.91 {
		t.Errorf("decay at step 90: %g, want 0.91", got)
	}
	if got := EMADecay(0.9, 1000); got != 0.9 {
		t.Errorf("decay at step 1000: %g, want the configured 0.9", got)
	}
}

// fma32 rounds x·y + z once: it equals the exact value rounded to float32 by math/big.
func TestFMA32(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	exact := func(x, y, z float32) float32 {
		p := new(big.Float).SetPrec(1000).Mul(big.NewFloat(float64(x)).SetPrec(1000), big.NewFloat(float64(y)))
		p.Add(p, big.NewFloat(float64(z)))
		f, _ := p.Float32()
		return f
	}
	r := func() float32 {
		return float32(rng.NormFloat64() * math.Pow(2, float64(rng.IntN(40)-20)))
	}
	cases := [][3]float32{{0.1, 0.3, -0.03}, {1, 1, -1}, {0, 5, 0}, {3, 0, -2}, {1e-20, 1e-20, 1}, {-0.9, 0.5, 0.45},
		// 32776² = 2³⁰ + 2¹⁹ + 2⁶ is halfway between two float32s; ±2⁻³⁰ decides the
		// rounding but vanishes from the float64 sum (the fast path's one trap).
		{32776, 32776, 0x1p-30}, {32776, 32776, -0x1p-30}, {-32776, 32776, 0x1p-30},
		// subnormal, zero and overflowing results
		{1e-20, 1e-20, 0}, {1e-20, 1e-20, 1e-39}, {1e-20, -1e-20, 1e-40}, {3e38, 2, 0}, {1e19, 1e19, -1e38}, {3e38, 2, -3e38},
		{float32(math.Inf(1)), 1, 1}, {float32(math.NaN()), 1, 1}}
	for i := 0; i < 50000; i++ {
		x, y := r(), r()
		z := r()
		if i%3 == 0 { // near cancellation
			z = -x*y + r()*1e-6
		}
		cases = append(cases, [3]float32{x, y, z})
	}
	for _, c := range cases {
		got, want := fma32(c[0], c[1], c[2]), float32(0)
		if c[0] != c[0] || math.IsInf(float64(c[0]), 0) { // big.Float has no NaN; the rule is IEEE's
			want = c[0]*c[1] + c[2]
		} else {
			want = exact(c[0], c[1], c[2])
		}
		if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			t.Fatalf("fma32(%v, %v, %v) = %v, exact %v", c[0], c[1], c[2], got, want)
		}
	}
}

func TestEMAUpdate(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	avg, p := make([]float32, 1000), make([]float32, 1000)
	for i := range avg {
		avg[i], p[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	for _, decay := range []float64{0.1, 0.5, 0.7, 0.999} {
		a := append([]float32(nil), avg...)
		EMAUpdate(a, p, decay)
		for i := range a {
			want := float64(avg[i]) + (1-decay)*(float64(p[i])-float64(avg[i]))
			if math.Abs(float64(a[i])-want) > 1e-6 {
				t.Fatalf("decay %g: avg[%d] = %v, want %v", decay, i, a[i], want)
			}
		}
	}
	a := append([]float32(nil), avg...)
	EMAUpdate(a, p, 0)
	for i := range a {
		if a[i] != p[i] {
			t.Fatalf("decay 0 must copy the weights: %v, want %v", a[i], p[i])
		}
	}
}

// One AdamW step equals PyTorch's formula computed in float64.
func TestAdamWMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	const n = 500
	vec := func(s float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(s * rng.NormFloat64())
		}
		return v
	}
	for _, opt := range []AdamW{{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}, {Beta1: 0.8, Beta2: 0.9, Eps: 1e-6}} {
		p, g, m := vec(1), vec(1), vec(0.1)
		v := vec(0.1)
		for i := range v {
			v[i] *= v[i]
		}
		p0, g0, m0, v0 := append([]float32(nil), p...), append([]float32(nil), g...), append([]float32(nil), m...), append([]float32(nil), v...)
		const step, lr, gscale = 3, 1e-2, 0.5
		opt.Update(p, g, m, v, step, lr, gscale)
		b1, b2, eps := opt.Beta1, opt.Beta2, opt.Eps
		for i := range p {
			if g[i] != g0[i] {
				t.Fatal("Update changed the gradient")
			}
			gi := float64(g0[i]) * gscale
			pi := float64(p0[i]) * (1 - lr*opt.WeightDecay)
			mi := b1*float64(m0[i]) + (1-b1)*gi
			vi := b2*float64(v0[i]) + (1-b2)*gi*gi
			bc1, bc2 := 1-math.Pow(b1, step), 1-math.Pow(b2, step)
			want := pi - lr/bc1*mi/(math.Sqrt(vi)/math.Sqrt(bc2)+eps)
			if math.Abs(float64(p[i])-want) > 1e-6*math.Max(1, math.Abs(want)) ||
				math.Abs(float64(m[i])-mi) > 1e-6 || math.Abs(float64(v[i])-vi) > 1e-6 {
				t.Fatalf("%+v: element %d after AdamW: p %v m %v v %v, reference %v %v %v", opt, i, p[i], m[i], v[i], want, mi, vi)
			}
		}
	}
}

func TestMSE(t *testing.T) {
	out, u := []float32{1, 2, 3, 4}, []float32{0, 2, 5, 4}
	grad := make([]float32, 4)
	if got := MSE(grad, out, u); got != 5.0/4 {
		t.Errorf("MSE = %g, want 1.25", got)
	}
	for i, want := range []float32{0.5, 0, -1, 0} {
		if grad[i] != want {
			t.Errorf("grad[%d] = %g, want %g", i, grad[i], want)
		}
	}
	if MSE(nil, out, u) != 1.25 || MSE(nil, nil, nil) != 0 {
		t.Error("MSE without a gradient, or of nothing")
	}
	if got := SmoothLoss(7, 3, 0); got != 3 {
		t.Errorf("SmoothLoss at step 0 = %g, want the loss", got)
	}
	if got := SmoothLoss(2, 3, 5); got != 0.99*2+0.01*3 {
		t.Errorf("SmoothLoss = %g", got)
	}
}

// The initialisation is PyTorch's nn.Linear default: U(±1/√fan_in) for weights and
// biases, not gotch's N(0, 1); and Flatten undoes Unflatten.
func TestInitParams(t *testing.T) {
	shapes := [][2]int{{256, 3}, {256, 256}, {2, 256}}
	p := InitParams(shapes, 1)
	if len(p) != NumParams(shapes) || NumParams(shapes) != 256*3+256+256*256+256+2*256+2 {
		t.Fatalf("%d parameters, NumParams %d", len(p), NumParams(shapes))
	}
	off := 0
	for _, sh := range shapes {
		bound := 1 / math.Sqrt(float64(sh[1]))
		k := sh[0]*sh[1] + sh[0]
		var sum2 float64
		for _, v := range p[off : off+k] {
			if math.Abs(float64(v)) > bound {
				t.Fatalf("layer %v: value %v beyond ±%v", sh, v, bound)
			}
			sum2 += float64(v) * float64(v)
		}
		// Var of U(−a, a) is a²/3.
		if got, want := sum2/float64(k), bound*bound/3; math.Abs(got-want) > 0.1*want {
			t.Fatalf("layer %v: variance %g, want %g", sh, got, want)
		}
		off += k
	}
	ws, bs := Unflatten(shapes, p)
	if len(ws[1]) != 256*256 || len(bs[2]) != 2 || bs[0][0] != p[256*3] {
		t.Fatalf("Unflatten: layout")
	}
	q := Flatten(ws, bs)
	for i := range p {
		if q[i] != p[i] {
			t.Fatalf("Flatten(Unflatten(p))[%d] = %v, want %v", i, q[i], p[i])
		}
	}
	if r := InitParams(shapes, 1); r[12345] != p[12345] {
		t.Fatal("same seed, other weights")
	}
	if r := InitParams(shapes, 2); r[0] == p[0] && r[1] == p[1] {
		t.Fatal("another seed, same weights")
	}
}
