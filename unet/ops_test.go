package unet

import (
	"math"
	"testing"

	"github.com/flowmatch/flowmatch/sampler"
)

// Each operation against the float64 reference's, on NHWC data converted from the
// reference's CHW; tolerances are relative to the output's scale.

// nhwc converts n CHW samples to the package's NHWC float32 layout.
func nhwc(xs []img64) []float32 {
	var out []float32
	for _, x := range xs {
		f := make([]float32, len(x.v))
		for i, v := range x.v {
			f[i] = float32(v)
		}
		o := make([]float32, len(f))
		toNHWC(o, f, 1, x.c, x.h*x.w)
		out = append(out, o...)
	}
	return out
}

// chw64 converts the reference's outputs to NHWC float64 for comparison.
func chw64(xs []img64) []float64 {
	var out []float64
	for _, x := range xs {
		for p := range x.h * x.w {
			for c := range x.c {
				out = append(out, x.v[c*x.h*x.w+p])
			}
		}
	}
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

// TestOps: conv 3×3 (batch larger than colRows, so im2col runs in blocks) and 1×1 to
// 1e-6, GroupNorm with and without SiLU to 1e-6, pooling, nearest up-sampling and
// concatenation exactly (to 1e-7), time features to 1e-7.
func TestOps(t *testing.T) {
	const n, h, w, ci, co = 11, 14, 14, 5, 3 // 11·196 = 2156 rows > colRows
	xs := randImgs(n, ci, h, w, 1)
	x := nhwc(xs)
	var mm sampler.MatMul
	check := func(name string, got []float32, want []float64, tol float64) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
		}
		if e := maxRel(got, want); e > tol {
			t.Errorf("%s: relative error %.3g, want ≤ %g", name, e, tol)
		}
	}
	for _, k := range []int{3, 1} {
		wt, b := randn(co*ci*k*k, 2), randn(co, 3)
		got := make([]float32, n*h*w*co)
		if k == 3 {
			conv3(&mm, got, x, make([]float32, colRows*ci*9), permute3(wt, co, ci), b, n, h, w, ci, co)
		} else {
			conv1(&mm, got, x, wt, b, n*h*w, ci, co)
		}
		check("conv", got, chw64(mapRef(xs, func(a img64) img64 { return refConv(a, wt, b, co, k) })), 1e-6)
	}
	gamma, beta := randn(ci, 4), randn(ci, 5)
	xs6 := randImgs(n, 6, h, w, 6)
	for _, silu := range []bool{false, true} {
		got := make([]float32, n*h*w*6)
		g6, b6 := append(gamma, 0.5), append(beta, -0.5)
		groupNorm(got, nhwc(xs6), g6, b6, n, h*w, 6, 3, silu, make([]float64, 18))
		want := mapRef(xs6, func(a img64) img64 {
			o := refGroupNorm(a, g6, b6, 3)
			if silu {
				o = refSiLU(o)
			}
			return o
		})
		check("groupnorm", got, chw64(want), 1e-6)
	}
	pool := make([]float32, n*h/2*w/2*ci)
	avgPool2(pool, x, n, h, w, ci)
	check("avgpool", pool, chw64(mapRef(xs, refPool)), 1e-7)
	up := make([]float32, n*h*2*w*2*ci)
	upsample2(up, x, n, h, w, ci)
	check("upsample", up, chw64(mapRef(xs, refUp)), 1e-7)
	ys := randImgs(n, 2, h, w, 7)
	cat := make([]float32, n*h*w*(ci+2))
	concat(cat, x, nhwc(ys), n*h*w, ci, 2)
	var want []img64
	for i := range xs {
		want = append(want, refCat(xs[i], ys[i]))
	}
	check("concat", cat, chw64(want), 1e-7)
	ts := []float64{0, 1e-3, 0.5, 1}
	feat := make([]float32, len(ts)*8)
	timeFeatures(feat, ts, 8)
	var wantF []float64
	for _, tt := range ts {
		wantF = append(wantF, refTime(tt, 8)...)
	}
	check("time features", feat, wantF, 1e-7)
	if feat[0] != 0 || feat[4] != 1 || math.Abs(float64(feat[8])-math.Sin(1)) > 1e-7 {
		t.Errorf("time features at t = 0: %v; at 1e-3 sin φ_0 = %g, want sin 1", feat[:8], feat[8])
	}
}

// TestSiLU: siLU, with its float32 exponential, against float64 on a grid over
// [−100, 100]: within 4e-7 of max(|z·σ(z)|, 1e-30) relative (a few float32 ulp), and 0
// or tiny below −80.
func TestSiLU(t *testing.T) {
	for i := -200000; i <= 200000; i++ {
		z := float64(i) * 5e-4
		got := float64(siLU(float32(z)))
		zf := float64(float32(z))
		want := zf / (1 + math.Exp(-zf))
		if math.Abs(got-want) > 4e-7*max(math.Abs(want), 1e-30) && !(zf < -80 && math.Abs(want) < 1e-32) {
			t.Fatalf("siLU(%g) = %g, want %g", zf, got, want)
		}
	}
	if v := expf(89); !math.IsInf(float64(v), 1) {
		t.Errorf("expf(89) = %g, want +Inf", v)
	}
}
