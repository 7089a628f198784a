package sampler

import (
	"errors"
	"fmt"
	"math"
)

// Time-embedding kinds.
const (
	TimeRaw     = "raw"     // the features are [t]
	TimeFourier = "fourier" // [t, sin(2π·1·t), cos(2π·1·t), …, sin(2π·F·t), cos(2π·F·t)]
)

// TimeEmbedding says how the network sees t. The zero value is [TimeRaw].
type TimeEmbedding struct {
	Kind  string `json:"kind"`            // TimeRaw or TimeFourier
	Freqs int    `json:"freqs,omitempty"` // F, for TimeFourier
}

// Size is the number of features Features writes.
func (e TimeEmbedding) Size() int {
	if e.Kind == TimeFourier {
		return 1 + 2*e.Freqs
	}
	return 1
}

// Features writes the time features of t into dst[:Size()], computed in float64.
// The trainer calls this same function, so both sides see identical inputs.
func (e TimeEmbedding) Features(dst []float32, t float64) {
	dst[0] = float32(t)
	if e.Kind != TimeFourier {
		return
	}
	for k := 1; k <= e.Freqs; k++ {
		s, c := math.Sincos(2 * math.Pi * float64(k) * t)
		dst[2*k-1] = float32(s)
		dst[2*k] = float32(c)
	}
}

func (e TimeEmbedding) validate() error {
	switch e.Kind {
	case "", TimeRaw:
		if e.Freqs != 0 {
			return fmt.Errorf("time embedding %q takes no freqs (got %d)", e.Kind, e.Freqs)
		}
	case TimeFourier:
		if e.Freqs < 1 || e.Freqs > 256 {
			return fmt.Errorf("time embedding %q: freqs %d outside [1, 256]", e.Kind, e.Freqs)
		}
	default:
		return fmt.Errorf("unknown time embedding %q (want %q or %q)", e.Kind, TimeRaw, TimeFourier)
	}
	return nil
}

// Activations.
const (
	ActSiLU = "silu" // z·σ(z), the default
	ActReLU = "relu"
	ActTanh = "tanh"
)

// MLPSpec is the shape of the velocity network v_θ(x, t): the input is x (Dim values)
// followed by the time features; then Linear(in, Hidden[0]), activation, …,
// Linear(Hidden[k−1], Dim). The zero Activation means SiLU.
type MLPSpec struct {
	Dim        int           `json:"dim"`
	Hidden     []int         `json:"hidden"`
	Activation string        `json:"activation"`
	Time       TimeEmbedding `json:"time"`
}

// Limits that keep a hostile file from asking for absurd allocations.
const (
	maxDim    = 1 << 16
	maxWidth  = 1 << 14
	maxLayers = 64
)

// Validate reports whether the spec describes a network this package can build.
func (s MLPSpec) Validate() error {
	if s.Dim < 1 || s.Dim > maxDim {
		return fmt.Errorf("sampler: mlp: dim %d outside [1, %d]", s.Dim, maxDim)
	}
	if len(s.Hidden) < 1 || len(s.Hidden) > maxLayers {
		return fmt.Errorf("sampler: mlp: %d hidden layers, want 1 to %d", len(s.Hidden), maxLayers)
	}
	for i, h := range s.Hidden {
		if h < 1 || h > maxWidth {
			return fmt.Errorf("sampler: mlp: hidden layer %d has width %d, want 1 to %d", i, h, maxWidth)
		}
	}
	if _, err := activation(s.Activation); err != nil {
		return fmt.Errorf("sampler: mlp: %w", err)
	}
	if err := s.Time.validate(); err != nil {
		return fmt.Errorf("sampler: mlp: %w", err)
	}
	return nil
}

// InputDim is the width of the first layer's input: Dim plus the time features.
func (s MLPSpec) InputDim() int { return s.Dim + s.Time.Size() }

// LayerShapes returns each Linear layer's {out, in}, first to last.
func (s MLPSpec) LayerShapes() [][2]int {
	widths := append(append([]int{s.InputDim()}, s.Hidden...), s.Dim)
	shapes := make([][2]int, len(widths)-1)
	for i := range shapes {
		shapes[i] = [2]int{widths[i+1], widths[i]}
	}
	return shapes
}

