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
	workers := workersFor(m, blockRows)
	if p.Workers > 0 {
		workers = min(workers, p.Workers)
	}
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
