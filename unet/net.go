package unet

import (
	"fmt"
	"runtime"

	"github.com/flowmatch/flowmatch/internal/runs"
	"github.com/flowmatch/flowmatch/sampler"
)

// Net is a U-Net velocity field v(x, t, c), built from its tensors. As a
// [sampler.Field] it is unconditional (every sample gets the null class); [Guided]
// conditions it on classes with classifier-free guidance. A Net keeps scratch space:
// it is not safe for concurrent use.
type Net struct {
	// Workers is how many goroutines share a batch, each taking a contiguous run of
	// samples (0 means GOMAXPROCS; a guided evaluation splits images, each worker
	// evaluating both halves of its own). Every sample's result is computed the same
	// way whatever the split, so it does not change the output, bit for bit. With
	// Workers 1 everything runs on the caller's goroutine (a Web Worker's share);
	// with 0 and one worker's worth of samples, the matrix products still share the
	// cores.
	Workers int

	kids []*Net // the workers' networks: the same weights, their own scratch
	c    call   // the current call's arguments
	cfg  Config
	bs   []block // cfg.blocks()
	sk   []fm    // the pass's skips, one per level
	w    map[string][]float32
	pk   map[string]*sampler.Packed // the convolutions' weights and biases, by layer name
	st   []float64                  // GroupNorm's statistics
	mm   sampler.MatMul
	ar   arena
	pl   []float32          // planes: GroupNorm's output, the im2col's input
	col  []float32          // the im2col of a few groups
	bl   []*sampler.Blocked // the pass's blocked matrices, bl[:nb] in use
	nb   int
	ts   []float64 // Velocity's per-sample times
	lab  []int     // Velocity's labels
}

// New builds the network of a valid cfg from its tensors, by name (see
// [Config.Tensors]), each holding exactly the product of its shape in values,
// row-major. It keeps the slices (and the convolutions' weights packed in the
// kernels' layout): the caller must not change them after.
func New(cfg Config, tensors map[string][]float32) (*Net, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	for _, t := range cfg.Tensors() {
		n := 1
		for _, d := range t.Shape {
			n *= d
		}
		v, ok := tensors[t.Name]
		if !ok {
			return nil, fmt.Errorf("unet: no tensor %q", t.Name)
		}
		if len(v) != n {
			return nil, fmt.Errorf("unet: tensor %q holds %d values, want %d for shape %v", t.Name, len(v), n, t.Shape)
		}
	}
	m := &Net{cfg: cfg, bs: cfg.blocks(), w: tensors, pk: map[string]*sampler.Packed{}}
	in, ch0 := cfg.Shape[0], cfg.ch(0)
	pack3 := func(name string, co, ci int) {
		m.pk[name] = sampler.Pack(permute3(tensors[name+".weight"], co, ci), tensors[name+".bias"], co, 9*ci)
	}
	pack3("inp", ch0, in)
	pack3("out.2", in, ch0)
	for _, b := range cfg.blocks() {
		pack3(b.name+".c1", b.co, b.ci)
		pack3(b.name+".c2", b.co, b.co)
		if b.ci != b.co {
			m.pk[b.name+".sk"] = sampler.Pack(tensors[b.name+".sk.weight"], tensors[b.name+".sk.bias"], b.co, b.ci)
		}
	}
	return m, nil
}

// Config returns the network's configuration.
func (m *Net) Config() Config { return m.cfg }

// Dim is the number of values per sample.
func (m *Net) Dim() int { return m.cfg.Dim() }

// Velocity writes the unconditional velocity v(x, t, ∅) of each row of x into dst.
func (m *Net) Velocity(dst, x []float32, t float64) {
	n := len(x) / m.Dim()
	m.ts, m.lab = fill(m.ts, n, t), fillInt(m.lab, n, m.cfg.Null())
	m.Forward(dst, x, m.ts, m.lab)
}

// Forward writes v(x_b, t_b, labels_b) for each of the n = len(t) samples of x (n × Dim,
// each sample channel-major) into dst. A label is a class 0 … Classes−1 or the null
// class Classes; Forward panics on another label or on slices of the wrong length (a
// programming error, like an index out of range).
func (m *Net) Forward(dst, x []float32, t []float64, labels []int) {
	n, d := len(t), m.Dim()
	if len(x) != n*d || len(dst) != n*d || len(labels) != n {
		panic(fmt.Sprintf("unet: Forward: %d times, %d labels, %d values in x and %d in dst for dim %d", n, len(labels), len(x), len(dst), d))
	}
	for _, l := range labels {
		if l < 0 || l > m.cfg.Null() {
			panic(fmt.Sprintf("unet: Forward: label %d, want 0 to %d (the null class)", l, m.cfg.Null()))
		}
	}
	m.c = call{dst: dst, x: x, t: t, labels: labels}
	m.split(n)
}