// NumParams is the number of weights and biases.
func (s MLPSpec) NumParams() int {
	n := 0
	for _, sh := range s.LayerShapes() {
		n += sh[0]*sh[1] + sh[0]
	}
	return n
}

// blockRows is how many batch rows go through the network together: enough to reuse
// each weight row many times, few enough that the activations stay in cache.
const blockRows = 64

// MLP evaluates a velocity network on batches. It is a [Field] and a [DivField].
// An MLP keeps scratch buffers so that evaluation allocates nothing once warm; it is
// not safe for concurrent use (make one per goroutine with [MLP.Clone]).
type MLP struct {
	spec   MLPSpec
	act    act
	layers []layer
	width  int // the widest layer input or output

	// scratch, sized for blockRows rows
	buf  [2][]float32   // activations, ping-pong
	pre  []float32      // pre-activations of the current layer
	tan  [2][][]float32 // tangents, ping-pong, one per direction
	tfea []float32      // time features
}

type layer struct {
	in, out int
	wt      []float32 // transposed weight: wt[i*out+o] = W[o][i]
	b       []float32
}

// NewMLP builds a network from its spec and parameters. weights[l] is layer l's matrix in
// PyTorch's layout, [out][in] row-major; biases[l] has out entries. The slices are copied.
func NewMLP(spec MLPSpec, weights, biases [][]float32) (*MLP, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	shapes := spec.LayerShapes()
	if len(weights) != len(shapes) || len(biases) != len(shapes) {
		return nil, fmt.Errorf("sampler: mlp: spec has %d layers, got %d weights and %d biases",
			len(shapes), len(weights), len(biases))
	}
	a, _ := activation(spec.Activation)
	m := &MLP{spec: spec, act: a}
	m.spec.Hidden = append([]int(nil), spec.Hidden...)
	for l, sh := range shapes {
		out, in := sh[0], sh[1]
		if len(weights[l]) != out*in {
			return nil, fmt.Errorf("sampler: mlp: layer %d weight has %d values, want %d×%d", l, len(weights[l]), out, in)
		}
		if len(biases[l]) != out {
			return nil, fmt.Errorf("sampler: mlp: layer %d bias has %d values, want %d", l, len(biases[l]), out)
		}
		ly := layer{in: in, out: out, wt: make([]float32, in*out), b: append([]float32(nil), biases[l]...)}
		for o := 0; o < out; o++ {
			for i := 0; i < in; i++ {
				v := weights[l][o*in+i]
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return nil, fmt.Errorf("sampler: mlp: layer %d weight [%d][%d] is %v", l, o, i, v)
				}
				ly.wt[i*out+o] = v
			}
		}
		for o, v := range ly.b {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("sampler: mlp: layer %d bias [%d] is %v", l, o, v)
			}
		}
		m.layers = append(m.layers, ly)
		m.width = max(m.width, in, out)
	}
	m.alloc(0)
	return m, nil
}

// alloc sizes the scratch for `tangents` tangent directions.
func (m *MLP) alloc(tangents int) {
	if m.buf[0] == nil {
		for k := range m.buf {
			m.buf[k] = make([]float32, blockRows*m.width)
		}
		m.pre = make([]float32, blockRows*m.width)
		m.tfea = make([]float32, m.spec.Time.Size())
	}
	for k := range m.tan {
		for len(m.tan[k]) < tangents {
			m.tan[k] = append(m.tan[k], make([]float32, blockRows*m.width))
		}
	}
}

// Clone returns an MLP sharing m's parameters with scratch of its own, for another goroutine.
func (m *MLP) Clone() *MLP {
	c := &MLP{spec: m.spec, act: m.act, layers: m.layers, width: m.width}
	c.alloc(0)
	return c
}

// Spec returns the network's shape.
func (m *MLP) Spec() MLPSpec { return m.spec }

// Dim is the data dimension d.
func (m *MLP) Dim() int { return m.spec.Dim }

