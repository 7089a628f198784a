// Package cnn trains the project's image classifier (package classifier's network,
// weights.ClassifierSpec) with libtorch through gotch, and runs the plain network's
// forward pass in libtorch for the parity test against the pure-Go one.
//
// Training puts a BatchNorm after each convolution (it converges in a few epochs where
// the plain network needs many), and Export folds each BatchNorm's running statistics
// and affine into its convolution, so the exported file is the plain network. The
// training uses gotch's autograd and its ts API, which allocates a Go object and a C++
// tensor per op: each intermediate is dropped as the next op consumes it (the del
// argument), and each step's loss and logits after the step. That is fine for a run
// of minutes; the flow trainer's allocation-free loop (package tt) is not needed here.
package cnn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/flowmatch/flowmatch/weights"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"
)

// bnEps and bnMomentum are BatchNorm's defaults in PyTorch.
const (
	bnEps      = 1e-5
	bnMomentum = 0.1
)

// Model is the classifier with a BatchNorm after each convolution, its parameters in
// a VarStore (for the optimizer) and its running statistics beside them.
type Model struct {
	Spec weights.ClassifierSpec
	VS   *nn.VarStore
	p    map[string]*ts.Tensor // trainable, by name (conv, bn gamma/beta, fc)
	run  map[string]*ts.Tensor // BatchNorm running mean and var, by conv name
}

// NewModel makes a model of spec with PyTorch's default initialisation, drawn in Go
// from seed (gotch's defaults are not PyTorch's): weights and biases uniform in
// ±1/√fan_in (kaiming_uniform with a = √5), BatchNorm gains 1 and shifts 0.
func NewModel(spec weights.ClassifierSpec, seed uint64) (*Model, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	m := &Model{Spec: spec, VS: nn.NewVarStore(gotch.CPU), p: map[string]*ts.Tensor{}, run: map[string]*ts.Tensor{}}
	root := m.VS.Root()
	ts := spec.Tensors()
	for i := 0; i < len(ts); i += 2 {
		w, b := ts[i], ts[i+1]
		fanIn := 1
		for _, d := range w.Shape[1:] {
			fanIn *= d
		}
		bound := 1 / math.Sqrt(float64(fanIn))
		m.p[w.Name] = root.MustAdd(vsName(w.Name), uniform(rng, w.Shape, bound), true)
		m.p[b.Name] = root.MustAdd(vsName(b.Name), uniform(rng, b.Shape, bound), true)
	}
	for l, co := range spec.Channels {
		for k := range 2 {
			name := weights.ConvName(l, k)
			m.p[name+".bn.weight"] = root.MustAdd(vsName(name+".bn.weight"), constant(co, 1), true)
			m.p[name+".bn.bias"] = root.MustAdd(vsName(name+".bn.bias"), constant(co, 0), true)
			m.run[name+".mean"] = constant(co, 0)
			m.run[name+".var"] = constant(co, 1)
		}
	}
	return m, nil
}

// vsName is a tensor's name as a VarStore allows it (no dots).
func vsName(s string) string { return strings.ReplaceAll(s, ".", "_") }

func uniform(rng *rand.Rand, shape []int, bound float64) *ts.Tensor {
	n := 1
	dims := make([]int64, len(shape))
	for i, d := range shape {
		n *= d
		dims[i] = int64(d)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(bound * (2*rng.Float64() - 1))
	}
	return ts.MustOfSlice(v).MustView(dims, true)
}

func constant(n int, c float32) *ts.Tensor {
	v := make([]float32, n)
	for i := range v {
		v[i] = c
	}
	return ts.MustOfSlice(v)
}

