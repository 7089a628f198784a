package metrics

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// TestW2IIDFloorGaussian: for a distribution sampled without fixed proportions,
// resampling a large draw i.i.d. changes nothing, so the i.i.d. floor equals the
// data-vs-data floor within sampling error.
func TestW2IIDFloorGaussian(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	sample := func(n int) ([]float32, error) { return gaussCloud(r, n, 2, 1), nil }
	const n, reps = 300, 8
	floor, floorStd, err := W2Floor(sample, 2, n, reps)
	if err != nil {
		t.Fatal(err)
	}
	iid, iidStd, err := W2IIDFloor(sample, 2, n, reps, rand.New(rand.NewPCG(23, 24)))
	if err != nil {
		t.Fatal(err)
	}
	// Each floor is a mean of reps draws; the standard error of their difference is
	// sqrt((s1² + s2²)/reps), about 3% of the floor here. 12% is more than three of it.
	const tol = 0.12
	se := math.Sqrt((floorStd*floorStd + iidStd*iidStd) / reps)
	if se > tol*floor/3 {
		t.Errorf("standard error %.4f too large for the %.0f%% tolerance (floor %.4f)", se, 100*tol, floor)
	}
	if math.Abs(iid-floor) > tol*floor {
		t.Errorf("i.i.d. floor %.4f ± %.4f, data floor %.4f ± %.4f: differ by more than %.0f%%",
			iid, iidStd, floor, floorStd, 100*tol)
	}
	t.Logf("n = %d, %d reps: data floor %.4f ± %.4f, i.i.d. floor %.4f ± %.4f", n, reps, floor, floorStd, iid, iidStd)
}

// TestW2IIDFloorFixedProportions: a distribution whose draws put exactly half of
// their points in each of two small clusters a distance D apart. Two such draws
// balance, so the data floor is only the within-cluster W2; an i.i.d. sample puts
// k ~ Binomial(n, 1/2) points in the first cluster, and the |k − n/2| extra ones
// must cross to the other cluster, adding |k − n/2|·D²/n to W2².
func TestW2IIDFloorFixedProportions(t *testing.T) {
	const (
		n, reps = 200, 150
		dist    = 4.0  // D, between the cluster centres
		sigma   = 0.01 // spread of each cluster, small beside D (at 0.05, a 4% bias appears)
	)
	r := rand.New(rand.NewPCG(25, 26))
	sample := func(m int) ([]float32, error) {
		p := make([]float32, 2*m)
		for i := 0; i < m; i++ {
			cx := -dist / 2
			if i >= m/2 {
				cx = dist / 2
			}
			p[2*i] = float32(cx + sigma*r.NormFloat64())
			p[2*i+1] = float32(sigma * r.NormFloat64())
		}
		return p, nil
	}
	floor, _, err := W2Floor(sample, 2, n, 4)
	if err != nil {
		t.Fatal(err)
	}
	iid, iidStd, err := W2IIDFloor(sample, 2, n, reps, rand.New(rand.NewPCG(27, 28)))
	if err != nil {
		t.Fatal(err)
	}
	// Expected i.i.d. floor: E over k ~ Binomial(n, 1/2) of
	// sqrt(|k − n/2|·D²/n + floor²), the crossing points' cost on top of the
	// within-cluster matching. (sqrt(E|k − n/2|·D²/n), with E|k − n/2| ≈
	// sqrt(n/(2π)), is the same to Jensen's gap: about 8% higher.)
	var want, absDev float64
	for k := 0; k <= n; k++ {
		lg := func(x int) float64 { v, _ := math.Lgamma(float64(x + 1)); return v }
		p := math.Exp(lg(n) - lg(k) - lg(n-k) - n*math.Ln2)
		dev := math.Abs(float64(k) - n/2)
		absDev += p * dev
		want += p * math.Sqrt(dev*dist*dist/n+floor*floor)
	}
	if math.Abs(absDev-math.Sqrt(n/(2*math.Pi))) > 0.05 {
		t.Errorf("E|k − n/2| = %.3f, want about sqrt(n/2π) = %.3f", absDev, math.Sqrt(n/(2*math.Pi)))
	}
	// One repetition varies by about 44% (|k − n/2| is half-normal); the mean of 150
	// by about 3.6%. 12% is over three of that; 2,000 repetitions land within 1%.
	if math.Abs(iid-want) > 0.12*want {
		t.Errorf("i.i.d. floor %.4f ± %.4f (sd over %d reps), want %.4f ± 12%% (data floor %.4f)", iid, iidStd, reps, want, floor)
	}
	if iid < 10*floor {
		t.Errorf("i.i.d. floor %.4f not clearly above the data floor %.4f", iid, floor)
	}
	t.Logf("data floor %.4f, i.i.d. floor %.4f ± %.4f, expected %.4f (sqrt(E|k−n/2|·D²/n) = %.4f)",
		floor, iid, iidStd, want, math.Sqrt(absDev*dist*dist/n))
}

func TestW2IIDFloorErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 30))
	sample := func(n int) ([]float32, error) { return gaussCloud(r, n, 2, 1), nil }
	if _, _, err := W2IIDFloor(nil, 2, 10, 1, r); err == nil {
		t.Error("nil sampler: no error")
	}
	if _, _, err := W2IIDFloor(sample, 2, 10, 1, nil); err == nil {
		t.Error("nil random source: no error")
	}
	if _, _, err := W2IIDFloor(sample, 2, 0, 1, r); err == nil {
		t.Error("n=0: no error")
	}
	if _, _, err := W2IIDFloor(sample, 2, 10, 0, r); err == nil {
		t.Error("reps=0: no error")
	}
	failing := func(n int) ([]float32, error) { return nil, ErrEmpty }
	if _, _, err := W2IIDFloor(failing, 2, 10, 1, r); !errors.Is(err, ErrEmpty) {
		t.Errorf("failing sampler: error %v, want it wrapped", err)
	}
	short := func(n int) ([]float32, error) { return make([]float32, n), nil }
	if _, _, err := W2IIDFloor(short, 2, 10, 1, r); err == nil {
		t.Error("sampler returning the wrong length: no error")
	}
	// Only the pool is wrong, or only the fresh draw.
	poolOnly := func(n int) ([]float32, error) {
		if n > 10 {
			return make([]float32, 2*n-2), nil
		}
		return make([]float32, 2*n), nil
	}
	if _, _, err := W2IIDFloor(poolOnly, 2, 10, 1, r); err == nil {
		t.Error("short pool: no error")
	}
	freshOnly := func(n int) ([]float32, error) {
		if n == 10 {
			return make([]float32, 2*n-2), nil
		}
		return make([]float32, 2*n), nil
	}
	if _, _, err := W2IIDFloor(freshOnly, 2, 10, 1, r); err == nil {
		t.Error("short fresh draw: no error")
	}
	one, std, err := W2IIDFloor(sample, 2, 5, 1, r)
	if err != nil || one <= 0 || std != 0 {
		t.Errorf("one rep: %v ± %v, %v; want a positive mean and std 0", one, std, err)
	}
}