// Velocity writes v_θ(x, t) for each row of x (n×d) into dst (n×d).
func (m *MLP) Velocity(dst, x []float32, t float64) {
	m.run(dst, x, t, nil, nil)
}

// VelocityJVP writes v_θ(x, t) into dst and the Jacobian-vector product (∂v/∂x)·v
// for each row into jv. x, v, dst and jv are n×d.
func (m *MLP) VelocityJVP(dst, jv, x, v []float32, t float64) {
	m.run(dst, x, t, [][]float32{v}, [][]float32{jv})
}

// VelocityDiv writes v_θ(x, t) into dst and its exact divergence, the trace of ∂v/∂x,
// for each row into div (n values). It costs about d+1 forward passes.
func (m *MLP) VelocityDiv(dst, div, x []float32, t float64) {
	d := m.spec.Dim
	n := len(x) / d
	checkLen("VelocityDiv", len(div), n)
	for i := range div {
		div[i] = 0
	}
	m.run(dst, x, t, nil, nil)
	// One tangent direction e_k at a time keeps the scratch small for any d.
	for k := 0; k < d; k++ {
		m.runDiv(div, x, t, k)
	}
}

func checkLen(what string, got, want int) {
	if got != want {
		panic(fmt.Sprintf("sampler: %s: length %d, want %d", what, got, want))
	}
}

// run evaluates the network block by block, carrying tangent directions along when
// tangents is not nil (forward-mode differentiation).
func (m *MLP) run(dst, x []float32, t float64, tangents, outTangents [][]float32) {
	d := m.spec.Dim
	if len(x)%d != 0 {
		panic(fmt.Sprintf("sampler: mlp: batch length %d is not a multiple of dim %d", len(x), d))
	}
	checkLen("Velocity dst", len(dst), len(x))
	for k := range tangents {
		checkLen("tangent", len(tangents[k]), len(x))
		checkLen("tangent output", len(outTangents[k]), len(x))
	}
	m.alloc(len(tangents))
	n := len(x) / d
	m.spec.Time.Features(m.tfea, t)
	for r0 := 0; r0 < n; r0 += blockRows {
		rows := min(blockRows, n-r0)
		m.block(rows, x[r0*d:(r0+rows)*d], dst[r0*d:(r0+rows)*d], r0*d, tangents, outTangents)
	}
}

// runDiv adds (∂v/∂x · e_k)_k to div for every row.
func (m *MLP) runDiv(div, x []float32, t float64, k int) {
	d := m.spec.Dim
	n := len(x) / d
	m.alloc(1)
	m.spec.Time.Features(m.tfea, t)
	for r0 := 0; r0 < n; r0 += blockRows {
		rows := min(blockRows, n-r0)
		m.blockDiv(rows, x[r0*d:(r0+rows)*d], div[r0:r0+rows], k)
	}
}

// loadInput writes [x, time features] for rows rows into buf[0].
func (m *MLP) loadInput(rows int, x []float32) {
	d, in := m.spec.Dim, m.layers[0].in
	h := m.buf[0]
	for r := 0; r < rows; r++ {
		copy(h[r*in:r*in+d], x[r*d:(r+1)*d])
		copy(h[r*in+d:(r+1)*in], m.tfea)
	}
}

func (m *MLP) block(rows int, x, dst []float32, off int, tangents, outTangents [][]float32) {
	d, in := m.spec.Dim, m.layers[0].in
	m.loadInput(rows, x)
	nt := len(tangents)
	for k := 0; k < nt; k++ {
		tg := m.tan[0][k]
		for r := 0; r < rows; r++ {
			copy(tg[r*in:r*in+d], tangents[k][off+r*d:off+(r+1)*d])
			clear(tg[r*in+d : (r+1)*in])
		}
	}
	m.layersForward(rows, nt)
	last := m.layers[len(m.layers)-1]
	cur := len(m.layers) % 2
	copy(dst, m.buf[cur][:rows*last.out])
	for k := 0; k < nt; k++ {
		copy(outTangents[k][off:off+rows*d], m.tan[cur][k][:rows*last.out])
	}
}

