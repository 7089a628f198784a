package dataset

import (
	"math"
	"math/cmplx"
	"testing"
)

// This file checks each dataset's moments against values computed
// independently of the generators: closed forms where they exist, and
// otherwise one-dimensional quadrature of the defining formulas. Every
// check is a sample mean of some statistic f(x, y) over momentN points,
// compared with its expectation with a tolerance of 5 standard errors
// (estimated from the sample) plus a small absolute slack for the
// evenly-spaced (linspace) placement in moons, circles and rings.

const momentN = 100_000

// stat is one statistic and its expected value.
type stat struct {
	name string
	f    func(x, y float64) float64
	want float64
}

var (
	mx  = func(x, y float64) float64 { return x }
	my  = func(x, y float64) float64 { return y }
	mxx = func(x, y float64) float64 { return x * x }
	myy = func(x, y float64) float64 { return y * y }
	mxy = func(x, y float64) float64 { return x * y }
	re5 = func(x, y float64) float64 { return real(pow5(complex(x, y))) }
	im5 = func(x, y float64) float64 { return imag(pow5(complex(x, y))) }
)

func pow5(z complex128) complex128 { z2 := z * z; return z2 * z2 * z }

// simpson integrates f over [a, b] with composite Simpson's rule on 2k
// intervals.
func simpson(f func(float64) float64, a, b float64, k int) float64 {
	n := 2 * k
	h := (b - a) / float64(n)
	s := f(a) + f(b)
	for i := 1; i < n; i++ {
		w := 2.0
		if i%2 == 1 {
			w = 4
		}
		s += w * f(a+float64(i)*h)
	}
	return s * h / 3
}

// gaussExpect returns E[g(Z)] for Z ~ N(mu, sigma²) by quadrature over ±10σ.
func gaussExpect(g func(float64) float64, mu, sigma float64) float64 {
	return simpson(func(z float64) float64 {
		u := (z - mu) / sigma
		return g(z) * math.Exp(-u*u/2) / (sigma * math.Sqrt(2*math.Pi))
	}, mu-10*sigma, mu+10*sigma, 4000)
}

