package tt

import (
	"unsafe"

	lib "github.com/sugarme/gotch/libtch"
)

// Graph issues differentiable ops for networks whose backward pass is not written out
// by hand (the U-Net, the classifier): each op allocates its result, and libtorch's
// autograd records it. The Graph keeps every handle it returns and frees them all at
// Release, after the step's backward pass, so a step still leaks nothing: the handles
// are C pointers only, with no Go object or finalizer behind them. The tensors that
// autograd saved for backward stay alive inside libtorch until the graph is gone.
//
// Parameters live in one flat vector, as in the MLP's engine: Leaf makes a
// gradient-tracking alias of each tensor's view of it for one step, and Grad's results
// are copied back into the matching views of the flat gradient, so the optimiser stays
// a handful of ops on flat vectors. (One leaf for the whole vector, viewed per tensor,
// made each view's backward allocate a gradient of the whole vector.)
type Graph struct {
	C    *Ctx
	held []T
}

// keep records the handle an op returned.
func (g *Graph) keep(op string) T {
	t := g.C.keep(op)
	if t != nil {
		g.held = append(g.held, t)
	}
	return t
}

// ok reports whether an op may run: no error so far and every input present. After a
// failure the ops return nil without calling libtorch, which would dereference it.
func (g *Graph) ok(ts ...T) bool {
	if g.C.Err != nil {
		return false
	}
	for _, t := range ts {
		if t == nil {
			return false
		}
	}
	return true
}

// CopyOut copies src into dst with autograd's recording off. Recorded, a copy_ from a
// tensor of the graph would give dst a history: dst would keep this step's graph
// alive, and with it every earlier step's, a leak that grows step after step.
func (g *Graph) CopyOut(dst, src T) {
	if !g.ok(dst, src) {
		return
	}
	prev := GradEnabled(false)
	g.C.Copy_(dst, src)
	GradEnabled(prev)
}

// Release frees every handle the graph made since the last Release.
func (g *Graph) Release() {
	for _, t := range g.held {
		g.C.Free(t)
	}
	g.held = g.held[:0]
}

// Leaf returns a new tensor that shares flat's storage and requires its gradient.
func (g *Graph) Leaf(flat T) T {
	if !g.ok(flat) {
		return nil
	}
	lib.AtgDetach(g.C.slot(), flat)
	t := g.keep("detach")
	if t == nil {
		return nil
	}
	lib.AtgRequiresGrad_(g.C.slot(), t, 1)
	g.C.done("requires_grad_")
	return t
}

// Grad returns the gradient a backward pass left in leaf (nil before one).
func (g *Graph) Grad(leaf T) T {
	if !g.ok(leaf) {
		return nil
	}
	lib.AtgGrad(g.C.slot(), leaf)
	return g.keep("grad")
}

// Backward runs the backward pass from a scalar loss.
func (g *Graph) Backward(loss T) {
	if !g.ok(loss) {
		return
	}
	g.C.Calls++
	lib.AtBackward(loss, 0, 0)
	g.C.check("backward")
}

// View returns t viewed with a new shape (−1 infers one extent).
func (g *Graph) View(t T, shape ...int64) T {
	if !g.ok(t) {
		return nil
	}
	lib.AtgView(g.C.slot(), t, shape, len(shape))
	return g.keep("view")
}

var one2, zero2 = []int64{1, 1}, []int64{0, 0}

// Conv2d is a stride-1 convolution of NCHW x with weight [out, in, k, k] and bias
// [out], padded by pad on every side.
func (g *Graph) Conv2d(x, w, b T, pad int64) T {
	if !g.ok(x, w) {
		return nil
	}
	p := []int64{pad, pad}
	lib.AtgConv2d(g.C.slot(), x, w, b, one2, 2, p, 2, one2, 2, 1)
	return g.keep("conv2d")
}

// GroupNorm normalises NCHW x over groups of channels (eps 1e-5, PyTorch's default),
// then scales and shifts each channel by w and b.
func (g *Graph) GroupNorm(x T, groups int64, w, b T) T {
	if !g.ok(x, w, b) {
		return nil
	}
	lib.AtgGroupNorm(g.C.slot(), x, groups, w, b, 1e-5, 1)
	return g.keep("group_norm")
}

