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
	// ActSELU is PyTorch's nn.SELU: λ·z for z > 0, λ·α·(e^z − 1) otherwise, with
	// α = 1.6732632423543772 and λ = 1.0507009873554805.
	ActSELU = "selu"
	// ActGELU is PyTorch's nn.GELU() (approximate="none"): z·Φ(z) = z/2·(1 + erf(z/√2)),
	// the exact form, not the tanh approximation.
	ActGELU = "gelu"
)

// Activations lists the activation names [MLPSpec] accepts.
func Activations() []string { return []string{ActSiLU, ActReLU, ActTanh, ActSELU, ActGELU} }

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

// MLP evaluates a velocity network on batches. It is a [Field] and a [DivField].
// An MLP keeps scratch buffers so that evaluation allocates nothing once warm; it is
// not safe for concurrent use (make one per goroutine with [MLP.Clone]). A large batch
// is spread over GOMAXPROCS goroutines, each with scratch of its own.
type MLP struct {
	spec   MLPSpec
	act    act
	epi    int           // the epilogue that applies act in the kernels, or epiNone
	layers []packedLayer // shared by clones, never written after NewMLP
	width  int           // the widest padded layer input or output

	tfea []float32    // time features of the current call
	call call         // the current call's arguments
	ws   []*workspace // per-worker scratch; ws[0] is the calling goroutine's
	job  rowJob
}

// What a call asks for.
const (
	opVelocity = iota
	opJVP
	opDiv
)

// call is one call's arguments, read by every worker.
type call struct {
	op                 int
	x, dst, v, jv, div []float32
}

// workspace is one worker's scratch, sized for blockRows rows.
type workspace struct {
	h     [2][]float32 // activations, ping-pong
	t     [2][]float32 // tangents, ping-pong (JVP and divergence only)
	pre   []float32    // pre-activations, when the kernels cannot apply act' (JVP and divergence)
	deriv [][]float32  // act'(pre) of each hidden layer (JVP and divergence)
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
	m := &MLP{spec: spec, act: a, epi: a.epilogue()}
	m.spec.Hidden = append([]int(nil), spec.Hidden...)
	for l, sh := range shapes {
		out, in := sh[0], sh[1]
		if len(weights[l]) != out*in {
			return nil, fmt.Errorf("sampler: mlp: layer %d weight has %d values, want %d×%d", l, len(weights[l]), out, in)
		}
		if len(biases[l]) != out {
			return nil, fmt.Errorf("sampler: mlp: layer %d bias has %d values, want %d", l, len(biases[l]), out)
		}
		for i, v := range weights[l] {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("sampler: mlp: layer %d weight [%d][%d] is %v", l, i/in, i%in, v)
			}
		}
		for o, v := range biases[l] {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("sampler: mlp: layer %d bias [%d] is %v", l, o, v)
			}
		}
		ly := packLayer(weights[l], biases[l], out, in)
		m.layers = append(m.layers, ly)
		m.width = max(m.width, ly.kp, ly.np)
	}
	m.tfea = make([]float32, m.spec.Time.Size())
	m.workspace(0, false)
	return m, nil
}

// workspace returns worker w's scratch, allocating it (and its tangent buffers when
// tangents is set) on first use.
func (m *MLP) workspace(w int, tangents bool) *workspace {
	for len(m.ws) <= w {
		m.ws = append(m.ws, nil)
	}
	ws := m.ws[w]
	size := blockRows*m.width + groupRows // + slack, see gemm
	if ws == nil {
		ws = &workspace{}
		for k := range ws.h {
			ws.h[k] = make([]float32, size)
		}
		m.ws[w] = ws
	}
	if tangents && ws.pre == nil {
		for k := range ws.t {
			ws.t[k] = make([]float32, size)
		}
		ws.pre = make([]float32, size)
		for range m.layers[:len(m.layers)-1] {
			ws.deriv = append(ws.deriv, make([]float32, size))
		}
	}
	return ws
}

// Clone returns an MLP sharing m's parameters with scratch of its own, for another goroutine.
func (m *MLP) Clone() *MLP {
	c := &MLP{spec: m.spec, act: m.act, epi: m.epi, layers: m.layers, width: m.width}
	c.tfea = make([]float32, len(m.tfea))
	c.workspace(0, false)
	return c
}

// Spec returns the network's shape.
func (m *MLP) Spec() MLPSpec { return m.spec }

// Dim is the data dimension d.
func (m *MLP) Dim() int { return m.spec.Dim }

