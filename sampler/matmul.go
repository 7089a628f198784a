package sampler

import "fmt"

// Epilogue is what MatMul applies to each output after adding the bias, fused into the
// kernel's tile store where the build's kernel fuses it.
type Epilogue int

// Epilogues of [MatMul.Mul].
const (
	EpiNone      Epilogue = Epilogue(epiNone)      // bias only
	EpiSiLU      Epilogue = Epilogue(epiSiLU)      // SiLU(z), the network's activation
	EpiReLU      Epilogue = Epilogue(epiReLU)      // max(z, 0)
	EpiSiLUDeriv Epilogue = Epilogue(epiSiLUDeriv) // SiLU(z), and SiLU'(z) into MulOpts.Aux
	EpiMul       Epilogue = Epilogue(epiMul)       // z·Aux (the chain rule through an activation)
)

// MulOpts are the options of one [MatMul.Mul]. The zero value computes a plain a·bᵀ.
type MulOpts struct {
	// TransA says a holds Aᵀ (k×m, row-major) rather than A (m×k).
	TransA bool
	// NoTransB says b holds B (k×n, row-major) rather than Bᵀ (n×k, PyTorch's layout of a
	// Linear layer's weight, the kernels' natural operand).
	NoTransB bool
	Bias     []float32 // n values added to every row; nil adds zeros
	Epi      Epilogue
	// Aux is m×n, row-major: written with SiLU'(z) by EpiSiLUDeriv, read by EpiMul.
	Aux []float32
}

// MatMul computes row-major matrix products with the network's gemm kernels (AVX2 on
// amd64, WebAssembly SIMD in GOEXPERIMENT=simd js/wasm builds; see [KernelName]), so
// that a pure-Go trainer's forward and backward passes run on the sampler's fastest
// code. Each call copies its operands into the kernels' blocked layout (O(mk + kn + mn)
// moves against the product's mkn multiply-adds) in scratch that it keeps: once warm a
// call allocates nothing. Rows of the result are spread over up to Workers goroutines
// (0 means GOMAXPROCS); every output depends on its own row alone, so the result does
// not depend on the split. The zero value is ready to use; a MatMul is not safe for
// concurrent use.
type MatMul struct {
	Workers int

	ly   packedLayer // B, packed
	bias []float32   // the padded bias
	ws   [][3][]float32
	c    mulCall
	job  rowJob

	blk     blockedCall // the current MulBlocked or MulTN call
	at, out Blocked     // MulTN's transposed A and blocked result
}

// mulCall is one call's operands, read by every worker.
type mulCall struct {
	dst, a []float32
	m, k   int
	o      MulOpts
}

// Mul computes dst = epi(A·B + bias) for A m×k and B k×n; dst is m×n, row-major. See
// [MulOpts] for how a and b hold A and B. It panics if a slice is shorter than its
// shape says (a programming error, like an index out of range).
func (p *MatMul) Mul(dst, a, b []float32, m, k, n int, o MulOpts) {
	if m < 0 || k < 1 || n < 1 || len(dst) < m*n || len(a) < m*k || len(b) < k*n ||
		(o.Bias != nil && len(o.Bias) < n) || ((o.Epi == EpiSiLUDeriv || o.Epi == EpiMul) && len(o.Aux) < m*n) ||
		o.Epi < EpiNone || o.Epi > EpiMul {
		panic(fmt.Sprintf("sampler: MatMul: bad shapes (m %d k %d n %d, lens dst %d a %d b %d bias %d aux %d, epilogue %d)",
			m, k, n, len(dst), len(a), len(b), len(o.Bias), len(o.Aux), o.Epi))
	}
	if m == 0 {
		return
	}
	p.pack(b, k, n, o.NoTransB)
	clear(p.bias)
	copy(p.bias, o.Bias)
	p.c = mulCall{dst: dst, a: a, m: m, k: k, o: o}
	workers := p.workers(m, blockRows)
	for len(p.ws) < workers {
		p.ws = append(p.ws, [3][]float32{})
	}
	size := blockRows*max(p.ly.kp, p.ly.np) + groupRows // + slack, see gemm
	for w := 0; w < workers; w++ {
		for i := range p.ws[w] {
			if cap(p.ws[w][i]) < size {
				p.ws[w][i] = make([]float32, size)
			}
			p.ws[w][i] = p.ws[w][i][:size]
		}
	}
	p.job.run(p, m, blockRows, workers)
	p.c = mulCall{} // keep no reference to the caller's slices
}

