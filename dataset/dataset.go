package dataset

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
)

// generator fills dst (len 2n, row-major) with n points.
type generator func(dst []float32, n int, rng *rand.Rand)

var generators = map[string]generator{
	"2spirals":     twoSpirals,
	"8gaussians":   eightGaussians,
	"checkerboard": checkerboard,
	"circles":      circles,
	"moons":        moons,
	"pinwheel":     pinwheel,
	"rings":        rings,
	"swissroll":    swissroll,
}

// Names returns the dataset names in sorted order, in a fresh slice.
func Names() []string {
	names := make([]string, 0, len(generators))
	for name := range generators {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Dim returns the number of coordinates per point of the named dataset: 2
// for every dataset here, 0 for an unknown name.
func Dim(name string) int {
	if _, ok := generators[name]; ok {
		return 2
	}
	return 0
}

// Sample draws n points from the named dataset and returns them as n×2
// row-major float32 (x0, y0, x1, y1, ...). The result depends only on the
// state of rng: the same seed gives the same points (for a given version of
// this package; the order of draws is not part of the API). An unknown
// name, n < 0 or a nil rng is an error; n = 0 gives an empty slice.
func Sample(name string, n int, rng *rand.Rand) ([]float32, error) {
	gen, ok := generators[name]
	if !ok {
		return nil, fmt.Errorf("dataset: unknown dataset %q (valid: %s)", name, strings.Join(Names(), ", "))
	}
	if n < 0 {
		return nil, fmt.Errorf("dataset: %s: n = %d, want ≥ 0", name, n)
	}
	if rng == nil {
		return nil, fmt.Errorf("dataset: %s: nil *rand.Rand", name)
	}
	out := make([]float32, 2*n)
	if n > 0 {
		gen(out, n, rng)
	}
	return out, nil
}

// Sampler returns a function that draws from the named dataset with rng, in
// the shape metrics.W2Floor takes. The function shares rng: successive
// calls give fresh, independent draws, and like rng it is not safe for
// concurrent use.
func Sampler(name string, rng *rand.Rand) (func(n int) ([]float32, error), error) {
	if _, ok := generators[name]; !ok {
		return nil, fmt.Errorf("dataset: unknown dataset %q (valid: %s)", name, strings.Join(Names(), ", "))
	}
	if rng == nil {
		return nil, fmt.Errorf("dataset: %s: nil *rand.Rand", name)
	}
	return func(n int) ([]float32, error) { return Sample(name, n, rng) }, nil
}

// linspace returns numpy.linspace(start, stop, num, endpoint): num evenly
// spaced values from start, ending at stop (endpoint) or one step short.
func linspace(start, stop float64, num int, endpoint bool) []float64 {
	out := make([]float64, num)
	if num == 0 {
		return out
	}
	div := float64(num)
	if endpoint {
		div = float64(num - 1)
	}
	if div == 0 {
		out[0] = start
		return out
	}
	step := (stop - start) / div
	for i := range out {
		out[i] = start + float64(i)*step
	}
	if endpoint && num > 1 {
		out[num-1] = stop
	}
	return out
}

// shufflePoints permutes the n rows of pts (n×2) in place.
func shufflePoints(pts []float64, rng *rand.Rand) {
	rng.Shuffle(len(pts)/2, func(i, j int) {
		pts[2*i], pts[2*j] = pts[2*j], pts[2*i]
		pts[2*i+1], pts[2*j+1] = pts[2*j+1], pts[2*i+1]
	})
}

func store(dst []float32, pts []float64) {
	for k, v := range pts {
		dst[k] = float32(v)
	}
}

// eightGaussians: a mixture of eight N(c, 0.5²I) with centres c at radius 4
// on the axes and diagonals, every point then divided by 1.414.
func eightGaussians(dst []float32, n int, rng *rand.Rand) {
	const scale, std, div = 4.0, 0.5, 1.414
	s := 1 / math.Sqrt2
	centers := [8][2]float64{{1, 0}, {-1, 0}, {0, 1}, {0, -1}, {s, s}, {s, -s}, {-s, s}, {-s, -s}}
	for i := 0; i < n; i++ {
		x := rng.NormFloat64() * std
		y := rng.NormFloat64() * std
		c := centers[rng.IntN(8)]
		dst[2*i] = float32((x + scale*c[0]) / div)
		dst[2*i+1] = float32((y + scale*c[1]) / div)
	}
}

// moons: scikit-learn's make_moons(n, noise=0.1), then ×2 + (−1, −0.2).
// make_moons puts n/2 (rounded down) points evenly on the upper unit
// half-circle (endpoints included), the rest on the lower half-circle
// shifted by (1, 0.5), shuffles, and adds N(0, noise²) to each coordinate.
func moons(dst []float32, n int, rng *rand.Rand) {
	const noise = 0.1
	nOut := n / 2
	nIn := n - nOut
	pts := make([]float64, 0, 2*n)
	for _, t := range linspace(0, math.Pi, nOut, true) {
		pts = append(pts, math.Cos(t), math.Sin(t))
	}
	for _, t := range linspace(0, math.Pi, nIn, true) {
		pts = append(pts, 1-math.Cos(t), 1-math.Sin(t)-0.5)
	}
	shufflePoints(pts, rng)
	for k := range pts {
		pts[k] += noise * rng.NormFloat64()
	}
	for i := 0; i < n; i++ {
		pts[2*i] = pts[2*i]*2 - 1
		pts[2*i+1] = pts[2*i+1]*2 - 0.2
	}
	store(dst, pts)
}

// circles: scikit-learn's make_circles(n, factor=0.5, noise=0.08), then ×3.
// make_circles puts n/2 (rounded down) points evenly on the unit circle
// (endpoint excluded), the rest on the circle of radius factor, shuffles,
// and adds N(0, noise²) to each coordinate. Radii 3 and 1.5, noise σ 0.24.
func circles(dst []float32, n int, rng *rand.Rand) {
	const factor, noise, scale = 0.5, 0.08, 3.0
	nOut := n / 2
	nIn := n - nOut
	pts := make([]float64, 0, 2*n)
	for _, t := range linspace(0, 2*math.Pi, nOut, false) {
		pts = append(pts, math.Cos(t), math.Sin(t))
	}
	for _, t := range linspace(0, 2*math.Pi, nIn, false) {
		pts = append(pts, factor*math.Cos(t), factor*math.Sin(t))
	}
	shufflePoints(pts, rng)
	for k := range pts {
		pts[k] = (pts[k] + noise*rng.NormFloat64()) * scale
	}
	store(dst, pts)
}

// rings: FFJORD's four concentric circles of radii 3, 2.25, 1.5 and 0.75,
// each with n/4 (rounded down) evenly spaced points (endpoint excluded) and
// the innermost with the rest, shuffled, plus N(0, 0.08²) per coordinate.
func rings(dst []float32, n int, rng *rand.Rand) {
	const noise = 0.08
	n4 := n / 4
	counts := [4]int{n4, n4, n4, n - 3*n4}
	radii := [4]float64{1, 0.75, 0.5, 0.25}
	pts := make([]float64, 0, 2*n)
	for c, cnt := range counts {
		for _, t := range linspace(0, 2*math.Pi, cnt, false) {
			pts = append(pts, 3*radii[c]*math.Cos(t), 3*radii[c]*math.Sin(t))
		}
	}
	shufflePoints(pts, rng)
	for k := range pts {
		pts[k] += noise * rng.NormFloat64()
	}
	store(dst, pts)
}

// swissroll: scikit-learn's make_swiss_roll(n, noise=1.0) keeping the x and
// z columns, divided by 5: t = 1.5π(1 + 2u) with u ~ U(0, 1), then
// ((t cos t + ε₁)/5, (t sin t + ε₂)/5) with ε ~ N(0, 1). (The height
// column, which FFJORD drops, is not drawn.)
func swissroll(dst []float32, n int, rng *rand.Rand) {
	const noise = 1.0
	for i := 0; i < n; i++ {
		t := 1.5 * math.Pi * (1 + 2*rng.Float64())
		dst[2*i] = float32((t*math.Cos(t) + noise*rng.NormFloat64()) / 5)
		dst[2*i+1] = float32((t*math.Sin(t) + noise*rng.NormFloat64()) / 5)
	}
}

// pinwheel: FFJORD's five-armed pinwheel. Each point has a class k of five
// and features (r, s) with r ~ N(1, 0.3²), s ~ N(0, 0.1²); it is rotated by
// the angle a = 2πk/5 + 0.25·e^r as the row vector (r, s)·[[cos a, −sin a],
// [sin a, cos a]] and scaled by 2. FFJORD returns 5·⌊n/5⌋ points with the
// classes in equal numbers; here the n mod 5 extra points go one each to the
// first classes, so exactly n come back. Rows are shuffled, as in FFJORD.
func pinwheel(dst []float32, n int, rng *rand.Rand) {
	const radialStd, tangentialStd, rate, classes = 0.3, 0.1, 0.25, 5
	rads := linspace(0, 2*math.Pi, classes, false)
	pts := make([]float64, 0, 2*n)
	per := n / classes
	for k := 0; k < classes; k++ {
		cnt := per
		if k < n%classes {
			cnt++
		}
		for j := 0; j < cnt; j++ {
			r := rng.NormFloat64()*radialStd + 1
			s := rng.NormFloat64() * tangentialStd
			a := rads[k] + rate*math.Exp(r)
			sin, cos := math.Sincos(a)
			pts = append(pts, 2*(r*cos+s*sin), 2*(-r*sin+s*cos))
		}
	}
	shufflePoints(pts, rng)
	store(dst, pts)
}

// twoSpirals: FFJORD's two interleaved spirals. On one arm, m = 3π·√u
// (u ~ U(0, 1); 540°), and the point is (−m cos m + 0.5u₁, m sin m + 0.5u₂)
// with u₁, u₂ ~ U(0, 1); the other arm is its negation. Both are divided by
// 3 and get N(0, 0.1²) per coordinate. FFJORD returns 2·⌊n/2⌋ points with
// the arms in two blocks; here the first arm gets the odd point, if any, and
// the rows are shuffled so that any prefix is a fair sample.
func twoSpirals(dst []float32, n int, rng *rand.Rand) {
	const turns = 540 * (2 * math.Pi) / 360
	half := n / 2
	nA := n - half
	pts := make([]float64, 0, 2*n)
	for i := 0; i < n; i++ {
		m := math.Sqrt(rng.Float64()) * turns
		x := -math.Cos(m)*m + rng.Float64()*0.5
		y := math.Sin(m)*m + rng.Float64()*0.5
		if i >= nA {
			x, y = -x, -y
		}
		pts = append(pts, x, y)
	}
	for k := range pts {
		pts[k] = pts[k]/3 + 0.1*rng.NormFloat64()
	}
	shufflePoints(pts, rng)
	store(dst, pts)
}

// checkerboard: FFJORD's 4×4 checkerboard on [−4, 4]². x₁ ~ U(−2, 2);
// x₂ ~ U(0, 1) − 2b with b a fair bit, plus 1 when ⌊x₁⌋ is odd; the point
// is 2(x₁, x₂). The eight filled squares of side 2 are those where
// ⌊x/2⌋ + ⌊y/2⌋ is even.
func checkerboard(dst []float32, n int, rng *rand.Rand) {
	for i := 0; i < n; i++ {
		x1 := rng.Float64()*4 - 2
		x2 := rng.Float64() - float64(rng.IntN(2))*2
		if int(math.Floor(x1))&1 == 1 { // Python's floor(x1) % 2 (≥ 0)
			x2++
		}
		dst[2*i] = float32(2 * x1)
		dst[2*i+1] = float32(2 * x2)
	}
}
