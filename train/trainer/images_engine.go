package trainer

import (
	"math"
	"strings"

	"github.com/flowmatch/flowmatch/train/internal/tt"
	"github.com/flowmatch/flowmatch/unet"
)

// unetNet is the U-Net's forward pass in libtorch ops, differentiated by autograd
// (tt.Graph): an engine's flat parameter vector holds its tensors in the order of
// unet.Config.Tensors(), PyTorch's layouts, so the exported file is that vector cut up.
// Layout: x_t NCHW [B, 1, 28, 28]; time features [B, TimeFeatures] computed on the
// host (t is data, not a parameter); labels int64 [B], the null class Classes for an
// unconditional row.
type unetNet struct {
	u      unet.Config
	g      tt.Graph
	blocks []unetBlock
	names  []string        // the tensors, in the flat vectors' order
	pv, gv map[string]tt.T // views of e.P and e.G, one per tensor
	leaf   map[string]tt.T // this step's gradient-tracking aliases of pv

	X, TF, LAB, U              tt.T // device inputs and target
	hostX, hostTF, hostLAB, hU tt.T // their CPU staging (the same handles on CPU)
	stage                      []float32
}

// unetBlock is one residual block, read off the tensor list (its c1 convolution): its
// name prefix and the channels in and out, in the order the forward pass runs them.
type unetBlock struct {
	name   string
	ci, co int64
}

// newUNetNet lays out u's tensors in e's flat vectors and allocates the batch's buffers.
func newUNetNet(e *engine, u unet.Config) *unetNet {
	m := &unetNet{u: u, g: tt.Graph{C: &e.c},
		pv: map[string]tt.T{}, gv: map[string]tt.T{}, leaf: map[string]tt.T{}}
	off := int64(0)
	for _, t := range u.Tensors() {
		sh := make([]int64, len(t.Shape))
		n := int64(1)
		for i, s := range t.Shape {
			sh[i] = int64(s)
			n *= int64(s)
		}
		m.names = append(m.names, t.Name)
		m.pv[t.Name], m.gv[t.Name] = e.view(e.P, off, sh), e.view(e.G, off, sh)
		off += n
		if name, ok := strings.CutSuffix(t.Name, ".c1.weight"); ok {
			m.blocks = append(m.blocks, unetBlock{name, sh[1], sh[0]})
		}
	}
	B, c, hw := int64(e.batch), int64(u.Shape[0]), []int64{int64(u.Shape[1]), int64(u.Shape[2])}
	alloc := func(dev tt.Device) (x, tf, lab, target tt.T) {
		x = e.zeros(dev, B, c, hw[0], hw[1])
		tf = e.zeros(dev, B, int64(u.TimeFeatures))
		if e.c.Err == nil {
			lab = e.c.Longs(dev, B)
			e.owned = append(e.owned, lab)
		}
		return x, tf, lab, e.zeros(dev, B, c, hw[0], hw[1])
	}
	m.X, m.TF, m.LAB, m.U = alloc(e.dev)
	m.hostX, m.hostTF, m.hostLAB, m.hU = m.X, m.TF, m.LAB, m.U
	if e.dev != tt.CPU {
		m.hostX, m.hostTF, m.hostLAB, m.hU = alloc(tt.CPU)
	}
	m.stage = make([]float32, e.batch*(u.Dim()+2))
	return m
}

// upload unpacks the staged rows (x_t, t, label) into the network's inputs and moves
// them and the target to the device.
func (m *unetNet) upload(e *engine) {
	d, B, f := m.u.Dim(), e.batch, m.u.TimeFeatures
	x, tf, lab := tt.Floats(m.hostX, B*d), tt.Floats(m.hostTF, B*f), tt.Int64s(m.hostLAB, B)
	var ts [1]float64 // (on the stack: TimeFeatures keeps no reference)
	for b := range B {
		row := m.stage[b*(d+2) : (b+1)*(d+2)]
		copy(x[b*d:(b+1)*d], row[:d])
		ts[0] = float64(row[d])
		unet.TimeFeatures(tf[b*f:(b+1)*f], ts[:], f)
		lab[b] = int64(row[d+1])
	}
	if e.dev != tt.CPU {
		for _, p := range [][2]tt.T{{m.X, m.hostX}, {m.TF, m.hostTF}, {m.LAB, m.hostLAB}, {m.U, m.hU}} {
			e.c.Copy_(p[0], p[1])
		}
	}
}

