package trainer

import (
	"fmt"

	"github.com/flowmatch/flowmatch/recipe"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/train/internal/tt"
	"github.com/flowmatch/flowmatch/unet"
)

// engine holds the network, its gradients, the optimiser state and every activation
// buffer on the device, all allocated once. A step is a fixed sequence of out= ops on
// those buffers, with the backward pass written out by hand (the MLP's gradients are
// three formulas per layer), so a step allocates no tensors at all: no autograd graph,
// no temporaries, and nothing for gotch to leak.
//
// Parameters live in one flat vector P (layer by layer: weight [out][in] row-major,
// then bias), so AdamW, clipping and the EMA are a handful of ops on the whole vector
// rather than a handful per tensor. G (gradients), M and V (Adam moments) and E (EMA)
// have the same layout.
type engine struct {
	c      tt.Ctx
	dev    tt.Device
	spec   sampler.MLPSpec
	shapes [][2]int // {out, in} per layer
	n      int      // number of parameters
	batch  int

	P, G, M, V, E, tmp tt.T // flat [n]
	pv, ev, gv         views

	X, U, OUT tt.T   // input [B, in0], target [B, dim], output [B, dim]
	H, A      []tt.T // pre-activations and activations of hidden layers [B, h]
	GH, GA    []tt.T // their gradients; GH[L-1] is the output gradient [B, dim]
	in        []tt.T // input of layer l: X, A[0], ...
	GHT       []tt.T // transposed views of GH
	LOSS      tt.T   // 0-dim
	NORM      tt.T   // 0-dim

	// img, when set, is the network instead of the MLP: a U-Net differentiated by
	// libtorch's autograd (images_engine.go), with spec and shapes unused.
	img *unetNet

	// CPU staging when the device is CUDA (otherwise the same handles as above).
	hostX, hostU, hostLoss, hostNorm, hostFlat tt.T
	owned                                      []tt.T
}

// views are the per-layer weight and bias views into a flat parameter vector.
type views struct {
	W, WT, B []tt.T
}

// newEngine allocates every buffer of a run. A failed allocation (libtorch out of
// memory, a bad device) stops it at once with that error, before anything uses the
// missing buffer: a nil handle passed on to libtorch crashes the process.
func newEngine(spec sampler.MLPSpec, batch int, dev tt.Device) (*engine, error) {
	e := &engine{dev: dev, spec: spec, shapes: spec.LayerShapes(), batch: batch}
	e.n = recipe.NumParams(e.shapes)
	if err := e.allocFlat(); err != nil {
		return nil, err
	}
	e.pv = e.makeViews(e.P)
	e.ev = e.makeViews(e.E)
	e.gv = e.makeViews(e.G)
	e.allocLayers()
	if err := e.failed(); err != nil {
		return nil, err
	}
	e.allocRest()
	if err := e.failed(); err != nil {
		return nil, err
	}
	return e, nil
}

// newImageEngine allocates the buffers of a U-Net run: the flat vectors, and the
// batch's inputs (the activations are autograd's, made and freed each step).
func newImageEngine(u unet.Config, batch int, dev tt.Device) (*engine, error) {
	e := &engine{dev: dev, batch: batch, n: u.Params()}
	if err := e.allocFlat(); err != nil {
		return nil, err
	}
	e.allocScalars()
	e.img = newUNetNet(e, u)
	if err := e.failed(); err != nil {
		return nil, err
	}
	return e, nil
}

// allocFlat allocates the flat parameter-sized vectors P, G, M, V, E and tmp.
func (e *engine) allocFlat() error {
	n := int64(e.n)
	for _, t := range []*tt.T{&e.P, &e.G, &e.M, &e.V, &e.E, &e.tmp} {
		*t = e.zeros(e.dev, n)
	}
	return e.failed()
}

// allocLayers allocates the batch's buffers: input, target, output, and the
// pre-activations, activations and their gradients of every layer.
func (e *engine) allocLayers() {
	dev, B, L := e.dev, int64(e.batch), len(e.shapes)
	e.X = e.zeros(dev, B, int64(e.spec.InputDim()))
	e.U = e.zeros(dev, B, int64(e.spec.Dim))
	e.OUT = e.zeros(dev, B, int64(e.spec.Dim))
	e.in = append(e.in, e.X)
	for l := 0; l < L-1; l++ {
		h := int64(e.shapes[l][0])
		e.H = append(e.H, e.zeros(dev, B, h))
		e.A = append(e.A, e.zeros(dev, B, h))
		e.GH = append(e.GH, e.zeros(dev, B, h))
		e.GA = append(e.GA, e.zeros(dev, B, h))
		e.in = append(e.in, e.A[l])
	}
	e.GH = append(e.GH, e.zeros(dev, B, int64(e.spec.Dim)))
}

