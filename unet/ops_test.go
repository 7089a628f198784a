package unet

import (
	"math"
	"testing"

	"github.com/flowmatch/flowmatch/sampler"
)

// Each operation against the float64 reference's, on the padded layout filled from
// the reference's CHW images; tolerances are relative to the output's scale.

// chw32 converts images to n channel-major float32 images, one after another.
func chw32(xs []img64) []float32 {
	var out []float32
	for _, x := range xs {
		for _, v := range x.v {
			out = append(out, float32(v))
		}
	}
	return out
}

// chw64 concatenates the reference's images.
func chw64(xs []img64) []float64 {
	var out []float64
	for _, x := range xs {
		out = append(out, x.v...)
	}
	return out
}

// blocked lays images out as a blocked matrix of their geometry, every position
// outside them set to NaN (which no operation may read), the padding columns zero.
func blocked(xs []img64) (*sampler.Blocked, geom) {
	c, h, w := xs[0].c, xs[0].h, xs[0].w
	gm := newGeom(len(xs), h, w)
	b := new(sampler.Blocked)
	b.Resize(gm.groups*G, c)
	raw, s := b.Raw(), b.Stride()
	for i := range gm.groups * s {
		raw[i] = float32(math.NaN())
	}
	clearPadding(raw, s, gm.groups, c)
	for i, x := range xs {
		for ch := range c {
			for y := range h {
				for xx := range w {
					raw[at(gm.pos(i, y, xx), ch, s)] = float32(x.v[(ch*h+y)*w+xx])
				}
			}
		}
	}
	return b, gm
}

// images reads c channels of every image back from a blocked matrix.
func images(b *sampler.Blocked, gm geom, c int) []float32 {
	out := make([]float32, gm.n*c*gm.h*gm.w)
	toImages(out, b.Raw(), b.Stride(), gm, c)
	return out
}

func randImgs(n, c, h, w int, seed uint64) []img64 {
	f := randn(n*c*h*w, seed)
	xs := make([]img64, n)
	for b := range xs {
		xs[b] = img64{c, h, w, make([]float64, c*h*w)}
		for i := range xs[b].v {
			xs[b].v[i] = float64(f[b*c*h*w+i])
		}
	}
	return xs
}

func mapRef(xs []img64, f func(img64) img64) []img64 {
	o := make([]img64, len(xs))
	for i, x := range xs {
		o[i] = f(x)
	}
	return o
}