// call is the arguments of a Forward (guided false) or of a guided evaluation, at
// time tg with weight w, as split hands them to the workers.
type call struct {
	dst, x []float32
	t      []float64
	labels []int
	guided bool
	tg     float64
	w      float32
}

// run is the call's work on samples [lo, hi), with k's scratch.
func (c *call) run(k *Net, lo, hi int) {
	d := k.Dim()
	if c.guided {
		k.forwardGuided(c.dst[lo*d:hi*d], c.x[lo*d:hi*d], c.tg, c.labels[lo:hi], c.w)
		return
	}
	k.forward(c.dst[lo*d:hi*d], c.x[lo*d:hi*d], c.t[lo:hi], c.labels[lo:hi])
}

// split runs m.c over the n samples [0, n) cut into contiguous runs [lo, hi), one per
// worker, each with a network of its own scratch (m itself when there is one worker).
func (m *Net) split(n int) {
	c := &m.c
	defer func() { *c = call{} }() // keep no reference to the caller's slices
	workers := m.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, n)
	if workers <= 1 {
		m.mm.Workers = 0 // the products alone share the cores, unless told one goroutine
		if m.Workers == 1 {
			m.mm.Workers = 1
		}
		c.run(m, 0, n)
		return
	}
	for len(m.kids) < workers {
		m.kids = append(m.kids, &Net{Workers: 1, cfg: m.cfg, bs: m.bs, w: m.w, pk: m.pk, mm: sampler.MatMul{Workers: 1}})
	}
	runs.Split(n, workers, func(i, lo, hi int) { c.run(m.kids[i], lo, hi) })
}

// forward is Forward on one goroutine, for n ≥ 1 checked samples.
func (m *Net) forward(dst, x []float32, t []float64, labels []int) {
	n := len(t)
	m.ar.reset()
	m.nb = 0
	emb := m.embed(t, labels)
	in, h, w := m.cfg.Shape[0], m.cfg.Shape[1], m.cfg.Shape[2]
	gm := newGeom(n, h, w)
	toPlanes(m.planes(gm, in), x, gm, in)
	out := m.unet(fm{m.conv3(gm, in, m.cfg.ch(0), "inp"), gm, m.cfg.ch(0)}, fm{}, emb)
	toImages(dst, out.Raw(), out.Stride(), gm, in)
}

// forwardGuided is guided's work on one goroutine, for k ≥ 1 images x (checked) and
// their labels: the batch of 2k samples, x with its labels then x with the null class,
// combined into dst as v = (1+w)·v(x, t, c) − w·v(x, t, ∅). Until the first block adds
// the embedding, the two halves compute the same values: the input convolution and
// the first block's n1 and c1 run on the k images once, and their results are laid
// out twice.
func (m *Net) forwardGuided(dst, x []float32, t float64, labels []int, w float32) {
	k, d := len(labels), m.Dim()
	m.ar.reset()
	m.nb = 0
	m.ts = fill(m.ts, 2*k, t)
	m.lab = append(append(m.lab[:0], labels...), labels...)
	for i := k; i < 2*k; i++ {
		m.lab[i] = m.cfg.Null()
	}
	emb := m.embed(m.ts, m.lab)
	in, h, wd, c0 := m.cfg.Shape[0], m.cfg.Shape[1], m.cfg.Shape[2], m.cfg.ch(0)
	gk, g2 := newGeom(k, h, wd), newGeom(2*k, h, wd)
	toPlanes(m.planes(gk, in), x, gk, in)
	x0 := fm{m.conv3(gk, in, c0, "inp"), gk, c0}
	first := m.bs[0]
	h1 := m.resHead(first, x0)
	x2, h2 := fm{m.blocked(g2, c0), g2, c0}, fm{m.blocked(g2, first.co), g2, first.co}
	dupImages(x2.b.Raw(), x2.b.Stride(), x0.b.Raw(), x0.b.Stride(), gk, c0)
	dupImages(h2.b.Raw(), h2.b.Stride(), h1.b.Raw(), h1.b.Stride(), gk, first.co)
	out := m.unet(x2, h2, emb)
	v := m.ar.get(2 * k * d)
	toImages(v, out.Raw(), out.Stride(), g2, in)
	for i := range dst[:k*d] {
		dst[i] = (1+w)*v[i] - w*v[k*d+i]
	}
}