// allocRest makes the transposed gradient views, the loss and norm scalars, and the
// CPU staging buffers of a CUDA run (on CPU, the device buffers themselves).
func (e *engine) allocRest() {
	c, dev, B := &e.c, e.dev, int64(e.batch)
	for l := range e.shapes {
		t := c.Tr(e.GH[l])
		e.owned = append(e.owned, t)
		e.GHT = append(e.GHT, t)
	}
	e.allocScalars()
	e.hostX, e.hostU = e.X, e.U
	if dev != tt.CPU {
		e.hostX = e.zeros(tt.CPU, B, int64(e.spec.InputDim()))
		e.hostU = e.zeros(tt.CPU, B, int64(e.spec.Dim))
	}
}

// allocScalars makes the loss and norm scalars and the host copies of them and of a
// flat vector (on CPU, the device buffers themselves).
func (e *engine) allocScalars() {
	e.LOSS = e.newScalar(e.dev)
	e.NORM = e.newScalar(e.dev)
	e.hostLoss, e.hostNorm, e.hostFlat = e.LOSS, e.NORM, e.tmp
	if e.dev != tt.CPU {
		e.hostLoss = e.newScalar(tt.CPU)
		e.hostNorm = e.newScalar(tt.CPU)
		e.hostFlat = e.zeros(tt.CPU, int64(e.n))
	}
}

// zeros allocates and keeps a buffer; after a failure it allocates nothing more.
func (e *engine) zeros(d tt.Device, shape ...int64) tt.T {
	if e.c.Err != nil {
		return nil
	}
	t := e.c.Zeros(d, shape...)
	e.owned = append(e.owned, t)
	return t
}

// newScalar allocates and keeps a 0-dim buffer, like zeros.
func (e *engine) newScalar(d tt.Device) tt.T {
	if e.c.Err != nil {
		return nil
	}
	t := e.c.Scalar(d)
	e.owned = append(e.owned, t)
	return t
}

// failed reports an allocation failure, after releasing whatever was allocated.
func (e *engine) failed() error {
	if e.c.Err == nil {
		return nil
	}
	err := fmt.Errorf("trainer: allocating the buffers of batch %d and %d parameters on %s: %w", e.batch, e.n, devName(e.dev), e.c.Err)
	e.free()
	return err
}

func devName(dev tt.Device) string {
	if dev == tt.CPU {
		return "cpu"
	}
	return fmt.Sprintf("cuda:%d", dev)
}

func (e *engine) makeViews(flat tt.T) views {
	var v views
	if e.c.Err != nil || flat == nil {
		return v
	}
	off := int64(0)
	for _, sh := range e.shapes {
		out, in := int64(sh[0]), int64(sh[1])
		w := e.c.Narrow(flat, 0, off, out*in)
		W := e.c.View(w, out, in)
		e.c.Free(w)
		off += out * in
		b := e.c.Narrow(flat, 0, off, out)
		off += out
		v.W = append(v.W, W)
		v.WT = append(v.WT, e.c.Tr(W))
		v.B = append(v.B, b)
		e.owned = append(e.owned, W, v.WT[len(v.WT)-1], b)
	}
	return v
}

// view returns flat[off : off+prod(shape)] viewed as shape, owned by the engine.
func (e *engine) view(flat tt.T, off int64, shape []int64) tt.T {
	if e.c.Err != nil || flat == nil {
		return nil
	}
	n := int64(1)
	for _, s := range shape {
		n *= s
	}
	nw := e.c.Narrow(flat, 0, off, n)
	v := e.c.View(nw, shape...)
	e.c.Free(nw)
	e.owned = append(e.owned, v)
	return v
}

// free releases every handle the engine made.
func (e *engine) free() {
	for _, t := range e.owned {
		e.c.Free(t)
	}
	e.owned = nil
	e.c.Close()
}

// inputs returns the host-side input and target buffers to fill for the next step.
func (e *engine) inputs() (x, u []float32) {
	if e.img != nil {
		return e.img.stage, tt.Floats(e.img.hU, e.batch*e.img.u.Dim())
	}
	return tt.Floats(e.hostX, e.batch*e.spec.InputDim()), tt.Floats(e.hostU, e.batch*e.spec.Dim)
}

// upload moves the host buffers to the device (a no-op on CPU).
func (e *engine) upload() {
	if e.img != nil {
		e.img.upload(e)
		return
	}
	if e.dev != tt.CPU {
		e.c.Copy_(e.X, e.hostX)
		e.c.Copy_(e.U, e.hostU)
	}
}

func (e *engine) scalar(dev, host tt.T) float64 {
	if e.dev != tt.CPU {
		e.c.Copy_(host, dev)
	}
	return float64(tt.Floats(host, 1)[0])
}