// pack writes B (k×n) into p.ly in the kernels' panel layout, reusing its memory: from
// Bᵀ (n×k, PyTorch's layout) as packLayer does, or from B itself, whose rows give four
// consecutive values to each panel.
func (p *MatMul) pack(b []float32, k, n int, noTrans bool) {
	kp, np := padCols(k), padCols(n)
	ly := &p.ly
	ly.in, ly.out, ly.kp, ly.np = k, n, kp, np
	ly.w = grow(ly.w, kp*np)
	p.bias = grow(p.bias, np)
	ly.b = p.bias
	clear(ly.w)
	if !noTrans {
		for o := 0; o < n; o++ {
			j, c := o/panelCols, o%panelCols
			row := b[o*k : (o+1)*k]
			pw := ly.w[j*kp*panelCols+c:]
			for i, v := range row {
				pw[i*panelCols] = v
			}
		}
		return
	}
	for i := 0; i < k; i++ {
		row := b[i*n : (i+1)*n]
		for j := 0; j < n; j += panelCols {
			copy(ly.w[j*kp+i*panelCols:], row[j:min(j+panelCols, n)])
		}
	}
}

// grow returns s with length n, reallocated if too small.
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// rows computes rows [lo, hi) of the current call with worker w's scratch, a block of
// rows at a time: load A's rows into the blocked layout, run the kernel, store.
func (p *MatMul) rows(w, lo, hi int) {
	c := &p.c
	ly := &p.ly
	sa, sd, sx := p.ws[w][0], p.ws[w][1], p.ws[w][2]
	aS, dS := ly.kp*groupRows, ly.np*groupRows
	n := ly.out
	for r0 := lo; r0 < hi; r0 += blockRows {
		rows := min(blockRows, hi-r0)
		groups := (rows + groupRows - 1) / groupRows
		p.loadA(sa, r0, rows, groups)
		if c.o.Epi == EpiMul {
			loadBlock(sx, c.o.Aux, r0, rows, groups, n, ly.np)
		}
		gemm(sd, sa, ly, p.bias, groups, aS, dS, int(c.o.Epi), sx)
		storeBlock(c.dst, sd, r0, rows, n, ly.np)
		if c.o.Epi == EpiSiLUDeriv {
			storeBlock(c.o.Aux, sx, r0, rows, n, ly.np)
		}
	}
}

// loadA writes rows [r0, r0+rows) of A into groups groups of width kp, zero-padded.
func (p *MatMul) loadA(dst []float32, r0, rows, groups int) {
	c := &p.c
	if !c.o.TransA {
		loadBlock(dst, c.a, r0, rows, groups, c.k, p.ly.kp)
		return
	}
	// a is Aᵀ (k×m): feature f of rows r0+g·G… is a contiguous run of row f of a.
	kp, m := p.ly.kp, c.m
	for g := 0; g < groups; g++ {
		grp := dst[g*kp*groupRows : (g+1)*kp*groupRows]
		rg := r0 + g*groupRows
		nr := min(groupRows, rows-g*groupRows)
		for f := 0; f < c.k; f++ {
			col := grp[f*groupRows : (f+1)*groupRows]
			copy(col, c.a[f*m+rg:f*m+rg+nr])
			clear(col[nr:])
		}
		clear(grp[c.k*groupRows:])
	}
}

// loadBlock writes rows [r0, r0+rows) of x (row-major, width d) into groups groups of
// width wp, zero-padded.
func loadBlock(dst, x []float32, r0, rows, groups, d, wp int) {
	for g := 0; g < groups; g++ {
		grp := dst[g*wp*groupRows : (g+1)*wp*groupRows]
		nr := min(groupRows, rows-g*groupRows)
		xs := x[(r0+g*groupRows)*d : (r0+g*groupRows+nr)*d]
		for f := 0; f < d; f++ {
			col := grp[f*groupRows : (f+1)*groupRows]
			for r := 0; r < nr; r++ {
				col[r] = xs[r*d+f]
			}
			clear(col[nr:])
		}
		clear(grp[d*groupRows:])
	}
}

// storeBlock writes the first d features of rows rows of src (groups of width wp) into
// rows [r0, r0+rows) of dst (row-major, width d).
func storeBlock(dst, src []float32, r0, rows, d, wp int) {
	for r := 0; r < rows; r++ {
		grp := src[(r/groupRows)*wp*groupRows+r%groupRows:]
		out := dst[(r0+r)*d : (r0+r+1)*d]
		for f := range out {
			out[f] = grp[f*groupRows]
		}
	}
}

