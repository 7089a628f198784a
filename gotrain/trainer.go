package gotrain

import (
	"errors"
	"fmt"
	"math"

	"github.com/flowmatch/flowmatch/recipe"
	"github.com/flowmatch/flowmatch/sampler"
)

// Trainer trains one network. Its memory is allocated by New; a step reuses it. It is
// not safe for concurrent use.
type Trainer struct {
	cfg    Config
	spec   sampler.MLPSpec
	shapes [][2]int
	batch  *recipe.Batcher
	pf     *recipe.Prefetcher // with Config.Prefetch, from the first step until Close
	closed bool
	sched  recipe.Schedule
	opt    recipe.AdamW
	steps  int
	loss   float64 // smoothed (recipe.SmoothLoss)
	last   float64 // the last step's loss

	// Flat vectors in recipe.Flatten's layout: parameters, gradient, Adam's moments,
	// and the EMA.
	P, G, M, V, E []float32
	// The batch, row-major: inputs, targets, the output and its gradient.
	x, u, out, gout []float32
	// Per layer l, in the kernels' blocked layout: in[l] is its input (the batch, then
	// the hidden activations), act[l] its output, deriv[l] SiLU' of a hidden layer's
	// pre-activation, and gz[l] the loss's gradient with respect to its pre-activation.
	in        []*sampler.Blocked
	act       []sampler.Blocked
	deriv, gz []sampler.Blocked
	mm        sampler.MatMul
}

// New validates cfg, fills in its defaults and initialises the network
// (recipe.InitParams on the seed), the optimiser and the batch stream.
func New(cfg Config) (*Trainer, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	b, err := recipe.NewStream(cfg.Data, cfg.Seed) // the data's errors first
	if err != nil {
		return nil, fmt.Errorf("gotrain: %w", err)
	}
	spec := cfg.Spec()
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("gotrain: %w", err)
	}
	t := &Trainer{cfg: cfg, spec: spec, shapes: spec.LayerShapes(), batch: b,
		sched: recipe.Schedule{LR: cfg.LR, Warmup: cfg.Warmup, Steps: cfg.Steps, MinLRFrac: cfg.MinLRFrac},
		opt:   recipe.AdamW{Beta1: cfg.Beta1, Beta2: cfg.Beta2, Eps: cfg.AdamEps, WeightDecay: cfg.WeightDecay}}
	t.mm.Workers = cfg.Workers
	t.P = recipe.InitParams(t.shapes, cfg.Seed)
	n := len(t.P)
	t.G, t.M, t.V = make([]float32, n), make([]float32, n), make([]float32, n)
	t.E = append([]float32(nil), t.P...)
	t.alloc()
	return t, nil
}

// alloc makes the batch's buffers.
func (t *Trainer) alloc() {
	B, L := t.cfg.Data.Batch, len(t.shapes)
	t.x = make([]float32, B*t.spec.InputDim())
	t.u = make([]float32, B*t.spec.Dim)
	t.out = make([]float32, B*t.spec.Dim)
	t.gout = make([]float32, B*t.spec.Dim)
	t.act = make([]sampler.Blocked, L)
	t.deriv = make([]sampler.Blocked, L)
	t.gz = make([]sampler.Blocked, L)
	t.in = []*sampler.Blocked{{}}
	t.in[0].Resize(B, t.spec.InputDim())
	for l, sh := range t.shapes {
		t.act[l].Resize(B, sh[0])
		t.deriv[l].Resize(B, sh[0])
		t.gz[l].Resize(B, sh[0])
		if l < L-1 {
			t.in = append(t.in, &t.act[l])
		}
	}
}

// layer returns views of layer l's weight ([out][in]) and bias in the flat vector p.
func (t *Trainer) layer(p []float32, l int) (w, b []float32) {
	off := 0
	for _, sh := range t.shapes[:l] {
		off += sh[0]*sh[1] + sh[0]
	}
	out, in := t.shapes[l][0], t.shapes[l][1]
	return p[off : off+out*in], p[off+out*in : off+out*in+out]
}

// Step takes one optimiser step on the next batch and returns the batch's loss (before
// the update). A non-finite loss or gradient is an error, and leaves the weights, the
// optimiser and the step count as they were (the batch is consumed).
func (t *Trainer) Step() (float64, error) {
	if err := t.next(); err != nil {
		return 0, fmt.Errorf("gotrain: step %d: %w", t.steps+1, err)
	}
	loss := t.lossAndGrad(t.x, t.u)
	norm := recipe.GradNorm(t.G)
	s := t.steps
	lr := t.sched.At(s)
	if math.IsNaN(loss) || math.IsInf(loss, 0) || math.IsNaN(norm) || math.IsInf(norm, 0) {
		return loss, fmt.Errorf("%w at step %d: loss %v, gradient norm %v (lr %.3g): try a lower learning rate or a longer warmup",
			errNotFinite, s+1, loss, norm, lr)
	}
	t.opt.Update(t.P, t.G, t.M, t.V, s+1, lr, recipe.ClipScale(norm, t.cfg.Clip))
	recipe.EMAUpdate(t.E, t.P, recipe.EMADecay(t.cfg.EMA, s))
	t.loss = recipe.SmoothLoss(t.loss, loss, s)
	t.last = loss
	t.steps++
	return loss, nil
}