// embed computes the embedding t.2(SiLU(t.0(features(t)))) + y[label], n × Emb.
func (m *Net) embed(t []float64, labels []int) []float32 {
	n, f, E := len(t), m.cfg.TimeFeatures, m.cfg.Emb
	feat, hid, emb := m.ar.get(n*f), m.ar.get(n*E), m.ar.get(n*E)
	TimeFeatures(feat, t, f)
	m.mm.Mul(hid, feat, m.w["t.0.weight"], n, f, E, sampler.MulOpts{Bias: m.w["t.0.bias"], Epi: sampler.EpiSiLU})
	m.mm.Mul(emb, hid, m.w["t.2.weight"], n, E, E, sampler.MulOpts{Bias: m.w["t.2.bias"]})
	y := m.w["y.weight"]
	for b, l := range labels {
		row := emb[b*E : (b+1)*E]
		for i, v := range y[l*E : (l+1)*E] {
			row[i] += v
		}
	}
	return emb
}

// fm is a feature map: a batch at one level's geometry, c channels, blocked.
type fm struct {
	b *sampler.Blocked
	g geom
	c int
}

// unet runs the network from x, the input convolution's output, to the output
// convolution's (blocked, the input's channels). When h1.b is not nil it is the first
// block's resHead, already computed.
func (m *Net) unet(x, h1 fm, emb []float32) *sampler.Blocked {
	cfg := m.cfg
	blocks := m.bs
	m.sk = append(m.sk[:0], make([]fm, len(cfg.Mult))...)
	skips := m.sk
	bi := 0
	for i := range cfg.Mult {
		if i > 0 {
			g := newGeom(x.g.n, x.g.h/2, x.g.w/2)
			p := fm{m.blocked(g, x.c), g, x.c}
			avgPool2(p.b.Raw(), p.b.Stride(), g, x.b.Raw(), x.b.Stride(), x.g, x.c)
			x = p
		}
		for range cfg.Blocks {
			h := h1
			if bi > 0 || h.b == nil {
				h = m.resHead(blocks[bi], x)
			}
			x = m.resTail(blocks[bi], x, h, emb)
			bi++
		}
		skips[i] = x
	}
	x = m.res(blocks[bi], x, emb)
	bi++
	for i := len(cfg.Mult) - 1; i >= 0; i-- {
		s := skips[i]
		if i < len(cfg.Mult)-1 {
			u := fm{m.blocked(s.g, x.c+s.c), s.g, x.c + s.c}
			upcat(u.b.Raw(), u.b.Stride(), u.g, x.b.Raw(), x.b.Stride(), x.g, x.c, s.b.Raw(), s.b.Stride(), s.c)
			x = u
		} else {
			u := fm{m.blocked(s.g, x.c+s.c), s.g, x.c + s.c}
			catSame(u.b.Raw(), u.b.Stride(), x.b.Raw(), x.b.Stride(), x.c, s.b.Raw(), s.b.Stride(), s.c, s.g.groups)
			x = u
		}
		for range cfg.Blocks {
			x = m.res(blocks[bi], x, emb)
			bi++
		}
	}
	m.norm(x, "out.0", nil)
	return m.conv3(x.g, x.c, cfg.Shape[0], "out.2")
}

// res runs one residual block: c2(SiLU(n2(c1(SiLU(n1(x))) + e(emb)))) + sk(x), sk the
// identity when the channels do not change.
func (m *Net) res(b block, x fm, emb []float32) fm { return m.resTail(b, x, m.resHead(b, x), emb) }

// resHead is the part of a residual block before the embedding: c1(SiLU(n1(x))).
func (m *Net) resHead(b block, x fm) fm {
	m.norm(x, b.name+".n1", nil)
	return fm{m.conv3(x.g, b.ci, b.co, b.name+".c1"), x.g, b.co}
}

// resTail is the rest of the block, from h = resHead(x).
func (m *Net) resTail(b block, x, h fm, emb []float32) fm {
	p, n := b.name+".", x.g.n
	shift := m.ar.get(n * b.co)
	m.mm.Mul(shift, emb, m.w[p+"e.weight"], n, m.cfg.Emb, b.co, sampler.MulOpts{Bias: m.w[p+"e.bias"]})
	m.norm(h, p+"n2", shift)
	out := m.conv3(x.g, b.co, b.co, p+"c2")
	skip := x.b
	if b.ci != b.co {
		skip = m.blocked(x.g, b.co)
		m.pk[p+"sk"].MulGroups(skip.Raw(), skip.Stride(), x.b.Raw(), x.b.Stride(), x.g.groups)
	}
	addInto(out.Raw()[:x.g.groups*out.Stride()], skip.Raw())
	return fm{out, x.g, b.co}
}

