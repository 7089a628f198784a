package sampler

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randomMLP returns a network with PyTorch-style uniform(±1/√fan_in) parameters, and
// those parameters, for checking against an independent implementation.
func randomMLP(t testing.TB, spec MLPSpec, seed uint64) (*MLP, [][]float32, [][]float32) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var ws, bs [][]float32
	for _, sh := range spec.LayerShapes() {
		bound := 1 / math.Sqrt(float64(sh[1]))
		w := make([]float32, sh[0]*sh[1])
		b := make([]float32, sh[0])
		for i := range w {
			w[i] = float32((2*rng.Float64() - 1) * bound)
		}
		for i := range b {
			b[i] = float32((2*rng.Float64() - 1) * bound)
		}
		ws, bs = append(ws, w), append(bs, b)
	}
	m, err := NewMLP(spec, ws, bs)
	if err != nil {
		t.Fatal(err)
	}
	return m, ws, bs
}

// reference evaluates the network for one point in float64, straight from the
// definition, sharing no code with MLP.
func reference(spec MLPSpec, ws, bs [][]float32, x []float64, t float64) []float64 {
	h := append([]float64(nil), x...)
	h = append(h, t)
	if spec.Time.Kind == TimeFourier {
		for k := 1; k <= spec.Time.Freqs; k++ {
			h = append(h, math.Sin(2*math.Pi*float64(k)*t), math.Cos(2*math.Pi*float64(k)*t))
		}
	}
	shapes := spec.LayerShapes()
	for l, sh := range shapes {
		out := make([]float64, sh[0])
		for o := range out {
			z := float64(bs[l][o])
			for i := 0; i < sh[1]; i++ {
				z += float64(ws[l][o*sh[1]+i]) * h[i]
			}
			if l < len(shapes)-1 {
				switch spec.Activation {
				case ActReLU:
					z = math.Max(z, 0)
				case ActTanh:
					z = math.Tanh(z)
				default:
					z = z / (1 + math.Exp(-z))
				}
			}
			out[o] = z
		}
		h = out
	}
	return h
}

var testSpecs = []MLPSpec{
	{Dim: 2, Hidden: []int{64, 64, 64}},
	{Dim: 2, Hidden: []int{32, 17}, Activation: ActTanh, Time: TimeEmbedding{Kind: TimeFourier, Freqs: 4}},
	{Dim: 3, Hidden: []int{40}, Activation: ActReLU},
	{Dim: 5, Hidden: []int{256, 256, 256}, Time: TimeEmbedding{Kind: TimeFourier, Freqs: 2}},
}

func TestMLPMatchesReference(t *testing.T) {
	for si, spec := range testSpecs {
		m, ws, bs := randomMLP(t, spec, uint64(si))
		rng := rand.New(rand.NewPCG(7, 7))
		n := 150 // more than two blocks, the last one partial
		x := make([]float32, n*spec.Dim)
		for i := range x {
			x[i] = float32(3 * rng.NormFloat64())
		}
		for _, tt := range []float64{0, 0.37, 1} {
			got := make([]float32, len(x))
			m.Velocity(got, x, tt)
			for i := 0; i < n; i++ {
				xi := make([]float64, spec.Dim)
				for j := range xi {
					xi[j] = float64(x[i*spec.Dim+j])
				}
				want := reference(spec, ws, bs, xi, tt)
				for j, w := range want {
					near(t, "velocity", float64(got[i*spec.Dim+j]), w, 1e-5*(1+math.Abs(w)))
				}
			}
		}
	}
}