// forward computes OUT from X with the parameters in v.
func (e *engine) forward(v views) {
	c := &e.c
	L := len(e.shapes)
	for l := 0; l < L; l++ {
		if l < L-1 {
			c.Addmm(e.H[l], v.B[l], e.in[l], v.WT[l])
			c.SiLU(e.A[l], e.H[l])
		} else {
			c.Addmm(e.OUT, v.B[l], e.in[l], v.WT[l])
		}
	}
}

// lossAndGrad runs the forward pass with P, returns the mean squared error against U,
// and leaves its gradient with respect to P in G.
func (e *engine) lossAndGrad() float64 {
	if e.img != nil {
		return e.img.lossAndGrad(e)
	}
	c := &e.c
	e.forward(e.pv)
	L := len(e.shapes)
	// loss = mean((out−u)²) = ‖out−u‖²/N; d loss/d out = 2(out−u)/N.
	N := float64(e.batch * e.spec.Dim)
	gout := e.GH[L-1]
	c.Sub(gout, e.OUT, e.U)
	c.Norm(e.LOSS, gout)
	c.Scale_(gout, 2/N)
	for l := L - 1; l >= 0; l-- {
		c.Mm(e.gv.W[l], e.GHT[l], e.in[l]) // dW = GHᵀ · input  [out, in]
		c.SumRows(e.gv.B[l], e.GH[l])      // db = Σ_rows GH
		if l > 0 {
			c.Mm(e.GA[l-1], e.GH[l], e.pv.W[l])            // d input = GH · W  [B, in]
			c.SiLUBackward(e.GH[l-1], e.GA[l-1], e.H[l-1]) // through the activation
		}
	}
	r := e.scalar(e.LOSS, e.hostLoss)
	return r * r / N
}

// gradNorm is ‖G‖₂.
func (e *engine) gradNorm() float64 {
	e.c.Norm(e.NORM, e.G)
	return e.scalar(e.NORM, e.hostNorm)
}

// adamw applies one AdamW step (step is 1-based) with learning rate lr to P, after
// scaling the gradient by gscale (the clipping factor): recipe.AdamW's update, as out=
// kernels on the flat vectors, whose float32 operations recipe.AdamW.Update repeats
// in the same order.
func (e *engine) adamw(step int, lr, gscale float64, opt recipe.AdamW) {
	c := &e.c
	if gscale != 1 {
		c.Scale_(e.G, gscale)
	}
	decay, stepSize, eps := opt.Coeffs(step, lr)
	if opt.WeightDecay > 0 {
		c.Scale_(e.P, decay)
	}
	c.Lerp_(e.M, e.G, 1-opt.Beta1)
	c.Mul(e.tmp, e.G, e.G)
	c.Lerp_(e.V, e.tmp, 1-opt.Beta2)
	c.Sqrt(e.tmp, e.V)
	c.Shift_(e.tmp, eps)
	c.Div(e.tmp, e.M, e.tmp)
	c.Scale_(e.tmp, -stepSize)
	c.Add_(e.P, e.tmp)
}

// emaUpdate moves E towards P: E ← E + (1−decay)·(P − E) (recipe.EMAUpdate).
func (e *engine) emaUpdate(decay float64) {
	e.c.Lerp_(e.E, e.P, 1-decay)
}

// read copies a flat device vector into dst.
func (e *engine) read(dst []float32, flat tt.T) {
	if e.dev != tt.CPU {
		e.c.Copy_(e.hostFlat, flat)
		copy(dst, tt.Floats(e.hostFlat, e.n))
		return
	}
	copy(dst, tt.Floats(flat, e.n))
}

// write copies src into a flat device vector.
func (e *engine) write(flat tt.T, src []float32) {
	if e.dev != tt.CPU {
		copy(tt.Floats(e.hostFlat, e.n), src)
		e.c.Copy_(flat, e.hostFlat)
		return
	}
	copy(tt.Floats(flat, e.n), src)
}

// velocity evaluates the network with the parameter views v on the rows
// of x at times ts, and returns the output rows. len(x) = batch·dim.
func (e *engine) velocity(v views, x []float32, ts []float64) []float32 {
	hx, _ := e.inputs()
	d := e.spec.Dim
	recipe.Inputs(hx, x, ts, e.spec.Time)
	e.upload()
	e.forward(v)
	out := make([]float32, e.batch*d)
	if e.dev != tt.CPU {
		e.c.Copy_(e.hostU, e.OUT)
		copy(out, tt.Floats(e.hostU, len(out)))
	} else {
		copy(out, tt.Floats(e.OUT, len(out)))
	}
	return out
}

// err wraps the context's first error.
func (e *engine) err() error {
	if e.c.Err != nil {
		return fmt.Errorf("trainer: %w", e.c.Err)
	}
	return nil
}