// SiLU is x·σ(x).
func (g *Graph) SiLU(x T) T {
	if !g.ok(x) {
		return nil
	}
	lib.AtgSilu(g.C.slot(), x)
	return g.keep("silu")
}

// ReLU is max(x, 0).
func (g *Graph) ReLU(x T) T {
	if !g.ok(x) {
		return nil
	}
	lib.AtgRelu(g.C.slot(), x)
	return g.keep("relu")
}

// AvgPool2 averages NCHW x over 2×2 blocks.
func (g *Graph) AvgPool2(x T) T {
	if !g.ok(x) {
		return nil
	}
	k := []int64{2, 2}
	lib.AtgAvgPool2d(g.C.slot(), x, k, 2, k, 2, zero2, 2, 0, 1, 0, 1)
	return g.keep("avg_pool2d")
}

// Upsample2 repeats each pixel of NCHW x, of height h and width w, into a 2×2 block.
func (g *Graph) Upsample2(x T, h, w int64) T {
	if !g.ok(x) {
		return nil
	}
	lib.AtgUpsampleNearest2d(g.C.slot(), x, []int64{2 * h, 2 * w}, 2, 0, 1, 0, 1)
	return g.keep("upsample_nearest2d")
}

// Cat concatenates tensors along dim.
func (g *Graph) Cat(dim int64, ts ...T) T {
	if !g.ok(ts...) {
		return nil
	}
	lib.AtgCat(g.C.slot(), ts, len(ts), dim)
	return g.keep("cat")
}

// Linear is x·wᵀ + b, for w [out, in].
func (g *Graph) Linear(x, w, b T) T {
	if !g.ok(x, w, b) {
		return nil
	}
	lib.AtgLinear(g.C.slot(), x, w, b)
	return g.keep("linear")
}

// Embedding gathers the rows of w at the int64 indices idx.
func (g *Graph) Embedding(w, idx T) T {
	if !g.ok(w, idx) {
		return nil
	}
	lib.AtgEmbedding(g.C.slot(), w, idx, -1, 0, 0)
	return g.keep("embedding")
}

// Add is a + b, broadcasting.
func (g *Graph) Add(a, b T) T {
	if !g.ok(a, b) {
		return nil
	}
	lib.AtgAdd(g.C.slot(), a, b)
	return g.keep("add")
}

// MSE is the mean of (a − b)² over every element.
func (g *Graph) MSE(a, b T) T {
	if !g.ok(a, b) {
		return nil
	}
	lib.AtgMseLoss(g.C.slot(), a, b, 1)
	return g.keep("mse_loss")
}

// CrossEntropy is the mean cross-entropy of logits [n, k] against int64 classes [n].
func (g *Graph) CrossEntropy(logits, classes T) T {
	if !g.ok(logits, classes) {
		return nil
	}
	lib.AtgCrossEntropyLoss(g.C.slot(), logits, classes, nil, 1, -100, 0)
	return g.keep("cross_entropy_loss")
}

// Longs allocates an int64 tensor of zeros (labels, indices).
func (c *Ctx) Longs(dev Device, shape ...int64) T {
	lib.AtgZeros(c.slot(), shape, len(shape), kLong, int32(dev))
	return c.keep("zeros")
}

// kLong is at::ScalarType::Long.
const kLong = 4

// Int64s returns the int64 storage of a contiguous CPU tensor of n elements as a Go
// slice, valid while the tensor lives.
func Int64s(t T, n int) []int64 {
	return unsafe.Slice((*int64)(lib.AtDataPtr(t)), n)
}

// GradEnabled switches libtorch's autograd recording on or off for this thread and
// returns the previous setting: off for evaluation passes, which then keep no graph.
func GradEnabled(on bool) bool {
	b := 0
	if on {
		b = 1
	}
	return lib.AtGradSetEnabled(b) == 1
}
