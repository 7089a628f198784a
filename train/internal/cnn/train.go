package cnn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"

	"github.com/flowmatch/flowmatch/classifier"
	"github.com/flowmatch/flowmatch/dataset"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"
)

// Options choose the training run. The zero value is the shipped recipe.
type Options struct {
	Epochs int     // passes over the training set (default 4)
	Batch  int     // images per step (default 128)
	LR     float64 // Adam's peak learning rate, cosine-decayed to 0 (default 2e-3)
	Seed   uint64
	// Step, if set, is called after every step with the steps done, out of the total,
	// and the loss.
	Step func(done, total int, loss float64)
	// Epoch, if set, is called after every epoch with its number (from 1) and the test
	// accuracy of the exported network then.
	Epoch func(epoch int, acc float64)
}

func (o *Options) fill() error {
	if o.Epochs == 0 {
		o.Epochs = 4
	}
	if o.Batch == 0 {
		o.Batch = 128
	}
	if o.LR == 0 {
		o.LR = 2e-3
	}
	if o.Epochs < 1 || o.Batch < 1 || !(o.LR > 0) || math.IsInf(o.LR, 0) {
		return fmt.Errorf("cnn: epochs %d, batch %d, lr %g: want positive", o.Epochs, o.Batch, o.LR)
	}
	return nil
}

// Train fits m to train with Adam and a cosine learning rate, each image flipped left
// to right with probability ½, and returns the last step's loss. Images are
// dataset.Images in [-1, 1], fed to the network as intensities in [0, 1].
func Train(m *Model, train, test *dataset.Images, o Options) (float64, error) {
	if err := o.fill(); err != nil {
		return 0, err
	}
	// libtorch's grad mode is per OS thread: a goroutine that moved between threads
	// would find it off where a ts.NoGrad on another thread left it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	opt, err := nn.DefaultAdamConfig().Build(m.VS, o.LR)
	if err != nil {
		return 0, fmt.Errorf("cnn: %w", err)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 11))
	per := train.N / o.Batch
	total, step := per*o.Epochs, 0
	var loss float64
	for e := 1; e <= o.Epochs; e++ {
		perm := rng.Perm(train.N)
		for b := range per {
			opt.SetLR(o.LR * 0.5 * (1 + math.Cos(math.Pi*float64(step)/float64(total))))
			x, y := batch(train, perm[b*o.Batch:(b+1)*o.Batch], rng)
			logits := m.Forward(x, true)
			l := logits.CrossEntropyForLogits(y)
			if err := opt.BackwardStep(l); err != nil {
				return 0, fmt.Errorf("cnn: step %d: %w", step, err)
			}
			loss = l.Float64Values()[0]
			for _, t := range []*ts.Tensor{x, y, logits, l} {
				t.MustDrop()
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return loss, fmt.Errorf("cnn: step %d: loss %v", step, loss)
			}
			step++
			if o.Step != nil {
				o.Step(step, total, loss)
			}
		}
		if o.Epoch != nil {
			acc, err := Accuracy(m, test)
			if err != nil {
				return loss, err
			}
			o.Epoch(e, acc)
		}
	}
	return loss, nil
}

// batch builds one step's B×1×S×S input, intensities in [0, 1], each image flipped
// left to right with probability ½, and its labels.
func batch(d *dataset.Images, idx []int, rng *rand.Rand) (x, y *ts.Tensor) {
	s, dim := d.W, d.Dim()
	xs := make([]float32, len(idx)*dim)
	ys := make([]int64, len(idx))
	for i, j := range idx {
		src, dst := d.X[j*dim:(j+1)*dim], xs[i*dim:(i+1)*dim]
		flip := rng.IntN(2) == 1
		for r := range d.H {
			for c := range s {
				cc := c
				if flip {
					cc = s - 1 - c
				}
				dst[r*s+c] = (src[r*s+cc] + 1) / 2
			}
		}
		ys[i] = int64(d.Y[j])
	}
	x = ts.MustOfSlice(xs).MustView([]int64{int64(len(idx)), 1, int64(d.H), int64(s)}, true)
	return x, ts.MustOfSlice(ys)
}

// Accuracy is the exported network's accuracy on d, computed by package classifier.
func Accuracy(m *Model, d *dataset.Images) (float64, error) {
	net, err := classifier.New(m.Spec, m.Export())
	if err != nil {
		return 0, err
	}
	return classifier.Accuracy(net, Pixels(d), labels(d)), nil
}

// Pixels returns d's images as intensities in [0, 1].
func Pixels(d *dataset.Images) []float32 {
	x := make([]float32, len(d.X))
	for i, v := range d.X {
		x[i] = (v + 1) / 2
	}
	return x
}

func labels(d *dataset.Images) []int {
	y := make([]int, len(d.Y))
	for i, v := range d.Y {
		y[i] = int(v)
	}
	return y
}