// TestOps: a 3×3 convolution (planes, im2col, product) and a 1×1 one (a product on the
// blocked matrix) to 1e-6, GroupNorm + SiLU with and without an added shift to 1e-6,
// pooling, nearest up-sampling with concatenation, and concatenation exactly (to
// 1e-7), time features to 1e-7, on a batch whose groups straddle images.
func TestOps(t *testing.T) {
	const n, h, w, ci, co = 11, 14, 10, 5, 3
	xs := randImgs(n, ci, h, w, 1)
	x, gm := blocked(xs)
	var mm sampler.MatMul
	check := func(name string, got []float32, want []float64, tol float64) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
		}
		if e := maxRel(got, want); e > tol || math.IsNaN(e) {
			t.Errorf("%s: relative error %.3g, want ≤ %g", name, e, tol)
		}
	}
	planes := make([]float32, ci*gm.planeLen())
	toPlanes(planes, chw32(xs), gm, ci)
	wt, b := randn(co*ci*9, 2), randn(co, 3)
	var col, out sampler.Blocked
	col.Resize(gm.groups*G, 9*ci)
	im2col(col.Raw(), col.Stride(), planes, gm, ci, 0, gm.groups)
	mm.MulBlocked(&out, &col, permute3(wt, co, ci), co, sampler.BlockedOpts{Bias: b})
	check("conv 3×3", images(&out, gm, co), chw64(mapRef(xs, func(a img64) img64 { return refConv(a, wt, b, co, 3) })), 1e-6)
	w1 := randn(co*ci, 4)
	mm.MulBlocked(&out, x, w1, co, sampler.BlockedOpts{Bias: b})
	check("conv 1×1", images(&out, gm, co), chw64(mapRef(xs, func(a img64) img64 { return refConv(a, w1, b, co, 1) })), 1e-6)

	gamma, beta := append(randn(ci, 4), 0.5), append(randn(ci, 5), -0.5)
	xs6 := randImgs(n, 6, h, w, 6)
	add := randn(n*6, 8)
	st := make([]float64, 3*n*6)
	for _, shifted := range []bool{false, true} {
		x6, _ := blocked(xs6)
		sc, sh := make([]float32, n*6), make([]float32, n*6)
		var a []float32
		want := xs6
		if shifted {
			a = add
			want = make([]img64, n)
			for i, im := range xs6 {
				want[i] = img64{6, h, w, make([]float64, len(im.v))}
				for j, v := range im.v {
					want[i].v[j] = float64(float32(v) + add[i*6+j/(h*w)])
				}
			}
		}
		gnStats(sc, sh, x6.Raw(), x6.Stride(), gm, 6, 3, gamma, beta, a, st)
		pl := make([]float32, 6*gm.planeLen())
		gnApply(pl, x6.Raw(), x6.Stride(), gm, 6, sc, sh)
		var got []float32
		for i := range n {
			for ch := range 6 {
				for y := range h {
					got = append(got, pl[ch*gm.planeLen()+gm.margin+gm.pos(i, y, 0):][:w]...)
				}
			}
		}
		check("groupnorm", got, chw64(mapRef(want, func(a img64) img64 { return refSiLU(refGroupNorm(a, gamma, beta, 3)) })), 1e-6)
	}

	gp := newGeom(n, h/2, w/2)
	var pool sampler.Blocked
	pool.Resize(gp.groups*G, ci)
	avgPool2(pool.Raw(), pool.Stride(), gp, x.Raw(), x.Stride(), gm, ci)
	check("avgpool", images(&pool, gp, ci), chw64(mapRef(xs, refPool)), 1e-7)

	ys := randImgs(n, 2, 2*h, 2*w, 7)
	y, gy := blocked(ys)
	var up sampler.Blocked
	up.Resize(gy.groups*G, ci+2)
	upcat(up.Raw(), up.Stride(), gy, x.Raw(), x.Stride(), gm, ci, y.Raw(), y.Stride(), 2)
	var want []img64
	for i := range xs {
		want = append(want, refCat(refUp(xs[i]), ys[i]))
	}
	check("upsample, concat", images(&up, gy, ci+2), chw64(want), 1e-7)

	zs := randImgs(n, 2, h, w, 9)
	z, _ := blocked(zs)
	var cat sampler.Blocked
	cat.Resize(gm.groups*G, ci+2)
	catSame(cat.Raw(), cat.Stride(), x.Raw(), x.Stride(), ci, z.Raw(), z.Stride(), 2, gm.groups)
	want = want[:0]
	for i := range xs {
		want = append(want, refCat(xs[i], zs[i]))
	}
	check("concat", images(&cat, gm, ci+2), chw64(want), 1e-7)

	ts := []float64{0, 1e-3, 0.5, 1}
	feat := make([]float32, len(ts)*8)
	TimeFeatures(feat, ts, 8)
	var wantF []float64
	for _, tt := range ts {
		wantF = append(wantF, refTime(tt, 8)...)
	}
	check("time features", feat, wantF, 1e-7)
	if feat[0] != 0 || feat[4] != 1 || math.Abs(float64(feat[8])-math.Sin(1)) > 1e-7 {
		t.Errorf("time features at t = 0: %v; at 1e-3 sin φ_0 = %g, want sin 1", feat[:8], feat[8])
	}
}

// TestSiLU: normSiLU (the WebAssembly SIMD build's four lanes at a time) gives
// normSiLUGo's bits on runs of every length up to 24, extremes included; normSiLUGo is
// fastexp.SiLU of the affine map (fastexp's TestSiLU holds its accuracy).
func TestSiLU(t *testing.T) {
	src := randn(24, 3)
	for i := range src {
		src[i] *= 30
	}
	src[1], src[5], src[6], src[9] = float32(math.Inf(1)), -200, 200, float32(math.NaN())
	for n := range 25 {
		for _, sc := range []float32{1, 3.5, -0.25} {
			got, want := make([]float32, n), make([]float32, n)
			normSiLU(got, src[:n], sc, 0.5)
			normSiLUGo(want, src[:n], sc, 0.5)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("normSiLU on %d values, scale %g: [%d] = %g, normSiLUGo %g", n, sc, i, got[i], want[i])
				}
			}
		}
	}
}