func (m *MLP) blockDiv(rows int, x, div []float32, k int) {
	d, in := m.spec.Dim, m.layers[0].in
	m.loadInput(rows, x)
	tg := m.tan[0][0]
	clear(tg[:rows*in])
	for r := 0; r < rows; r++ {
		tg[r*in+k] = 1
	}
	m.layersForward(rows, 1)
	res := m.tan[len(m.layers)%2][0]
	for r := 0; r < rows; r++ {
		div[r] += res[r*d+k]
	}
}

// layersForward pushes buf[0] (and nt tangents in tan[0]) through every layer; the
// result ends in buf[L%2] (and tan[L%2]).
func (m *MLP) layersForward(rows, nt int) {
	for l := range m.layers {
		ly := &m.layers[l]
		src, dstb := m.buf[l%2], m.buf[(l+1)%2]
		last := l == len(m.layers)-1
		if last {
			affine(dstb, src, ly, rows)
		} else {
			affine(m.pre, src, ly, rows)
			m.act.apply(dstb[:rows*ly.out], m.pre[:rows*ly.out])
		}
		for k := 0; k < nt; k++ {
			ts, td := m.tan[l%2][k], m.tan[(l+1)%2][k]
			linear(td, ts, ly, rows)
			if !last {
				m.act.scaleByDeriv(td[:rows*ly.out], m.pre[:rows*ly.out])
			}
		}
	}
}

// affine computes dst = src·Wᵀ + b for rows rows.
func affine(dst, src []float32, ly *layer, rows int) {
	in, out := ly.in, ly.out
	for r := 0; r < rows; r++ {
		o := dst[r*out : (r+1)*out : (r+1)*out]
		copy(o, ly.b)
		s := src[r*in : (r+1)*in : (r+1)*in]
		for i, v := range s {
			w := ly.wt[i*out : (i+1)*out : (i+1)*out]
			for j := range o {
				o[j] += v * w[j]
			}
		}
	}
}

// linear computes dst = src·Wᵀ (no bias), for tangents.
func linear(dst, src []float32, ly *layer, rows int) {
	in, out := ly.in, ly.out
	for r := 0; r < rows; r++ {
		o := dst[r*out : (r+1)*out : (r+1)*out]
		clear(o)
		s := src[r*in : (r+1)*in : (r+1)*in]
		for i, v := range s {
			if v == 0 {
				continue
			}
			w := ly.wt[i*out : (i+1)*out : (i+1)*out]
			for j := range o {
				o[j] += v * w[j]
			}
		}
	}
}

type act int

const (
	actSiLU act = iota
	actReLU
	actTanh
)

func activation(name string) (act, error) {
	switch name {
	case "", ActSiLU:
		return actSiLU, nil
	case ActReLU:
		return actReLU, nil
	case ActTanh:
		return actTanh, nil
	}
	return 0, errors.New("unknown activation " + fmt.Sprintf("%q", name) + " (want silu, relu or tanh)")
}

func sigmoid(z float32) float32 { return 1 / (1 + float32(math.Exp(float64(-z)))) }

func (a act) apply(dst, z []float32) {
	dst = dst[:len(z)]
	switch a {
	case actSiLU:
		for i, v := range z {
			dst[i] = v * sigmoid(v)
		}
	case actReLU:
		for i, v := range z {
			dst[i] = max(v, 0)
		}
	case actTanh:
		for i, v := range z {
			dst[i] = float32(math.Tanh(float64(v)))
		}
	}
}

// scaleByDeriv multiplies each tangent entry by the activation's derivative at z.
func (a act) scaleByDeriv(tg, z []float32) {
	tg = tg[:len(z)]
	switch a {
	case actSiLU:
		for i, v := range z {
			s := sigmoid(v)
			tg[i] *= s * (1 + v*(1-s))
		}
	case actReLU:
		for i, v := range z {
			if v <= 0 {
				tg[i] = 0
			}
		}
	case actTanh:
		for i, v := range z {
			th := float32(math.Tanh(float64(v)))
			tg[i] *= 1 - th*th
		}
	}
}