// Blocked is a matrix in the kernels' own blocked layout: rows in groups of 24,
// feature-major within a group, columns padded to a multiple of 4. Chained products
// on Blocked matrices (a network's layers, forward and backward) skip the row-major
// copies of Mul: [MatMul.MulBlocked] reads and writes them as the kernels do. Rows
// past Rows in the last group hold zeros after Load and whatever a product writes
// there after one (the bias, through the epilogue); every row's results depend on
// that row alone, and MulTN and ColSums read the true rows only.
type Blocked struct {
	rows, cols int
	wp         int       // cols padded to panelCols
	data       []float32 // groups·wp·groupRows values + groupRows of slack (see gemm)
}

// Resize makes b a rows×cols matrix, reusing its memory when large enough. The values
// are then undefined until a Load or a product writes them.
func (b *Blocked) Resize(rows, cols int) {
	b.rows, b.cols, b.wp = rows, cols, padCols(cols)
	b.data = grow(b.data, b.groups()*b.wp*groupRows+groupRows)
}

// Rows and Cols are the matrix's shape.
func (b *Blocked) Rows() int { return b.rows }

// Cols is the number of columns.
func (b *Blocked) Cols() int { return b.cols }

func (b *Blocked) groups() int { return (b.rows + groupRows - 1) / groupRows }

// Load sets b from x (Rows×Cols, row-major); padding is zero.
func (b *Blocked) Load(x []float32) {
	checkLen("Blocked.Load", len(x), b.rows*b.cols)
	loadBlock(b.data, x, 0, b.rows, b.groups(), b.cols, b.wp)
}

// Store writes b into x (Rows×Cols, row-major).
func (b *Blocked) Store(x []float32) {
	checkLen("Blocked.Store", len(x), b.rows*b.cols)
	storeBlock(x, b.data, 0, b.rows, b.cols, b.wp)
}

// ColSums writes the sums of b's columns over its rows into dst (Cols values), each
// summed in float64.
func (b *Blocked) ColSums(dst []float32) {
	checkLen("Blocked.ColSums", len(dst), b.cols)
	for f := range dst {
		s := 0.0
		for g := 0; g < b.groups(); g++ {
			n := min(groupRows, b.rows-g*groupRows)
			for _, v := range b.data[g*b.wp*groupRows+f*groupRows:][:n] {
				s += float64(v)
			}
		}
		dst[f] = float32(s)
	}
}

// BlockedOpts are the options of [MatMul.MulBlocked]: those of MulOpts, with Aux
// blocked like the product.
type BlockedOpts struct {
	NoTransB bool      // b holds B (k×n) rather than Bᵀ (n×k)
	Bias     []float32 // n values; nil adds zeros
	Epi      Epilogue
	Aux      *Blocked // Rows×n: written by EpiSiLUDeriv, read by EpiMul
}

// MulBlocked computes dst = epi(A·B + bias) for A = a (m×k) and B (k×n) from b, as Mul
// does; dst (and Aux) are resized to m×n.
func (p *MatMul) MulBlocked(dst, a *Blocked, b []float32, n int, o BlockedOpts) {
	m, k := a.rows, a.cols
	needAux := o.Epi == EpiSiLUDeriv || o.Epi == EpiMul
	if k < 1 || n < 1 || len(b) < k*n || (o.Bias != nil && len(o.Bias) < n) || (needAux && o.Aux == nil) ||
		o.Epi < EpiNone || o.Epi > EpiMul || (o.Epi == EpiMul && (o.Aux.rows != m || o.Aux.cols != n)) {
		panic(fmt.Sprintf("sampler: MatMul: bad shapes (m %d k %d n %d, lens b %d bias %d, epilogue %d)", m, k, n, len(b), len(o.Bias), o.Epi))
	}
	dst.Resize(m, n)
	if o.Epi == EpiSiLUDeriv {
		o.Aux.Resize(m, n)
	}
	if m == 0 {
		return
	}
	p.pack(b, k, n, o.NoTransB)
	clear(p.bias)
	copy(p.bias, o.Bias)
	p.blk = blockedCall{dst: dst, a: a, aux: o.Aux, epi: int(o.Epi)}
	p.job.run(blockedRower{p}, m, groupRows, p.workers(m, groupRows))
	p.blk = blockedCall{}
}

