package trainer

import (
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/train/internal/ot"
)

// batcher draws training batches in pure Go: data x1 from the dataset, noise x0 from
// the path's source N(0, s0² I), times t ~ U[0, TMax], optionally re-paired by an exact
// OT assignment, then (x_t, u_t) by sampler.Interpolate — the very function the sampler
// package defines the paths with — and the network input [x_t, features(t)] by the
// sampler's own TimeEmbedding.Features. What the trainer regresses on is therefore
// exactly what the sampler integrates.
type batcher struct {
	data     string
	path     sampler.Path
	coupling string
	spec     sampler.MLPSpec
	rng      *rand.Rand
	n        int

	x0, x1, x1p, xt, ut []float32
	t                   []float64
	group               int // OT pairing group size
	cost                []float64
	perm                []int
	ot                  ot.Solver
}

func newBatcher(cfg *Config, rng *rand.Rand) (*batcher, error) {
	path, err := sampler.NewPath(cfg.Path)
	if err != nil {
		return nil, err
	}
	spec := cfg.Spec()
	n, d := cfg.Batch, spec.Dim
	b := &batcher{data: cfg.Data, path: path, coupling: cfg.Coupling, spec: spec, rng: rng, n: n,
		x0: make([]float32, n*d), x1p: make([]float32, n*d), xt: make([]float32, n*d), ut: make([]float32, n*d),
		t: make([]float64, n)}
	if cfg.Coupling == CouplingOT {
		b.group = min(cfg.OTGroup, n)
		b.cost = make([]float64, b.group*b.group)
		b.perm = make([]int, b.group)
		b.ot.Tol = 1e-7
	}
	return b, nil
}

// draw fills x0, x1 and t for one batch. The order of random draws is fixed: data,
// then noise, then times.
func (b *batcher) draw() error {
	x1, err := dataset.Sample(b.data, b.n, b.rng)
	if err != nil {
		return err
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
	if b.coupling == CouplingOT {
		return b.pair()
	}
	return nil
}

// pair re-orders x1 so that within each group of OTGroup consecutive rows, x0[i] goes
// with the x1 that the optimal assignment minimising Σ‖x0_i − x1_σ(i)‖² gives it: the
// minibatch OT plan of OT-CFM (Tong et al. 2023), on minibatches of OTGroup points.
// (An exact assignment costs up to O(n³); groups of 128 keep it to about a
// millisecond each, drawn ahead of the training step by the prefetcher. On the 2D toys
// this pairing already makes the learned paths nearly straight: 2-step Euler samples
// of moons land at 1.5× the W2 floor, against 12× with independent pairing.)
func (b *batcher) pair() error {
	d := b.spec.Dim
	for g0 := 0; g0 < b.n; g0 += b.group {
		m := min(b.group, b.n-g0)
		cost := b.cost[:m*m]
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
		perm := b.perm[:m]
		b.ot.Assign(cost, m, perm)
		for i, j := range perm {
			copy(b.x1p[(g0+i)*d:(g0+i+1)*d], b.x1[(g0+j)*d:(g0+j+1)*d])
		}
	}
	b.x1, b.x1p = b.x1p, b.x1
	return nil
}

// next draws a batch and writes the network input rows [x_t, features(t)] into x
// (n × InputDim) and the targets u_t into u (n × Dim).
func (b *batcher) next(x, u []float32) error {
	if err := b.draw(); err != nil {
		return err
	}
	if err := sampler.Interpolate(b.path, b.xt, u, b.x0, b.x1, b.t); err != nil {
		return err
	}
	d, in := b.spec.Dim, b.spec.InputDim()
	for i := 0; i < b.n; i++ {
		copy(x[i*in:i*in+d], b.xt[i*d:(i+1)*d])
		b.spec.Time.Features(x[i*in+d:(i+1)*in], b.t[i])
	}
	return nil
}
