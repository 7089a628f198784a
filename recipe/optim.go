package recipe

import (
	"math"
)

// Schedule is the learning rate over a run: a linear warmup from LR/Warmup to LR over
// the first Warmup steps, then a cosine from LR down to LR·MinLRFrac at the last step.
type Schedule struct {
	LR        float64 // peak learning rate
	Warmup    int     // warmup steps (0: none)
	Steps     int     // total steps of the run
	MinLRFrac float64 // final learning rate as a fraction of LR
}

// At is the learning rate of step s (0-based). A resumed run whose Steps changed
// continues the cosine for the new total from where it is.
func (c Schedule) At(s int) float64 {
	if s < c.Warmup {
		return c.LR * float64(s+1) / float64(c.Warmup)
	}
	n := c.Steps - c.Warmup
	if n <= 1 {
		return c.LR
	}
	p := float64(s-c.Warmup) / float64(n-1)
	lo := c.LR * c.MinLRFrac
	return lo + 0.5*(c.LR-lo)*(1+math.Cos(math.Pi*p))
}

// ClipScale is the factor that clips a gradient of global norm norm to at most clip:
// min(1, clip/(norm + 1e-6)), and 1 when clip is 0 (clipping off).
func ClipScale(norm, clip float64) float64 {
	if clip > 0 {
		if c := clip / (norm + 1e-6); c < 1 {
			return c
		}
	}
	return 1
}

// GradNorm is the global (Euclidean) norm of a flat gradient, summed in float64.
// (The libtorch trainer takes libtorch's norm, whose summation order differs in the
// last bits.)
func GradNorm(g []float32) float64 {
	s := 0.0
	for _, v := range g {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s)
}

// EMADecay is the decay of the weights' moving average at step s (0-based): the
// configured decay, ramped up over the first steps as min(decay, (1+s)/(10+s)) so
// that the average is not dominated by the random initialisation on short runs.
func EMADecay(decay float64, s int) float64 {
	return math.Min(decay, float64(1+s)/float64(10+s))
}

// EMAUpdate moves the average avg towards the weights p: avg ← avg + (1−decay)·(p − avg),
// in float32 with one fused multiply-add, as libtorch's lerp_ computes it on AVX2 and
// AVX-512 CPUs. A trainer with the EMA off (0 in its configuration) copies p into avg
// instead, so that the average is always what it exports; EMAUpdate with decay 0 does
// exactly that.
func EMAUpdate(avg, p []float32, decay float64) {
	w := float32(1 - decay)
	for i := range avg {
		avg[i] = lerp(avg[i], p[i], w)
	}
}

// lerp is libtorch's a + w·(b − a) in float32 as its vectorised CPU kernel computes it
// (lerp_vec, on AVX2 and AVX-512 machines): from whichever end is nearer w, with one
// fused multiply-add, fma(w, b − a, a) when |w| < 0.5 and fma(w − 1, b − a, b)
// otherwise. (libtorch built for CPUs without FMA rounds the product first; its
// results then differ from these in the last bit.)
func lerp(a, b, w float32) float32 {
	d := b - a
	if w < 0.5 && w > -0.5 {
		return fma32(w, d, a)
	}
	return fma32(w-1, d, b)
}

// fma32 is x·y + z in float32 with a single rounding. The product is exact in float64,
// so the float64 sum is the exact sum rounded once; rounding that to float32 is the
// correct float32 result unless it lies exactly halfway between two float32s (the
// only place a second rounding can go wrong, since every halfway point is a float64)
// or outside float32's normal range, where fma32Odd decides. The fast path inlines
// and makes AdamW and the EMA several times faster than fma32Odd alone.
func fma32(x, y, z float32) float32 {
	s := float64(x)*float64(y) + float64(z)
	bits := math.Float64bits(s)
	const lowBits, half = 1<<29 - 1, 1 << 28 // the bits float32 drops, and their halfway value
	if e := bits >> 52 & 0x7ff; e >= 1023-126 && e <= 1023+127 && bits&lowBits != half {
		return float32(s)
	}
	return fma32Odd(x, y, z)
}