// workers is how many goroutines a product of m rows gets, shared in units of unit
// rows. (The blocked products go by groups, not the network's blocks of four: a
// layer's weight gradient has as many rows as the layer has outputs, 256 at most in
// the shipped models, which blocks would leave to one core.)
func (p *MatMul) workers(m, unit int) int {
	w := workersFor(m, unit)
	if p.Workers > 0 {
		w = min(w, p.Workers)
	}
	return w
}

// blockedCall is one MulBlocked call's operands.
type blockedCall struct {
	dst, a, aux *Blocked
	epi         int
}

// blockedRower runs MulBlocked's rows: the kernel straight on the blocked operands.
type blockedRower struct{ p *MatMul }

func (r blockedRower) rows(_, lo, hi int) {
	p := r.p
	c := &p.blk
	g0, g1 := lo/groupRows, (hi+groupRows-1)/groupRows
	aS, dS := c.a.wp*groupRows, c.dst.wp*groupRows
	var aux []float32
	if c.aux != nil {
		aux = c.aux.data[g0*dS:]
	}
	gemm(c.dst.data[g0*dS:], c.a.data[g0*aS:], &p.ly, p.bias, g1-g0, aS, dS, c.epi, aux)
}

// MulTN writes Aᵀ·B into dst (a.Cols × b.Cols, row-major), summing over the rows of a
// and b (which must have as many): a layer's weight gradient, gZᵀ·X. It transposes a
// into the kernels' row layout and packs b as their weight panels (tile by tile, from
// the blocked layout), then runs the kernel.
func (p *MatMul) MulTN(dst []float32, a, b *Blocked) {
	if a.rows != b.rows || len(dst) < a.cols*b.cols {
		panic(fmt.Sprintf("sampler: MatMul.MulTN: bad shapes (%d×%d and %d×%d, dst %d)", a.rows, a.cols, b.rows, b.cols, len(dst)))
	}
	m, n := a.cols, b.cols
	kp := a.groups() * groupRows // the sum runs over whole groups; rows past a.rows are zeroed
	p.at.Resize(m, kp)
	transposeBlocked(&p.at, a)
	ly := &p.ly
	ly.in, ly.out, ly.kp, ly.np = kp, n, kp, padCols(n)
	ly.w = grow(ly.w, kp*ly.np)
	p.bias = grow(p.bias, ly.np)
	clear(p.bias)
	packBlocked(ly.w, b, kp)
	p.out.Resize(m, n)
	p.blk = blockedCall{dst: &p.out, a: &p.at, epi: epiNone}
	p.job.run(blockedRower{p}, m, groupRows, p.workers(m, groupRows))
	p.blk = blockedCall{}
	p.out.Store(dst[:m*n])
}

// transposeBlocked writes aᵀ into t (a.cols × kp, kp = a's groups × 24): 24×24 tiles,
// each a contiguous run in both layouts. Rows of a past a.rows become zeros.
func transposeBlocked(t, a *Blocked) {
	const G = groupRows
	tS := t.wp * G
	for rg := 0; rg < a.groups(); rg++ {
		nr := min(G, a.rows-rg*G)
		src := a.data[rg*a.wp*G:]
		for fg := 0; fg < t.groups(); fg++ {
			tile := t.data[fg*tS+rg*G*G : fg*tS+(rg+1)*G*G]
			nf := min(G, a.cols-fg*G)
			for r := 0; r < nr; r++ {
				row := tile[r*G : (r+1)*G]
				for f := 0; f < nf; f++ {
					row[f] = src[(fg*G+f)*G+r]
				}
				clear(row[nf:])
			}
			clear(tile[nr*G:])
		}
	}
}

// packBlocked writes b (rows × n, blocked) as weight panels of kp inputs (the rows,
// zero past b.rows) and n outputs: w[j·kp·4 + r·4 + c] = b[r][4j + c].
func packBlocked(w []float32, b *Blocked, kp int) {
	const G = groupRows
	clear(w)
	for rg := 0; rg < b.groups(); rg++ {
		nr := min(G, b.rows-rg*G)
		src := b.data[rg*b.wp*G:]
		for j := 0; j < b.wp/panelCols; j++ {
			panel := w[j*kp*panelCols+rg*G*panelCols:]
			nc := min(panelCols, b.cols-j*panelCols)
			for c := 0; c < nc; c++ {
				col := src[(j*panelCols+c)*G:][:nr]
				for r, v := range col {
					panel[r*panelCols+c] = v
				}
			}
		}
	}
}
