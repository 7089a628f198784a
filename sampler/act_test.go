package sampler

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestActivationsMatchPyTorch checks SELU and GELU against the values PyTorch 1.13
// computes in float32 (torch.nn.SELU()(x), torch.nn.GELU()(x), printed as doubles), to
// a float32 rounding or two.
func TestActivationsMatchPyTorch(t *testing.T) {
	x := []float32{-3, -1, -0.5, 0, 0.5, 1, 3}
	want := map[act][]float64{
		actSELU: {-1.6705687046051025, -1.1113307476043701, -0.6917581558227539, 0, 0.5253505110740662, 1.0507010221481323, 3.1521029472351074},
		actGELU: {-0.004049867391586304, -0.1586552858352661, -0.1542687863111496, 0, 0.3457311987876892, 0.8413447141647339, 2.995950222015381},
	}
	for a, w := range want {
		got := make([]float32, len(x))
		a.apply(got, x)
		dst, deriv := make([]float32, len(x)), make([]float32, len(x))
		a.derive(dst, deriv, x)
		for i := range x {
			near(t, "activation", float64(got[i]), w[i], 2e-7*(1+math.Abs(w[i])))
			near(t, "derive's value", float64(dst[i]), float64(got[i]), 0)
		}
	}
}

// TestActivationDerivatives checks act' from derive against central differences of
// the float64 definition, away from ReLU's and SELU's kink at 0, and at the kink the
// one-sided derivative PyTorch's backward takes (the left one, for z ≤ 0).
func TestActivationDerivatives(t *testing.T) {
	z := []float32{-6, -2.5, -1, -0.3, -1e-3, 1e-3, 0.2, 0.9, 2, 7}
	for _, name := range Activations() {
		a, _ := activation(name)
		dst, deriv := make([]float32, len(z)), make([]float32, len(z))
		a.derive(dst, deriv, z)
		for i, v := range z {
			h := 1e-6
			want := (refAct(name, float64(v)+h) - refAct(name, float64(v)-h)) / (2 * h)
			near(t, name+"'", float64(deriv[i]), want, 1e-5*(1+math.Abs(want)))
			near(t, name, float64(dst[i]), refAct(name, float64(v)), 2e-6*(1+math.Abs(float64(dst[i]))))
		}
	}
	d := make([]float32, 1)
	actSELU.derive(make([]float32, 1), d, []float32{0})
	near(t, "selu'(0)", float64(d[0]), seluScale*seluAlpha, 1e-6)
}

// refAct is each activation's definition in float64.
func refAct(name string, z float64) float64 {
	switch name {
	case ActReLU:
		return math.Max(z, 0)
	case ActTanh:
		return math.Tanh(z)
	case ActSELU:
		if z > 0 {
			return 1.0507009873554805 * z
		}
		return 1.0507009873554805 * 1.6732632423543772 * (math.Exp(z) - 1)
	case ActGELU:
		return z * 0.5 * math.Erfc(-z/math.Sqrt2)
	}
	return z / (1 + math.Exp(-z))
}

// refActDeriv is each activation's derivative in float64, the left one at a kink.
func refActDeriv(name string, z float64) float64 {
	switch name {
	case ActReLU:
		if z > 0 {
			return 1
		}
		return 0
	case ActTanh:
		th := math.Tanh(z)
		return 1 - th*th
	case ActSELU:
		if z > 0 {
			return 1.0507009873554805
		}
		return 1.0507009873554805 * 1.6732632423543772 * math.Exp(z)
	case ActGELU:
		return 0.5*math.Erfc(-z/math.Sqrt2) + z*math.Exp(-z*z/2)/math.Sqrt(2*math.Pi)
	}
	s := 1 / (1 + math.Exp(-z))
	return s + z*s*(1-s)
}

