package recipe

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// Data describes the batches of a run.
type Data struct {
	Dataset   string                // dataset name (dataset.Names()); with Points, the name recorded for them
	Points    []float32             // own data, if not nil: n × PointsDim values, row-major, in the network's space
	PointsDim int                   // the dimension of Points' rows
	Path      sampler.PathSpec      // probability path
	Coupling  string                // weights.CouplingIndependent (I-CFM) or weights.CouplingOT (OT-CFM)
	OTGroup   int                   // OT coupling: rows per exact assignment (the OT minibatch), capped at Batch
	Batch     int                   // rows per batch
	Time      sampler.TimeEmbedding // the network's time features, which the input rows end with
}

// Dim is the dimension of the data points (0 for an unknown dataset).
func (d Data) Dim() int {
	if d.Points != nil {
		return d.PointsDim
	}
	return dataset.Dim(d.Dataset)
}

// InputDim is the width of the network's input rows: Dim plus the time features.
func (d Data) InputDim() int { return d.Dim() + d.Time.Size() }

// Pairs are the points of one drawn batch: row i of X0 (noise) goes with row i of X1
// (data) at time T[i].
type Pairs struct {
	X0, X1 []float32 // Batch × Dim, row-major
	T      []float64 // Batch times in [0, TMax]
}

// Targets writes the batch's points on the path, x_t = A(t)·x1 + B(t)·x0, into xt and
// the conditional flow matching targets u_t = A'(t)·x1 + B'(t)·x0 into ut (both
// Batch × Dim), with sampler.Interpolate.
func (p Pairs) Targets(path sampler.Path, xt, ut []float32) error {
	return sampler.Interpolate(path, xt, ut, p.X0, p.X1, p.T)
}

// Inputs writes the network's input rows [x_t, features(t)] into x (n × (d + the
// embedding's Size), for n = len(t) rows of xt of d values each).
func Inputs(x, xt []float32, t []float64, time sampler.TimeEmbedding) {
	n := len(t)
	if n == 0 {
		return
	}
	d := len(xt) / n
	in := d + time.Size()
	for i := 0; i < n; i++ {
		copy(x[i*in:i*in+d], xt[i*d:(i+1)*d])
		time.Features(x[i*in+d:(i+1)*in], t[i])
	}
}

// Batcher draws a run's batches from one random stream. It is not safe for concurrent
// use.
type Batcher struct {
	data Data
	path sampler.Path
	src  *rand.PCG
	rng  *rand.Rand
	n, d int

	x0, x1, x1p, xt []float32
	own             [2][]float32 // own data's draws (drawData)
	t               []float64
	pairing         *otPairing // nil for independent pairing
}

// otPairing is the minibatch-OT coupling's working memory.
type otPairing struct {
	group int
	cost  []float64
	perm  []int
	ot    auction
}

// NewStream returns the batches of a run with this seed: those of the stream
// rand.NewPCG(seed, StreamData).
func NewStream(d Data, seed uint64) (*Batcher, error) {
	return NewBatcher(d, rand.NewPCG(seed, StreamData))
}

// NewBatcher returns the batches of d drawn from src, which the batcher then owns.
func NewBatcher(d Data, src *rand.PCG) (*Batcher, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	path, err := sampler.NewPath(d.Path)
	if err != nil {
		return nil, err
	}
	n, dim := d.Batch, d.Dim()
	b := &Batcher{data: d, path: path, src: src, rng: rand.New(src), n: n, d: dim,
		x0: make([]float32, n*dim), x1p: make([]float32, n*dim), xt: make([]float32, n*dim),
		t: make([]float64, n)}
	if d.Coupling == weights.CouplingOT {
		g := min(d.OTGroup, n)
		b.pairing = &otPairing{group: g, cost: make([]float64, g*g), perm: make([]int, g)}
		b.pairing.ot.tol = 1e-7
	}
	return b, nil
}

func (d Data) validate() error {
	switch {
	case d.Points != nil && (d.PointsDim < 1 || len(d.Points) < d.PointsDim || len(d.Points)%d.PointsDim != 0):
		return fmt.Errorf("recipe: %d own data values do not make rows of %d", len(d.Points), d.PointsDim)
	case d.Dim() == 0:
		return fmt.Errorf("recipe: unknown dataset %q (want one of %s)", d.Dataset, strings.Join(dataset.Names(), ", "))
	case d.Batch < 1:
		return fmt.Errorf("recipe: batch %d, want at least 1", d.Batch)
	case d.Coupling != weights.CouplingIndependent && d.Coupling != weights.CouplingOT:
		return fmt.Errorf("recipe: unknown coupling %q (want %s or %s)", d.Coupling, weights.CouplingIndependent, weights.CouplingOT)
	case d.Coupling == weights.CouplingOT && d.OTGroup < 1:
		return fmt.Errorf("recipe: OT group %d, want at least 1", d.OTGroup)
	}
	switch d.Time.Kind {
	case "", sampler.TimeRaw:
		if d.Time.Freqs == 0 {
			return nil
		}
	case sampler.TimeFourier:
		if d.Time.Freqs >= 1 {
			return nil
		}
	}
	return fmt.Errorf("recipe: time embedding %q with %d frequencies (want %s, or %s with at least 1)",
		d.Time.Kind, d.Time.Freqs, sampler.TimeRaw, sampler.TimeFourier)
}