// fma32Odd is fma32 for every input: the sum is rounded to float64 by round-to-odd,
// which makes the rounding to float32 that follows the correct one (float64 has more
// than 2·24 + 2 bits).
func fma32Odd(x, y, z float32) float32 {
	p, c := float64(x)*float64(y), float64(z)
	s := p + c
	if math.IsInf(s, 0) || math.IsNaN(s) {
		return float32(s)
	}
	// The sum's rounding error, exactly (Knuth's TwoSum).
	bp := s - c
	err := (p - bp) + (c - (s - bp))
	if err != 0 {
		if s == 0 {
			return float32(err)
		}
		if bits := math.Float64bits(s); bits&1 == 0 { // even: step towards the exact sum
			if (err > 0) == (s > 0) {
				bits++
			} else {
				bits--
			}
			s = math.Float64frombits(bits)
		}
	}
	return float32(s)
}

// AdamW is PyTorch's AdamW (decoupled weight decay) with its defaults' meaning:
//
//	p ← p·(1 − lr·wd)
//	m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²
//	p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε)
//
// with the last line computed as p − [lr·√(1−β2ᵗ)/(1−β1ᵗ)] · m / (√v + ε·√(1−β2ᵗ)).
type AdamW struct {
	Beta1, Beta2 float64
	Eps          float64
	WeightDecay  float64 // 0: plain Adam
}

// Coeffs are the scalars of AdamW step t (1-based) at learning rate lr: the weight
// decay factor 1 − lr·wd, the step size lr·√(1−β2ᵗ)/(1−β1ᵗ), and the denominator's
// ε·√(1−β2ᵗ).
func (a AdamW) Coeffs(t int, lr float64) (decay, stepSize, eps float64) {
	bc1 := 1 - math.Pow(a.Beta1, float64(t))
	bc2 := 1 - math.Pow(a.Beta2, float64(t))
	return 1 - lr*a.WeightDecay, lr * math.Sqrt(bc2) / bc1, a.Eps * math.Sqrt(bc2)
}

// Update applies AdamW step t (1-based) with learning rate lr to the flat parameters
// p and moments m, v, for the gradient g scaled by gscale (ClipScale's factor; g
// itself is not changed). Every element goes through the float32 operations of the
// libtorch trainer's kernels, in their order.
func (a AdamW) Update(p, g, m, v []float32, t int, lr, gscale float64) {
	decay, stepSize, eps := a.Coeffs(t, lr)
	gs, dec, e, neg := float32(gscale), float32(decay), float32(eps), float32(-stepSize)
	w1, w2 := float32(1-a.Beta1), float32(1-a.Beta2)
	for i := range p {
		gi := g[i]
		if gscale != 1 {
			gi *= gs
		}
		pi := p[i]
		if a.WeightDecay > 0 {
			pi *= dec
		}
		m[i] = lerp(m[i], gi, w1)
		v[i] = lerp(v[i], float32(gi*gi), w2)
		den := float32(math.Sqrt(float64(v[i]))) + e
		p[i] = pi + float32(float32(m[i]/den)*neg)
	}
}

// MSE is the flow matching loss of a batch, mean((out − u)²) over every element, and
// writes its gradient with respect to out, 2(out − u)/N in float32 (the libtorch
// trainer's bits), into grad, which may be nil. The sum is in float64.
func MSE(grad, out, u []float32) float64 {
	n := len(out)
	if n == 0 {
		return 0
	}
	scale := float32(2 / float64(n))
	s := 0.0
	for i := range out {
		d := out[i] - u[i]
		s += float64(d) * float64(d)
		if grad != nil {
			grad[i] = d * scale
		}
	}
	return s / float64(n)
}

// SmoothLoss is the loss a trainer reports after step s (0-based): the loss of step 0,
// then an exponential average 0.99·prev + 0.01·loss.
func SmoothLoss(prev, loss float64, s int) float64 {
	if s == 0 {
		return loss
	}
	return 0.99*prev + 0.01*loss
}