// Velocity writes v_θ(x, t) for each row of x (n×d) into dst (n×d).
func (m *MLP) Velocity(dst, x []float32, t float64) {
	m.checkBatch(x)
	checkLen("Velocity dst", len(dst), len(x))
	m.start(t, call{op: opVelocity, x: x, dst: dst})
}

// VelocityJVP writes v_θ(x, t) into dst and the Jacobian-vector product (∂v/∂x)·v
// for each row into jv. x, v, dst and jv are n×d.
func (m *MLP) VelocityJVP(dst, jv, x, v []float32, t float64) {
	m.checkBatch(x)
	checkLen("Velocity dst", len(dst), len(x))
	checkLen("tangent", len(v), len(x))
	checkLen("tangent output", len(jv), len(x))
	m.start(t, call{op: opJVP, x: x, dst: dst, v: v, jv: jv})
}

// VelocityDiv writes v_θ(x, t) into dst and its exact divergence, the trace of ∂v/∂x,
// for each row into div (n values). It costs about d+1 forward passes.
func (m *MLP) VelocityDiv(dst, div, x []float32, t float64) {
	m.checkBatch(x)
	checkLen("Velocity dst", len(dst), len(x))
	checkLen("VelocityDiv", len(div), len(x)/m.spec.Dim)
	m.start(t, call{op: opDiv, x: x, dst: dst, div: div})
}

func checkLen(what string, got, want int) {
	if got != want {
		panic(fmt.Sprintf("sampler: %s: length %d, want %d", what, got, want))
	}
}

func (m *MLP) checkBatch(x []float32) {
	if d := m.spec.Dim; len(x)%d != 0 {
		panic(fmt.Sprintf("sampler: mlp: batch length %d is not a multiple of dim %d", len(x), d))
	}
}

// start evaluates c at time t, spread over workers when the batch is large enough.
func (m *MLP) start(t float64, c call) {
	m.spec.Time.Features(m.tfea, t)
	m.call = c
	n := len(c.x) / m.spec.Dim
	workers := workersFor(n, blockRows)
	for w := 0; w < workers; w++ {
		m.workspace(w, c.op != opVelocity)
	}
	m.job.run(m, n, blockRows, workers)
	m.call = call{} // keep no reference to the caller's slices
}

// rows evaluates rows [lo, hi) of the current call with worker w's scratch, block by
// block.
func (m *MLP) rows(w, lo, hi int) {
	ws := m.ws[w]
	for r0 := lo; r0 < hi; r0 += blockRows {
		m.block(ws, r0, min(blockRows, hi-r0))
	}
}

// block evaluates rows [r0, r0+rows) of the current call: the forward pass, then for a
// JVP one tangent pass, for the divergence one per input coordinate.
func (m *MLP) block(ws *workspace, r0, rows int) {
	c := &m.call
	d := m.spec.Dim
	groups := (rows + groupRows - 1) / groupRows
	kp0, np := m.layers[0].kp, m.layers[len(m.layers)-1].np
	loadRows(ws.h[0], c.x[r0*d:(r0+rows)*d], d, rows, groups, kp0, m.tfea)
	storeRows(c.dst[r0*d:(r0+rows)*d], m.forward(ws, groups, c.op != opVelocity), d, rows, np)
	switch c.op {
	case opJVP:
		loadRows(ws.t[0], c.v[r0*d:(r0+rows)*d], d, rows, groups, kp0, nil)
		storeRows(c.jv[r0*d:(r0+rows)*d], m.tangent(ws, groups), d, rows, np)
	case opDiv:
		m.divergence(ws, groups, c.div[r0:r0+rows])
	}
}

// forward runs the groups loaded into ws.h[0] through every layer and returns the
// buffer holding the output. With derivs, it keeps act'(z) of each hidden layer in
// ws.deriv, which linearises the network at these points for the tangent passes.
func (m *MLP) forward(ws *workspace, groups int, derivs bool) []float32 {
	cur := 0
	for l := range m.layers {
		var deriv []float32
		if derivs && l < len(m.layers)-1 {
			deriv = ws.deriv[l]
		}
		m.layer(l, groups, ws.h[1-cur], ws.h[cur], deriv, ws.pre)
		cur = 1 - cur
	}
	return ws.h[cur]
}