// refForward evaluates the network for one point in float64 with forward-mode
// derivatives: the velocity and (∂v/∂x)·v for tangent v, from the definitions alone.
func refForward(spec MLPSpec, ws, bs [][]float32, x, v []float64, t float64) (out, tan []float64) {
	h := append([]float64(nil), x...)
	h = append(h, t)
	dh := append([]float64(nil), v...)
	dh = append(dh, 0)
	if spec.Time.Kind == TimeFourier {
		for k := 1; k <= spec.Time.Freqs; k++ {
			h = append(h, math.Sin(2*math.Pi*float64(k)*t), math.Cos(2*math.Pi*float64(k)*t))
			dh = append(dh, 0, 0)
		}
	}
	shapes := spec.LayerShapes()
	for l, sh := range shapes {
		o, do := make([]float64, sh[0]), make([]float64, sh[0])
		for r := range o {
			z, dz := float64(bs[l][r]), 0.0
			for i := 0; i < sh[1]; i++ {
				w := float64(ws[l][r*sh[1]+i])
				z += w * h[i]
				dz += w * dh[i]
			}
			if l < len(shapes)-1 {
				z, dz = refAct(spec.Activation, z), refActDeriv(spec.Activation, z)*dz
			}
			o[r], do[r] = z, dz
		}
		h, dh = o, do
	}
	return h, dh
}

// TestMLPNewActivations runs networks with SELU and GELU (both time embeddings, several
// widths, batches over several blocks) through Velocity, VelocityJVP and VelocityDiv
// against the float64 forward-mode reference.
func TestMLPNewActivations(t *testing.T) {
	specs := []MLPSpec{
		{Dim: 2, Hidden: []int{64, 64, 64}, Activation: ActSELU},
		{Dim: 3, Hidden: []int{37, 20}, Activation: ActSELU, Time: TimeEmbedding{Kind: TimeFourier, Freqs: 3}},
		{Dim: 2, Hidden: []int{128, 128}, Activation: ActGELU},
		{Dim: 5, Hidden: []int{33}, Activation: ActGELU, Time: TimeEmbedding{Kind: TimeFourier, Freqs: 1}},
	}
	for si, spec := range specs {
		m, ws, bs := randomMLP(t, spec, uint64(100+si))
		rng := rand.New(rand.NewPCG(5, uint64(si)))
		d, n := spec.Dim, 130
		x, v := make([]float32, n*d), make([]float32, n*d)
		for i := range x {
			x[i] = float32(2 * rng.NormFloat64())
			v[i] = float32(rng.NormFloat64())
		}
		for _, tt := range []float64{0, 0.41, 1} {
			vel, dst, jv, dst2, div := make([]float32, n*d), make([]float32, n*d), make([]float32, n*d), make([]float32, n*d), make([]float32, n)
			m.Velocity(vel, x, tt)
			m.VelocityJVP(dst, jv, x, v, tt)
			m.VelocityDiv(dst2, div, x, tt)
			for i := 0; i < n; i++ {
				xi, vi := make([]float64, d), make([]float64, d)
				for j := range xi {
					xi[j], vi[j] = float64(x[i*d+j]), float64(v[i*d+j])
				}
				want, wantJV := refForward(spec, ws, bs, xi, vi, tt)
				wantDiv := 0.0
				for k := 0; k < d; k++ {
					e := make([]float64, d)
					e[k] = 1
					_, col := refForward(spec, ws, bs, xi, e, tt)
					wantDiv += col[k]
				}
				for j := range want {
					near(t, spec.Activation+" velocity", float64(vel[i*d+j]), want[j], 1e-5*(1+math.Abs(want[j])))
					near(t, spec.Activation+" velocity beside jvp", float64(dst[i*d+j]), float64(vel[i*d+j]), 0)
					near(t, spec.Activation+" velocity beside div", float64(dst2[i*d+j]), float64(vel[i*d+j]), 0)
					near(t, spec.Activation+" jvp", float64(jv[i*d+j]), wantJV[j], 1e-4*(1+math.Abs(wantJV[j])))
				}
				near(t, spec.Activation+" divergence", float64(div[i]), wantDiv, 1e-4*(1+math.Abs(wantDiv)))
			}
		}
		// A clone computes the same bits.
		c := m.Clone()
		a, b := make([]float32, n*d), make([]float32, n*d)
		m.Velocity(a, x, 0.3)
		c.Velocity(b, x, 0.3)
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Fatalf("%s: clone differs at %d: %v vs %v", spec.Activation, i, b[i], a[i])
			}
		}
	}
}

func TestActivationNames(t *testing.T) {
	for _, name := range Activations() {
		if err := (MLPSpec{Dim: 2, Hidden: []int{3}, Activation: name}).Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	err := MLPSpec{Dim: 2, Hidden: []int{3}, Activation: "mish"}.Validate()
	if err == nil || !strings.Contains(err.Error(), `unknown activation "mish"`) {
		t.Fatalf("mish: %v", err)
	}
	for _, name := range Activations() {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("the error %q does not list %s", err, name)
		}
	}
}