// TestMLPJacobian checks JVPs and the exact divergence against central differences
// of the float64 reference.
func TestMLPJacobian(t *testing.T) {
	for si, spec := range testSpecs {
		if spec.Activation == ActReLU {
			continue // finite differences straddle the kinks
		}
		m, ws, bs := randomMLP(t, spec, uint64(si))
		rng := rand.New(rand.NewPCG(3, 3))
		d, n := spec.Dim, 70
		x, v := make([]float32, n*d), make([]float32, n*d)
		for i := range x {
			x[i] = float32(2 * rng.NormFloat64())
			v[i] = float32(rng.NormFloat64())
		}
		tt := 0.6
		dst, jv, dst2, div := make([]float32, n*d), make([]float32, n*d), make([]float32, n*d), make([]float32, n)
		m.VelocityJVP(dst, jv, x, v, tt)
		m.VelocityDiv(dst2, div, x, tt)
		for i := 0; i < n; i++ {
			at := func(delta []float64) []float64 {
				p := make([]float64, d)
				for j := range p {
					p[j] = float64(x[i*d+j]) + delta[j]
				}
				return reference(spec, ws, bs, p, tt)
			}
			h := 1e-5
			plus, minus := make([]float64, d), make([]float64, d)
			for j := 0; j < d; j++ {
				plus[j], minus[j] = h*float64(v[i*d+j]), -h*float64(v[i*d+j])
			}
			fp, fm := at(plus), at(minus)
			wantDiv := 0.0
			for k := 0; k < d; k++ {
				e := make([]float64, d)
				e[k] = h
				ep := at(e)
				e[k] = -h
				em := at(e)
				wantDiv += (ep[k] - em[k]) / (2 * h)
			}
			for j := 0; j < d; j++ {
				want := (fp[j] - fm[j]) / (2 * h)
				near(t, "jvp", float64(jv[i*d+j]), want, 1e-4*(1+math.Abs(want)))
				near(t, "velocity beside jvp", float64(dst[i*d+j]), float64(dst2[i*d+j]), 0)
			}
			near(t, "divergence", float64(div[i]), wantDiv, 1e-4*(1+math.Abs(wantDiv)))
		}
	}
}

// TestMLPNoAllocs checks warm calls on a batch large enough to be shared between
// workers (where GOMAXPROCS allows) and on a small one, which the caller does alone.
func TestMLPNoAllocs(t *testing.T) {
	m, _, _ := randomMLP(t, MLPSpec{Dim: 2, Hidden: []int{64, 64}}, 1)
	for _, n := range []int{1000, 7} {
		x, v, dst, jv, div := make([]float32, 2*n), make([]float32, 2*n), make([]float32, 2*n), make([]float32, 2*n), make([]float32, n)
		calls := []struct {
			name string
			f    func()
		}{
			{"Velocity", func() { m.Velocity(dst, x, 0.5) }},
			{"VelocityJVP", func() { m.VelocityJVP(dst, jv, x, v, 0.5) }},
			{"VelocityDiv", func() { m.VelocityDiv(dst, div, x, 0.5) }},
		}
		for _, c := range calls {
			c.f()
			if a := testing.AllocsPerRun(10, c.f); a != 0 {
				t.Errorf("%s on %d rows: %v allocations per call, want 0", c.name, n, a)
			}
		}
	}
}

func TestNewMLPErrors(t *testing.T) {
	good := MLPSpec{Dim: 2, Hidden: []int{4}}
	_, ws, bs := randomMLP(t, good, 1)
	cases := []struct {
		name   string
		spec   MLPSpec
		ws, bs [][]float32
	}{
		{"zero dim", MLPSpec{Dim: 0, Hidden: []int{4}}, ws, bs},
		{"no hidden", MLPSpec{Dim: 2}, ws, bs},
		{"bad width", MLPSpec{Dim: 2, Hidden: []int{-1}}, ws, bs},
		{"bad activation", MLPSpec{Dim: 2, Hidden: []int{4}, Activation: "swish2"}, ws, bs},
		{"bad time", MLPSpec{Dim: 2, Hidden: []int{4}, Time: TimeEmbedding{Kind: "fourier"}}, ws, bs},
		{"missing layer", good, ws[:1], bs[:1]},
		{"short weight", good, [][]float32{ws[0][:3], ws[1]}, bs},
		{"short bias", good, ws, [][]float32{bs[0], bs[1][:1]}},
		{"nan weight", good, [][]float32{append([]float32{float32(math.NaN())}, ws[0][1:]...), ws[1]}, bs},
	}
	for _, c := range cases {
		if _, err := NewMLP(c.spec, c.ws, c.bs); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}