// expectations returns the statistics to check for each dataset.
func expectations() map[string][]stat {
	// 8gaussians: centres at radius 4, half on the axes; per coordinate
	// E[c²] = 16·(2·1 + 4·½)/8 = 8, plus the blob variance 0.25; ÷ 1.414².
	g8 := (8 + 0.25) / (1.414 * 1.414)

	// circles ×3: radii 3 and 1.5 in equal numbers, noise σ = 0.08·3.
	circ := 0.5*(9.0/2) + 0.5*(2.25/2) + 0.24*0.24

	// rings: radii 3, 2.25, 1.5, 0.75 in equal numbers, noise σ = 0.08.
	ring := (9+5.0625+2.25+0.5625)/8 + 0.08*0.08

	// moons: upper arc (cos θ, sin θ) and lower arc (1 − cos θ, ½ − sin θ),
	// θ uniform on [0, π], noise σ 0.1, then ×2 + (−1, −0.2). With
	// E[cos] = 0, E[sin] = 2/π, E[cos²] = E[sin²] = ½, E[cos·sin] = 0:
	moonXX := 4*(1.0-0.25) + 4*0.01                   // E[x²] = Var x = 3.04
	moonYY := 4*(0.5625-1/math.Pi) + 4*0.01 + 0.3*0.3 // Var y + E[y]²
	moonXY := 0.5 - 4/math.Pi                         // E[xy]

	// swissroll: t uniform on [1.5π, 4.5π], point ((t cos t + ε)/5,
	// (t sin t + ε)/5), ε ~ N(0, 1).
	ta, tb := 1.5*math.Pi, 4.5*math.Pi
	tMean := func(f func(float64) float64) float64 { return simpson(f, ta, tb, 2000) / (tb - ta) }
	swX := tMean(func(t float64) float64 { return t * math.Cos(t) }) / 5
	swY := tMean(func(t float64) float64 { return t * math.Sin(t) }) / 5
	swXX := (tMean(func(t float64) float64 { return t * t * math.Cos(t) * math.Cos(t) }) + 1) / 25
	swYY := (tMean(func(t float64) float64 { return t * t * math.Sin(t) * math.Sin(t) }) + 1) / 25
	swXY := tMean(func(t float64) float64 { return t * t * math.Cos(t) * math.Sin(t) }) / 25

	// 2spirals: on one arm m = 3π√u has density 2m/(9π²) on [0, 3π];
	// X = −m cos m + ½u₁, Y = m sin m + ½u₂; the other arm is (−X, −Y),
	// which leaves second moments unchanged; then ÷3 and N(0, 0.1²).
	mMax := 3 * math.Pi
	mMean := func(f func(float64) float64) float64 {
		return simpson(func(m float64) float64 { return f(m) * 2 * m / (mMax * mMax) }, 0, mMax, 2000)
	}
	mc := mMean(func(m float64) float64 { return m * math.Cos(m) })
	ms := mMean(func(m float64) float64 { return m * math.Sin(m) })
	spXX := (mMean(func(m float64) float64 { return m * m * math.Cos(m) * math.Cos(m) })-0.5*mc+1.0/12)/9 + 0.01
	spYY := (mMean(func(m float64) float64 { return m * m * math.Sin(m) * math.Sin(m) })+0.5*ms+1.0/12)/9 + 0.01
	spXY := (-mMean(func(m float64) float64 { return m * m * math.Cos(m) * math.Sin(m) }) - 0.25*mc + 0.25*ms + 1.0/16) / 9

	// pinwheel: z = x + iy = 2(r + is)·e^{−ia}, a = 2πk/5 + ¼e^r,
	// r ~ N(1, 0.3²), s ~ N(0, 0.1²). Over the five classes E[z^j] = 0
	// unless 5 | j; E|z|² = 4(E r² + E s²) = 4(1.09 + 0.01); and
	// E[z⁵] = 32·E[(r + is)⁵ e^{−5i·¼e^r}] (the e^{−2πik} factors are 1),
	// with E[(r + is)⁵ | r] = r⁵ − 10r³·0.01 + 5r·3·0.1⁴.
	pwR2 := 4 * (1 + 0.09 + 0.01)
	z5 := func(part func(complex128) float64) float64 {
		return 32 * gaussExpect(func(r float64) float64 {
			poly := math.Pow(r, 5) - 10*r*r*r*0.01 + 5*r*3e-4
			return part(complex(poly, 0) * cmplx.Exp(complex(0, -1.25*math.Exp(r))))
		}, 1, 0.3)
	}
	pwZ5re := z5(func(c complex128) float64 { return real(c) })
	pwZ5im := z5(func(c complex128) float64 { return imag(c) })

	// checkerboard: uniform on the eight squares of side 2 in [−4, 4]²
	// where ⌊x/2⌋ + ⌊y/2⌋ is even. Marginals are U(−4, 4) (E x² = 16/3);
	// E[xy] is the mean of the centre products over those squares, 8/8 = 1.
	return map[string][]stat{
		"8gaussians": {{"E x", mx, 0}, {"E y", my, 0}, {"E x²", mxx, g8}, {"E y²", myy, g8}, {"E xy", mxy, 0}},
		"circles":    {{"E x", mx, 0}, {"E y", my, 0}, {"E x²", mxx, circ}, {"E y²", myy, circ}, {"E xy", mxy, 0}},
		"rings":      {{"E x", mx, 0}, {"E y", my, 0}, {"E x²", mxx, ring}, {"E y²", myy, ring}, {"E xy", mxy, 0}},
		"moons":      {{"E x", mx, 0}, {"E y", my, 0.3}, {"E x²", mxx, moonXX}, {"E y²", myy, moonYY}, {"E xy", mxy, moonXY}},
		"swissroll":  {{"E x", mx, swX}, {"E y", my, swY}, {"E x²", mxx, swXX}, {"E y²", myy, swYY}, {"E xy", mxy, swXY}},
		"2spirals":   {{"E x", mx, 0}, {"E y", my, 0}, {"E x²", mxx, spXX}, {"E y²", myy, spYY}, {"E xy", mxy, spXY}},
		"pinwheel": {{"E x", mx, 0}, {"E y", my, 0}, {"E x²", mxx, pwR2 / 2}, {"E y²", myy, pwR2 / 2}, {"E xy", mxy, 0},
			{"Re E z⁵", re5, pwZ5re}, {"Im E z⁵", im5, pwZ5im}},
		"checkerboard": {{"E x", mx, 0}, {"E y", my, 0}, {"E x²", mxx, 16.0 / 3}, {"E y²", myy, 16.0 / 3}, {"E xy", mxy, 1}},
	}
}