// Forward returns the logits of x (B×1×Side×Side intensities in [0, 1]); train
// normalises with the batch's statistics and updates the running ones, otherwise the
// running ones are used.
func (m *Model) Forward(x *ts.Tensor, train bool) *ts.Tensor {
	h := x.MustShallowClone()
	for l := range m.Spec.Channels {
		for k := range 2 {
			name := weights.ConvName(l, k)
			c := ts.MustConv2d(h, m.p[name+".weight"], m.p[name+".bias"], []int64{1, 1}, []int64{1, 1}, []int64{1, 1}, 1)
			h.MustDrop()
			bn := ts.MustBatchNorm(c, m.p[name+".bn.weight"], m.p[name+".bn.bias"], m.run[name+".mean"], m.run[name+".var"],
				train, bnMomentum, bnEps, false)
			c.MustDrop()
			h = bn.MustRelu(true)
		}
		h = h.MustMaxPool2d([]int64{2, 2}, []int64{2, 2}, []int64{0, 0}, []int64{1, 1}, false, true)
	}
	return head(h, m.p)
}

// head is the flatten, fc1, ReLU and fc2 of the network, consuming h.
func head(h *ts.Tensor, p map[string]*ts.Tensor) *ts.Tensor {
	h = h.MustFlatten(1, -1, true)
	f := ts.MustLinear(h, p["fc1.weight"], p["fc1.bias"])
	h.MustDrop()
	f = f.MustRelu(true)
	out := ts.MustLinear(f, p["fc2.weight"], p["fc2.bias"])
	f.MustDrop()
	return out
}

// Export returns the plain network's tensors (weights.ClassifierSpec.Tensors) with
// each BatchNorm folded into its convolution: w·γ/√(σ²+ε) and (b − μ)·γ/√(σ²+ε) + β per
// output channel, computed in float64.
func (m *Model) Export() map[string][]float32 {
	out := map[string][]float32{}
	for _, t := range m.Spec.Tensors() {
		out[t.Name] = values(m.p[t.Name])
	}
	for l := range m.Spec.Channels {
		for k := range 2 {
			name := weights.ConvName(l, k)
			w, b := out[name+".weight"], out[name+".bias"]
			g, beta := values(m.p[name+".bn.weight"]), values(m.p[name+".bn.bias"])
			mu, v := values(m.run[name+".mean"]), values(m.run[name+".var"])
			per := len(w) / len(b)
			for o := range b {
				s := float64(g[o]) / math.Sqrt(float64(v[o])+bnEps)
				for i := range per {
					w[o*per+i] = float32(float64(w[o*per+i]) * s)
				}
				b[o] = float32((float64(b[o])-float64(mu[o]))*s + float64(beta[o]))
			}
		}
	}
	return out
}

func values(t *ts.Tensor) []float32 {
	d := t.MustDetach(false)
	defer d.MustDrop()
	return d.Vals().([]float32)
}

// PlainForward is the exported network's forward pass in libtorch, from its tensors:
// the logits and the penultimate features of x (B×1×Side×Side), as flat slices.
func PlainForward(spec weights.ClassifierSpec, tensors map[string][]float32, x []float32) (logits, feat []float32, err error) {
	p := map[string]*ts.Tensor{}
	for _, t := range spec.Tensors() {
		dims := make([]int64, len(t.Shape))
		for i, d := range t.Shape {
			dims[i] = int64(d)
		}
		v, ok := tensors[t.Name]
		if !ok {
			return nil, nil, fmt.Errorf("cnn: no tensor %q", t.Name)
		}
		p[t.Name] = ts.MustOfSlice(v).MustView(dims, true)
	}
	s := int64(spec.Side)
	h := ts.MustOfSlice(x).MustView([]int64{int64(len(x)) / (s * s), 1, s, s}, true)
	for l := range spec.Channels {
		for k := range 2 {
			name := weights.ConvName(l, k)
			c := ts.MustConv2d(h, p[name+".weight"], p[name+".bias"], []int64{1, 1}, []int64{1, 1}, []int64{1, 1}, 1)
			h.MustDrop()
			h = c.MustRelu(true)
		}
		h = h.MustMaxPool2d([]int64{2, 2}, []int64{2, 2}, []int64{0, 0}, []int64{1, 1}, false, true)
	}
	h = h.MustFlatten(1, -1, true)
	f := ts.MustLinear(h, p["fc1.weight"], p["fc1.bias"]).MustRelu(true)
	lg := ts.MustLinear(f, p["fc2.weight"], p["fc2.bias"])
	return lg.Vals().([]float32), f.Vals().([]float32), nil
}