// norm writes SiLU(GroupNorm(x)) with the tensors name.weight and name.bias into the
// planes, after adding add (n × c) to x when not nil.
func (m *Net) norm(x fm, name string, add []float32) {
	n := x.g.n
	if len(m.st) < 3*n*x.c {
		m.st = make([]float64, 3*n*x.c)
	}
	scale, shift := m.ar.get(n*x.c), m.ar.get(n*x.c)
	gnStats(scale, shift, x.b.Raw(), x.b.Stride(), x.g, x.c, m.cfg.groups(x.c), m.w[name+".weight"], m.w[name+".bias"], add, m.st)
	gnApply(m.planes(x.g, x.c), x.b.Raw(), x.b.Stride(), x.g, x.c, scale, shift)
}

// planes returns the planes' scratch for c channels of gm.
func (m *Net) planes(gm geom, c int) []float32 {
	if n := c * gm.planeLen(); len(m.pl) < n {
		m.pl = make([]float32, n)
	}
	return m.pl
}

// blocked returns the pass's next blocked matrix, all of gm's positions by c columns.
func (m *Net) blocked(gm geom, c int) *sampler.Blocked {
	if m.nb == len(m.bl) {
		m.bl = append(m.bl, new(sampler.Blocked))
	}
	b := m.bl[m.nb]
	m.nb++
	b.Resize(gm.groups*G, c)
	return b
}

// conv3 runs the 3×3 convolution whose tensors are name.weight and name.bias on the
// planes (ci channels of gm), into a new blocked matrix.
// The im2col is written colBytes at a time, each chunk multiplied while it is still
// in the L2 cache, rather than the whole operand (tens of MB) through memory.
func (m *Net) conv3(gm geom, ci, co int, name string) *sampler.Blocked {
	as := sampler.Stride(9 * ci)
	chunk := max(1, colBytes/4/as)
	if n := chunk*as + G; len(m.col) < n {
		m.col = make([]float32, n)
	}
	out := m.blocked(gm, co)
	raw, os := out.Raw(), out.Stride()
	for g0 := 0; g0 < gm.groups; g0 += chunk {
		g1 := min(gm.groups, g0+chunk)
		im2col(m.col, as, m.pl, gm, ci, g0, g1)
		m.pk[name].MulGroups(raw[g0*os:], os, m.col, as, g1-g0)
	}
	return out
}

// colBytes is the size of one chunk of the im2col.
const colBytes = 128 << 10

func fill(s []float64, n int, v float64) []float64 {
	s = append(s[:0], make([]float64, n)...)
	for i := range s {
		s[i] = v
	}
	return s
}

func fillInt(s []int, n, v int) []int {
	s = append(s[:0], make([]int, n)...)
	for i := range s {
		s[i] = v
	}
	return s
}

// arena hands out scratch slices for one forward pass from one buffer; what does not
// fit is allocated and the buffer grows to fit it at the next reset, so a warm pass of
// the same batch size allocates nothing beyond small headers.
type arena struct {
	buf        []float32
	off, short int
}

func (a *arena) reset() {
	if a.short > 0 {
		a.buf = make([]float32, len(a.buf)+a.short)
	}
	a.off, a.short = 0, 0
}

// get returns n values, holding whatever the last pass left there: every operation
// writes all of its output.
func (a *arena) get(n int) []float32 {
	if a.off+n > len(a.buf) {
		a.short += n
		return make([]float32, n)
	}
	s := a.buf[a.off : a.off+n : a.off+n]
	a.off += n
	return s
}

// guided writes the guided velocity (1+w)·v(x, t, c) − w·v(x, t, ∅) of the n images of x
// with labels c into dst, the images split between the workers, each evaluating both
// halves of its own (forwardGuided).
func (m *Net) guided(dst, x []float32, t float64, labels []int, w float32) {
	n, d := len(labels), m.Dim()
	if len(x) != n*d || len(dst) != n*d {
		panic(fmt.Sprintf("unet: Guided: %d labels, %d values in x and %d in dst for dim %d", n, len(x), len(dst), d))
	}
	for _, l := range labels {
		if l < 0 || l > m.cfg.Null() {
			panic(fmt.Sprintf("unet: Guided: label %d, want 0 to %d (the null class)", l, m.cfg.Null()))
		}
	}
	if n == 0 {
		return
	}
	m.c = call{dst: dst, x: x, labels: labels, guided: true, tg: t, w: w}
	m.split(n)
}