func TestMoments(t *testing.T) {
	exp := expectations()
	for i, name := range Names() {
		stats, ok := exp[name]
		if !ok {
			t.Errorf("%s: no expected moments", name)
			continue
		}
		p, err := Sample(name, momentN, newRNG(uint64(100+i)))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range stats {
			var sum, sum2 float64
			for j := 0; j < momentN; j++ {
				v := s.f(float64(p[2*j]), float64(p[2*j+1]))
				sum += v
				sum2 += v * v
			}
			mean := sum / momentN
			se := math.Sqrt(math.Max(sum2/momentN-mean*mean, 0) / momentN)
			tol := 5*se + 1e-3
			if math.Abs(mean-s.want) > tol {
				t.Errorf("%s %s = %.5f, want %.5f ± %.5f", name, s.name, mean, s.want, tol)
			} else {
				t.Logf("%-12s %-8s sample %9.5f  expected %9.5f  (tol %.5f)", name, s.name, mean, s.want, tol)
			}
		}
	}
}

// TestSupport checks where the points lie: the checkerboard's squares, the
// circles' and rings' radii, the 8 Gaussians' centres, the spirals' and
// swiss roll's extent.
func TestSupport(t *testing.T) {
	const n = 20_000
	get := func(name string) []float32 {
		p, err := Sample(name, n, newRNG(9))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	// checkerboard: inside [−4, 4]², on a square with ⌊x/2⌋+⌊y/2⌋ even
	// (points within float32 rounding of a square's edge are let through).
	p := get("checkerboard")
	for i := 0; i < n; i++ {
		x, y := float64(p[2*i]), float64(p[2*i+1])
		if x < -4 || x > 4 || y < -4 || y > 4 {
			t.Fatalf("checkerboard point (%v, %v) outside [−4, 4]²", x, y)
		}
		nearEdge := func(v float64) bool { return math.Abs(v/2-math.Round(v/2)) < 1e-6 }
		if int(math.Floor(x/2)+math.Floor(y/2))&1 != 0 && !nearEdge(x) && !nearEdge(y) {
			t.Fatalf("checkerboard point (%v, %v) on an empty square", x, y)
		}
	}

	// Fractions of points near each radius (bins halfway between radii,
	// 3σ binomial tolerance).
	radii := func(name string, rs []float64, sigma float64) {
		p := get(name)
		counts := make([]int, len(rs))
		far := 0
		for i := 0; i < n; i++ {
			r := math.Hypot(float64(p[2*i]), float64(p[2*i+1]))
			best, bd := 0, math.Inf(1)
			for k, R := range rs {
				if d := math.Abs(r - R); d < bd {
					best, bd = k, d
				}
			}
			counts[best]++
			if bd > 6*sigma {
				far++
			}
		}
		for k := range rs {
			frac := float64(counts[k]) / n
			want := 1 / float64(len(rs))
			if math.Abs(frac-want) > 3*math.Sqrt(want*(1-want)/n) {
				t.Errorf("%s: fraction near radius %v is %.4f, want %.4f", name, rs[k], frac, want)
			}
		}
		if far > 0 {
			t.Errorf("%s: %d points more than 6σ from every radius", name, far)
		}
	}
	radii("circles", []float64{3, 1.5}, 0.24)
	radii("rings", []float64{3, 2.25, 1.5, 0.75}, 0.08)

	// 8gaussians: an eighth of the points nearest each centre, and the mean
	// squared distance to the nearest centre is 2·(0.5/1.414)².
	p = get("8gaussians")
	counts := make([]int, 8)
	var d2 float64
	for i := 0; i < n; i++ {
		x, y := float64(p[2*i]), float64(p[2*i+1])
		// Centre k at angle kπ/4, radius 4/1.414.
		k := int(math.Round(math.Atan2(y, x)/(math.Pi/4))+8) % 8
		cx, cy := 4/1.414*math.Cos(float64(k)*math.Pi/4), 4/1.414*math.Sin(float64(k)*math.Pi/4)
		counts[k]++
		d2 += (x-cx)*(x-cx) + (y-cy)*(y-cy)
	}
	for k, c := range counts {
		if frac := float64(c) / n; math.Abs(frac-0.125) > 3*math.Sqrt(0.125*0.875/n) {
			t.Errorf("8gaussians: fraction at centre %d is %.4f, want 0.125", k, frac)
		}
	}
	// Blobs 2.16 apart with σ 0.354 overlap by about 1e-3: allow 2 %.
	if want := 2 * 0.25 / (1.414 * 1.414); math.Abs(d2/n-want) > 0.02*want {
		t.Errorf("8gaussians: mean squared distance to the nearest centre %.4f, want %.4f", d2/n, want)
	}

	// swissroll: radius in the plane is t/5 ∈ [0.94, 2.83] before noise
	// of σ 0.2 per coordinate.
	p = get("swissroll")
	for i := 0; i < n; i++ {
		if r := math.Hypot(float64(p[2*i]), float64(p[2*i+1])); r < 1.5*math.Pi/5-1.5 || r > 4.5*math.Pi/5+1.5 {
			t.Fatalf("swissroll point at radius %v", r)
		}
	}

	// 2spirals: |point| ≤ (3π + 0.5·√2)/3 before N(0, 0.1²) noise.
	p = get("2spirals")
	for i := 0; i < n; i++ {
		if r := math.Hypot(float64(p[2*i]), float64(p[2*i+1])); r > (3*math.Pi+0.5*math.Sqrt2)/3+0.8 {
			t.Fatalf("2spirals point at radius %v", r)
		}
	}
}

// ffjordRef holds moments of FFJORD's own generator: E x, E y, E x², E y²,
// E xy, Re E z⁵, Im E z⁵ (z = x + iy) over 10⁶ points per dataset. They were
// produced once, outside this repository, by running inf_train_gen from
// rtqichen/ffjord lib/toy_data.py (re-typed for these eight datasets) under
// Debian bookworm's python3-numpy 1.24.2 and python3-sklearn 1.2.1, with
// np.random.seed(12345) and RandomState(2024), in batches of 100,000 points
// (20,000 for 8gaussians), and averaging over all points in float64.
var ffjordRef = map[string][7]float64{
	"2spirals":     {0.00002, 0.00005, 2.59353, 2.51074, 0.58523, 0.03609, -0.01531},
	"8gaussians":   {-0.00016, 0.00087, 4.12100, 4.12956, 0.00220, 0.37141, -0.29070},
	"checkerboard": {0.00354, 0.00137, 5.33740, 5.32759, 1.00050, -0.35930, -0.95202},
	"circles":      {-0.00007, 0.00007, 2.86955, 2.86938, 0.00008, -0.00909, 0.02969},
	"moons":        {-0.00023, 0.29999, 3.03945, 1.10625, -0.77292, 9.38278, 14.43951},
	"pinwheel":     {0.00021, -0.00010, 2.19969, 2.19995, 0.00076, 0.33211, 28.03003},
	"rings":        {-0.00001, 0.00005, 2.11569, 2.11597, 0.00028, 0.00167, -0.00247},
	"swissroll":    {0.40137, 0.04142, 1.95700, 1.97304, 0.18642, 3.80909, 0.23688},
}

// TestFFJORDReference compares each dataset's moments, including the fifth
// complex moment that sees the shapes' orientation, with those of FFJORD's
// generator. The tolerance is 5 standard errors of the difference (this
// sample's, and the reference's, which has 10× the points) plus 10⁻³.
func TestFFJORDReference(t *testing.T) {
	fs := []struct {
		name string
		f    func(x, y float64) float64
	}{{"E x", mx}, {"E y", my}, {"E x²", mxx}, {"E y²", myy}, {"E xy", mxy}, {"Re E z⁵", re5}, {"Im E z⁵", im5}}
	for i, name := range Names() {
		ref, ok := ffjordRef[name]
		if !ok {
			t.Errorf("%s: no FFJORD reference", name)
			continue
		}
		p, err := Sample(name, momentN, newRNG(uint64(200+i)))
		if err != nil {
			t.Fatal(err)
		}
		for k, s := range fs {
			var sum, sum2 float64
			for j := 0; j < momentN; j++ {
				v := s.f(float64(p[2*j]), float64(p[2*j+1]))
				sum += v
				sum2 += v * v
			}
			mean := sum / momentN
			se := math.Sqrt(math.Max(sum2/momentN-mean*mean, 0) / momentN)
			tol := 5*se*math.Sqrt(1+0.1) + 1e-3
			if math.Abs(mean-ref[k]) > tol {
				t.Errorf("%s %s = %.5f, FFJORD %.5f ± %.5f", name, s.name, mean, ref[k], tol)
			}
		}
	}
}