// next draws the next batch into x and u: from the prefetcher while it has batches
// (it draws the first Steps), then from the stream itself.
func (t *Trainer) next() error {
	if t.closed {
		return errors.New("the trainer is closed")
	}
	if t.cfg.Prefetch && t.pf == nil && t.steps < t.cfg.Steps {
		t.pf = t.batch.Prefetch(t.cfg.Steps - t.steps)
	}
	if t.pf != nil {
		if bt := t.pf.Next(); bt != nil {
			copy(t.x, bt.X)
			copy(t.u, bt.U)
			err := bt.Err
			t.pf.Release(bt)
			return err
		}
		t.pf.Stop() // it has sent its batches and owns the stream no more
		t.pf, t.cfg.Prefetch = nil, false
	}
	return t.batch.Next(t.x, t.u)
}

// Close stops the goroutine that Config.Prefetch starts. A closed trainer takes no
// more steps (the batches drawn ahead are gone); the other methods still work.
func (t *Trainer) Close() {
	if t.pf != nil {
		t.pf.Stop()
		t.pf = nil
	}
	t.closed = true
}

// lossAndGrad runs the network with P on the input rows x, returns the MSE against the
// targets u, and leaves its gradient with respect to P in G.
func (t *Trainer) lossAndGrad(x, u []float32) float64 {
	t.in[0].Load(x)
	t.forward(t.P)
	L := len(t.shapes)
	t.act[L-1].Store(t.out)
	loss := recipe.MSE(t.gout, t.out, u)
	t.gz[L-1].Load(t.gout)
	t.backward()
	return loss
}

// forward computes act[L−1], the output, from in[0] with the parameters p, keeping
// each hidden layer's SiLU' for the backward pass.
func (t *Trainer) forward(p []float32) {
	L := len(t.shapes)
	for l, sh := range t.shapes {
		w, b := t.layer(p, l)
		o := sampler.BlockedOpts{Bias: b}
		if l < L-1 {
			o.Epi, o.Aux = sampler.EpiSiLUDeriv, &t.deriv[l]
		}
		t.mm.MulBlocked(&t.act[l], t.in[l], w, sh[0], o)
	}
}

// backward writes the gradient of the loss into G from gz[L−1], the loss's gradient
// with respect to the output, layer by layer from the last, as the libtorch trainer's
// engine does: dW = gzᵀ·in, db = Σ_rows gz, and, below the first layer,
// gz[l−1] = (gz·W) ⊙ SiLU'(z[l−1]).
func (t *Trainer) backward() {
	for l := len(t.shapes) - 1; l >= 0; l-- {
		gw, gb := t.layer(t.G, l)
		g := &t.gz[l]
		t.mm.MulTN(gw, g, t.in[l])
		g.ColSums(gb)
		if l > 0 {
			w, _ := t.layer(t.P, l)
			t.mm.MulBlocked(&t.gz[l-1], g, w, t.shapes[l][1],
				sampler.BlockedOpts{NoTransB: true, Epi: sampler.EpiMul, Aux: &t.deriv[l-1]})
		}
	}
}

// Steps is the number of steps taken.
func (t *Trainer) Steps() int { return t.steps }

// Loss is the smoothed loss (recipe.SmoothLoss) after the steps taken; 0 before any.
func (t *Trainer) Loss() float64 { return t.loss }

// LastLoss is the loss of the last step's batch.
func (t *Trainer) LastLoss() float64 { return t.last }

// Config is the run's configuration, with its defaults filled in.
func (t *Trainer) Config() Config { return t.cfg }

// Spec is the network's shape.
func (t *Trainer) Spec() sampler.MLPSpec {
	s := t.spec
	s.Hidden = append([]int(nil), s.Hidden...)
	return s
}

// EMA returns copies of the exported weights (the EMA; the raw weights when the EMA is
// off), per layer, in PyTorch's layout (recipe.Unflatten).
func (t *Trainer) EMA() (ws, bs [][]float32) { return recipe.Unflatten(t.shapes, t.E) }

// Network returns a sampler network on the exported (EMA) weights.
func (t *Trainer) Network() (*sampler.MLP, error) {
	ws, bs := t.EMA()
	return sampler.NewMLP(t.Spec(), ws, bs)
}

// Params returns a copy of the raw (not averaged) weights, in recipe.Flatten's layout.
func (t *Trainer) Params() []float32 { return append([]float32(nil), t.P...) }

// Gradient writes the gradient of the CFM loss at the current weights into grad
// (len(Params()) values) for the input rows x (Batch × InputDim, [x_t, features(t)],
// as recipe.Batcher.Next makes them) and targets u (Batch × Dim), and returns the loss.
// It changes no weights; it is how tests compare the trainer with autograd.
func (t *Trainer) Gradient(grad, x, u []float32) (float64, error) {
	B := t.cfg.Data.Batch
	if len(grad) != len(t.P) || len(x) != B*t.spec.InputDim() || len(u) != B*t.spec.Dim {
		return 0, fmt.Errorf("gotrain: Gradient: lengths %d, %d, %d, want %d, %d×%d, %d×%d",
			len(grad), len(x), len(u), len(t.P), B, t.spec.InputDim(), B, t.spec.Dim)
	}
	loss := t.lossAndGrad(x, u)
	copy(grad, t.G)
	return loss, nil
}