// Path is the batches' probability path, with its defaults filled in.
func (b *Batcher) Path() sampler.Path { return b.path }

// Data is what the batcher was made for.
func (b *Batcher) Data() Data { return b.data }

// Draw draws the next batch's points. The order of the random draws is fixed: data,
// then noise, then times; then, with the OT coupling, the pairing (which draws
// nothing). The slices are the batcher's, valid until the next Draw or Next.
func (b *Batcher) Draw() (Pairs, error) {
	x1, err := b.drawData()
	if err != nil {
		return Pairs{}, err
	}
	b.x1 = x1
	s0 := b.path.SourceStd()
	for i := range b.x0 {
		b.x0[i] = float32(s0 * b.rng.NormFloat64())
	}
	tmax := b.path.TMax()
	for i := range b.t {
		b.t[i] = tmax * b.rng.Float64()
	}
	if b.pairing != nil {
		b.pair()
	}
	return Pairs{X0: b.x0, X1: b.x1, T: b.t}, nil
}

// drawData draws Batch data points: from the named dataset, or Batch rows of Points
// chosen uniformly with replacement. Own rows go to whichever of two buffers pair
// is not using as its output (it swaps x1 with x1p), so a step allocates nothing.
func (b *Batcher) drawData() ([]float32, error) {
	pts := b.data.Points
	if pts == nil {
		return dataset.Sample(b.data.Dataset, b.n, b.rng)
	}
	d := b.d
	rows := len(pts) / d
	if b.own[0] == nil {
		b.own = [2][]float32{make([]float32, b.n*d), make([]float32, b.n*d)}
	}
	x1 := b.own[0]
	if &x1[0] == &b.x1p[0] {
		x1 = b.own[1]
	}
	for i := 0; i < b.n; i++ {
		j := b.rng.IntN(rows)
		copy(x1[i*d:(i+1)*d], pts[j*d:(j+1)*d])
	}
	return x1, nil
}

// pair re-orders x1 so that within each group of consecutive rows, x0[i] goes with the
// x1 that the optimal assignment minimising Σ‖x0_i − x1_σ(i)‖² gives it: the minibatch
// OT plan of OT-CFM (Tong et al. 2023), on minibatches of OTGroup points. (An exact
// assignment costs up to O(n³); groups of 128 keep it to about a millisecond each,
// drawn ahead of the training step by Prefetch. On the 2D toys this pairing already
// makes the learned paths nearly straight: 2-step Euler samples of moons land at 1.5×
// the W2 floor, against 12× with independent pairing.)
func (b *Batcher) pair() {
	p, d := b.pairing, b.d
	for g0 := 0; g0 < b.n; g0 += p.group {
		m := min(p.group, b.n-g0)
		cost := p.cost[:m*m]
		for i := 0; i < m; i++ {
			xi := b.x0[(g0+i)*d : (g0+i+1)*d]
			row := cost[i*m : (i+1)*m]
			for j := 0; j < m; j++ {
				xj := b.x1[(g0+j)*d : (g0+j+1)*d]
				s := 0.0
				for k := range xi {
					u := float64(xi[k] - xj[k])
					s += u * u
				}
				row[j] = s
			}
		}
		perm := p.perm[:m]
		p.ot.assign(cost, m, perm)
		for i, j := range perm {
			copy(b.x1p[(g0+i)*d:(g0+i+1)*d], b.x1[(g0+j)*d:(g0+j+1)*d])
		}
	}
	b.x1, b.x1p = b.x1p, b.x1
}

// Next draws a batch and writes the network input rows [x_t, features(t)] into x
// (Batch × InputDim) and the targets u_t into u (Batch × Dim).
func (b *Batcher) Next(x, u []float32) error {
	p, err := b.Draw()
	if err != nil {
		return err
	}
	if err := p.Targets(b.path, b.xt, u); err != nil {
		return err
	}
	Inputs(x, b.xt, p.T, b.data.Time)
	return nil
}

// State is the stream's state (the PCG's MarshalBinary): restored with SetState, the
// batcher draws the batches that followed.
func (b *Batcher) State() ([]byte, error) { return b.src.MarshalBinary() }

// SetState restores a state that State returned.
func (b *Batcher) SetState(state []byte) error { return b.src.UnmarshalBinary(state) }