// lossAndGrad runs the forward pass with e.P, returns the mean squared error against
// the target, and leaves the gradient in e.G. Every handle of the step's graph is
// freed before it returns.
//
// Each tensor gets its own leaf (an alias of its view of P): one leaf for the whole
// flat vector would make every view's backward allocate a gradient the size of all
// the parameters, about 60 of them a step, which cost both time and, through the
// allocator's fragmentation, memory that grew step after step.
func (m *unetNet) lossAndGrad(e *engine) float64 {
	g := &m.g
	defer g.Release()
	for _, name := range m.names {
		m.leaf[name] = g.Leaf(m.pv[name])
	}
	loss := g.MSE(m.forward(func(name string) tt.T { return m.leaf[name] }), m.U)
	g.Backward(loss)
	for _, name := range m.names {
		if grad := g.Grad(m.leaf[name]); grad != nil {
			g.CopyOut(m.gv[name], grad)
		}
	}
	if e.c.Err != nil {
		return math.NaN()
	}
	g.CopyOut(e.LOSS, loss)
	return e.scalar(e.LOSS, e.hostLoss)
}

// velocity evaluates the network with the parameters in G (no graph kept) on the
// staged inputs and returns the output, B × Dim.
func (m *unetNet) velocity(e *engine) []float32 {
	prev := tt.GradEnabled(false)
	defer tt.GradEnabled(prev)
	g := &m.g
	defer g.Release()
	m.upload(e)
	out := m.forward(func(name string) tt.T { return m.gv[name] })
	n := e.batch * m.u.Dim()
	v := make([]float32, n)
	if out == nil || e.c.Err != nil {
		return v
	}
	if e.dev != tt.CPU {
		e.c.Copy_(m.hU, out)
		copy(v, tt.Floats(m.hU, n))
	} else {
		copy(v, tt.Floats(out, n))
	}
	return v
}

// forward builds the network's output [B, channels, H, W] from the parameters p gives
// by name (pytorch_fmnist.py's module, generalised as unet.Config describes).
func (m *unetNet) forward(p func(string) tt.T) tt.T {
	g, u := &m.g, m.u
	emb := g.Linear(g.SiLU(g.Linear(m.TF, p("t.0.weight"), p("t.0.bias"))), p("t.2.weight"), p("t.2.bias"))
	emb = g.Add(emb, g.Embedding(p("y.weight"), m.LAB))
	x := g.Conv2d(m.X, p("inp.weight"), p("inp.bias"), 1)
	h, w := int64(u.Shape[1]), int64(u.Shape[2])
	levels, bi := len(u.Mult), 0
	skips := make([]tt.T, levels)
	for i := range levels {
		if i > 0 {
			x, h, w = g.AvgPool2(x), h/2, w/2
		}
		for range u.Blocks {
			x = m.res(m.blocks[bi], x, emb, p)
			bi++
		}
		skips[i] = x
	}
	x = m.res(m.blocks[bi], x, emb, p)
	bi++
	for i := levels - 1; i >= 0; i-- {
		if i < levels-1 {
			x, h, w = g.Upsample2(x, h, w), 2*h, 2*w
		}
		x = g.Cat(1, x, skips[i])
		for range u.Blocks {
			x = m.res(m.blocks[bi], x, emb, p)
			bi++
		}
	}
	c0 := int64(u.Channels * u.Mult[0])
	x = g.SiLU(g.GroupNorm(x, m.groups(c0), p("out.0.weight"), p("out.0.bias")))
	return g.Conv2d(x, p("out.2.weight"), p("out.2.bias"), 1)
}

// res is one residual block: c2(SiLU(n2(c1(SiLU(n1(x))) + e(emb)))) + sk(x).
func (m *unetNet) res(b unetBlock, x, emb tt.T, p func(string) tt.T) tt.T {
	g, n := &m.g, b.name+"."
	h := g.Conv2d(g.SiLU(g.GroupNorm(x, m.groups(b.ci), p(n+"n1.weight"), p(n+"n1.bias"))), p(n+"c1.weight"), p(n+"c1.bias"), 1)
	shift := g.View(g.Linear(emb, p(n+"e.weight"), p(n+"e.bias")), -1, b.co, 1, 1)
	h = g.Add(h, shift)
	out := g.Conv2d(g.SiLU(g.GroupNorm(h, m.groups(b.co), p(n+"n2.weight"), p(n+"n2.bias"))), p(n+"c2.weight"), p(n+"c2.bias"), 1)
	skip := x
	if b.ci != b.co {
		skip = g.Conv2d(x, p(n+"sk.weight"), p(n+"sk.bias"), 0)
	}
	return g.Add(out, skip)
}

// groups is GroupNorm's group count over ch channels.
func (m *unetNet) groups(ch int64) int64 { return min(int64(m.u.Groups), ch) }
