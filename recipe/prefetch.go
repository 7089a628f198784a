package recipe

// Batch is one training batch as a trainer consumes it.
type Batch struct {
	X     []float32 // Batch × InputDim network input rows [x_t, features(t)]
	U     []float32 // Batch × Dim targets u_t
	State []byte    // the stream's state after drawing this batch (Batcher.State)
	Err   error     // why the batch could not be drawn (the last one sent)
}

// Prefetcher draws a batcher's batches ahead of the training loop, in its own
// goroutine, so that data generation (above all the OT pairing, a few milliseconds a
// batch) overlaps the training step instead of adding to it. Batches come out in the
// order Next would make them, so runs stay deterministic; each carries the stream's
// state after it was drawn, which is what a checkpoint taken after training on it must
// record. It holds three batches' memory (PrefetchDepth + 1).
type Prefetcher struct {
	out  chan *Batch
	free chan *Batch
	done chan struct{}
}

// PrefetchDepth is how many batches a Prefetcher draws ahead of the one in use.
const PrefetchDepth = 2

// Stream is what a Prefetcher draws batches from: a [Batcher], or another source of
// (input, target) rows with a resumable state, such as the trainer's image batches.
type Stream interface {
	// Sizes are a batch's rows, and the input and target values per row.
	Sizes() (rows, in, dim int)
	// Next fills a batch's inputs x (rows × in) and targets u (rows × dim).
	Next(x, u []float32) error
	// State is the stream's state after the batches drawn so far.
	State() ([]byte, error)
}

// Sizes are the batch's rows, the network's input width and the data dimension.
func (b *Batcher) Sizes() (rows, in, dim int) { return b.n, b.data.InputDim(), b.d }

// Prefetch starts drawing the next n batches of b in a goroutine, which owns b until
// Stop (or until it has sent n batches, or one with an error).
func (b *Batcher) Prefetch(n int) *Prefetcher { return NewPrefetcher(b, n) }

// NewPrefetcher starts drawing the next n batches of s in a goroutine, which owns s
// until Stop (or until it has sent n batches, or one with an error).
func NewPrefetcher(b Stream, n int) *Prefetcher {
	p := &Prefetcher{out: make(chan *Batch, PrefetchDepth), free: make(chan *Batch, PrefetchDepth+1), done: make(chan struct{})}
	rows, in, d := b.Sizes()
	for i := 0; i < PrefetchDepth+1; i++ {
		p.free <- &Batch{X: make([]float32, rows*in), U: make([]float32, rows*d)}
	}
	go func() {
		defer close(p.out)
		for k := 0; k < n; k++ {
			var bt *Batch
			select {
			case bt = <-p.free:
			case <-p.done:
				return
			}
			bt.Err = b.Next(bt.X, bt.U)
			if bt.Err == nil {
				bt.State, bt.Err = b.State()
			}
			select {
			case p.out <- bt:
			case <-p.done:
				return
			}
			if bt.Err != nil {
				return
			}
		}
	}()
	return p
}

// Next returns the next batch, or nil once the producer has stopped; give it back with
// Release once copied.
func (p *Prefetcher) Next() *Batch { return <-p.out }

// Release returns a batch's memory to the producer.
func (p *Prefetcher) Release(bt *Batch) { p.free <- bt }

// Stop ends the producer; call it once.
func (p *Prefetcher) Stop() { close(p.done) }
