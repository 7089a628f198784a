package trainer

import (
	"math/rand/v2"
)

// prefetch draws the batches of a run ahead of the training loop, in its own goroutine,
// so that data generation (above all the OT pairing, a few milliseconds a batch)
// overlaps the libtorch step instead of adding to it. Batches come out in the order
// the sequential batcher would make them, so runs stay deterministic; each carries the
// data stream's RNG state after it was drawn, which is what a checkpoint taken after
// training on it must record.
type prefetch struct {
	out  chan *batch
	free chan *batch
	done chan struct{}
}

type batch struct {
	x, u []float32
	rng  []byte // the PCG state after drawing this batch
	err  error
}

// startPrefetch starts drawing n batches from b, whose random stream is pcg.
func startPrefetch(b *batcher, pcg *rand.PCG, n int) *prefetch {
	const depth = 2
	p := &prefetch{out: make(chan *batch, depth), free: make(chan *batch, depth+1), done: make(chan struct{})}
	in, d := b.spec.InputDim(), b.spec.Dim
	for i := 0; i < depth+1; i++ {
		p.free <- &batch{x: make([]float32, b.n*in), u: make([]float32, b.n*d)}
	}
	go func() {
		defer close(p.out)
		for k := 0; k < n; k++ {
			var bt *batch
			select {
			case bt = <-p.free:
			case <-p.done:
				return
			}
			bt.err = b.next(bt.x, bt.u)
			if bt.err == nil {
				bt.rng, bt.err = pcg.MarshalBinary()
			}
			select {
			case p.out <- bt:
			case <-p.done:
				return
			}
			if bt.err != nil {
				return
			}
		}
	}()
	return p
}

// next returns the next batch; give it back with release once copied.
func (p *prefetch) next() *batch { return <-p.out }

func (p *prefetch) release(bt *batch) { p.free <- bt }

// stop ends the producer.
func (p *prefetch) stop() { close(p.done) }