// layer writes layer l's output for groups groups of src into dst: act(W·src + b), or
// W·src + b for the last layer. With deriv set, it also writes act'(W·src + b) into
// deriv; pre is scratch for when the kernels cannot do that themselves.
func (m *MLP) layer(l, groups int, dst, src, deriv, pre []float32) {
	ly := &m.layers[l]
	aS, dS := ly.kp*groupRows, ly.np*groupRows
	n := groups * dS
	switch {
	case l == len(m.layers)-1:
		gemm(dst, src, ly, ly.b, groups, aS, dS, epiNone, nil)
	case deriv == nil && m.epi != epiNone:
		gemm(dst, src, ly, ly.b, groups, aS, dS, m.epi, nil)
	case deriv == nil:
		gemm(dst, src, ly, ly.b, groups, aS, dS, epiNone, nil)
		m.act.apply(dst[:n], dst[:n])
	case m.act == actSiLU:
		gemm(dst, src, ly, ly.b, groups, aS, dS, epiSiLUDeriv, deriv)
	default:
		gemm(pre, src, ly, ly.b, groups, aS, dS, epiNone, nil)
		m.act.derive(dst[:n], deriv[:n], pre[:n])
	}
}

// tangent carries the tangents loaded into ws.t[0] through the network linearised by
// the last forward pass, giving (∂v/∂x)·t, and returns the buffer holding them.
func (m *MLP) tangent(ws *workspace, groups int) []float32 {
	cur := 0
	last := len(m.layers) - 1
	for l := range m.layers {
		ly := &m.layers[l]
		epi, deriv := epiMul, []float32(nil)
		if l < last {
			deriv = ws.deriv[l]
		} else {
			epi = epiNone
		}
		gemm(ws.t[1-cur], ws.t[cur], ly, ly.zero, groups, ly.kp*groupRows, ly.np*groupRows, epi, deriv)
		cur = 1 - cur
	}
	return ws.t[cur]
}

// divergence writes the trace of ∂v/∂x for each row of the groups that the last forward
// pass ran into div: one tangent pass per input coordinate k, with tangent e_k, gives
// the diagonal entry ∂v_k/∂x_k.
func (m *MLP) divergence(ws *workspace, groups int, div []float32) {
	kp0, np := m.layers[0].kp, m.layers[len(m.layers)-1].np
	clear(div)
	for k := 0; k < m.spec.Dim; k++ {
		// The tangent e_k: one-hot feature k in every row.
		t0 := ws.t[0][:groups*kp0*groupRows]
		clear(t0)
		for g := 0; g < groups; g++ {
			o := t0[g*kp0*groupRows+k*groupRows:][:groupRows]
			for r := range o {
				o[r] = 1
			}
		}
		res := m.tangent(ws, groups)
		for r := range div {
			g, rr := r/groupRows, r%groupRows
			div[r] += res[g*np*groupRows+k*groupRows+rr]
		}
	}
}

// loadRows writes rows rows of x (rows×d), each followed by the time features feat,
// into groups groups of width kp; every other value (padding rows and features) is zero.
func loadRows(dst, x []float32, d, rows, groups, kp int, feat []float32) {
	for g := 0; g < groups; g++ {
		grp := dst[g*kp*groupRows : (g+1)*kp*groupRows]
		n := min(groupRows, rows-g*groupRows)
		xs := x[g*groupRows*d : (g*groupRows+n)*d]
		for k := 0; k < d; k++ {
			col := grp[k*groupRows : (k+1)*groupRows]
			for r := 0; r < n; r++ {
				col[r] = xs[r*d+k]
			}
			clear(col[n:])
		}
		for k, v := range feat {
			col := grp[(d+k)*groupRows : (d+k+1)*groupRows]
			for r := range col {
				col[r] = v
			}
		}
		clear(grp[(d+len(feat))*groupRows:])
	}
}

// storeRows writes the first d features of rows rows of src (groups of width np) into
// dst (rows×d).
func storeRows(dst, src []float32, d, rows, np int) {
	for r := 0; r < rows; r++ {
		g, rr := r/groupRows, r%groupRows
		grp := src[g*np*groupRows:]
		for k := 0; k < d; k++ {
			dst[r*d+k] = grp[k*groupRows+rr]
		}
	}
}

type act int

const (
	actSiLU act = iota
	actReLU
	actTanh
	actSELU
	actGELU
)

func activation(name string) (act, error) {
	switch name {
	case "", ActSiLU:
		return actSiLU, nil
	case ActReLU:
		return actReLU, nil
	case ActTanh:
		return actTanh, nil
	case ActSELU:
		return actSELU, nil
	case ActGELU:
		return actGELU, nil
	}
	return 0, errors.New("unknown activation " + fmt.Sprintf("%q", name) + " (want silu, relu, tanh, selu or gelu)")
}
