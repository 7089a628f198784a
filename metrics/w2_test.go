package metrics

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// sortedW2 is the closed form of W2 on the line: pair the sorted points.
func sortedW2(a, b []float32) float64 {
	as := slices.Clone(a)
	bs := slices.Clone(b)
	slices.Sort(as)
	slices.Sort(bs)
	var s float64
	for i := range as {
		t := float64(as[i]) - float64(bs[i])
		s += t * t
	}
	return math.Sqrt(s / float64(len(as)))
}

func gaussCloud(r *rand.Rand, n, d int, scale float64) []float32 {
	p := make([]float32, n*d)
	for k := range p {
		p[k] = float32(scale * r.NormFloat64())
	}
	return p
}

func TestW2Shift(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	tests := []struct {
		n int
		c []float64
	}{
		{1, []float64{3, 4}},
		{10, []float64{0.25, -0.5}},
		{200, []float64{1, 1}},
		{300, []float64{-2, 0.5}},
		{100, []float64{0.1, 0.2, 0.3}},
		{50, []float64{10}},
	}
	for _, tt := range tests {
		d := len(tt.c)
		a := gaussCloud(r, tt.n, d, 1)
		b := make([]float32, len(a))
		// The shifted copy is rounded to float32: measure |c| on the
		// rounded differences so that the check is exact to float64 sums.
		var want float64
		for i := 0; i < tt.n; i++ {
			for k := 0; k < d; k++ {
				b[i*d+k] = float32(float64(a[i*d+k]) + tt.c[k])
				diff := float64(b[i*d+k]) - float64(a[i*d+k])
				want += diff * diff
			}
		}
		want = math.Sqrt(want / float64(tt.n))
		var norm float64
		for _, x := range tt.c {
			norm += x * x
		}
		norm = math.Sqrt(norm)
		got, err := W2(a, b, d)
		if err != nil {
			t.Fatal(err)
		}
		// A translation is matched point to point, so W2 = |c|.
		if math.Abs(got-want) > 1e-9 || math.Abs(got-norm) > 1e-5*norm {
			t.Errorf("n=%d c=%v: W2 = %.12f, want |c| = %.12f (float32-rounded %.12f)", tt.n, tt.c, got, norm, want)
		}
		rev, err := W2(b, a, d)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(rev-got) > 1e-12 {
			t.Errorf("n=%d: W2 not symmetric: %v vs %v", tt.n, got, rev)
		}
	}
}

func TestW2Properties(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	const n, d = 150, 2
	a := gaussCloud(r, n, d, 1)
	b := gaussCloud(r, n, d, 1.5)
	c := gaussCloud(r, n, d, 0.7)

	self, err := W2(a, a, d)
	if err != nil {
		t.Fatal(err)
	}
	if self != 0 {
		t.Errorf("W2(a, a) = %v, want 0", self)
	}

	// Invariant under reordering either set.
	perm := r.Perm(n)
	bp := make([]float32, len(b))
	for i, j := range perm {
		copy(bp[i*d:(i+1)*d], b[j*d:(j+1)*d])
	}
	ab, _ := W2(a, b, d)
	abp, _ := W2(a, bp, d)
	if math.Abs(ab-abp) > 1e-12 {
		t.Errorf("W2 changed under permutation of b: %v vs %v", ab, abp)
	}

	// W2 is a metric on equal-size empirical measures.
	ac, _ := W2(a, c, d)
	bc, _ := W2(b, c, d)
	if ab > ac+bc+1e-12 {
		t.Errorf("triangle inequality fails: W2(a,b)=%v > W2(a,c)+W2(c,b)=%v", ab, ac+bc)
	}

	// Scaling both sets scales W2.
	a2 := make([]float32, len(a))
	b2 := make([]float32, len(b))
	for k := range a {
		a2[k] = 2 * a[k]
		b2[k] = 2 * b[k]
	}
	ab2, _ := W2(a2, b2, d)
	if math.Abs(ab2-2*ab) > 1e-9 {
		t.Errorf("W2(2a, 2b) = %v, want 2·W2(a, b) = %v", ab2, 2*ab)
	}

	// Never above the identity matching, never below the 1D bound of any
	// coordinate (projections are 1-Lipschitz).
	var id float64
	for k := range a {
		x := float64(a[k]) - float64(b[k])
		id += x * x
	}
	id = math.Sqrt(id / n)
	if ab > id {
		t.Errorf("W2 = %v above the identity matching %v", ab, id)
	}
	for k := 0; k < d; k++ {
		pa := make([]float32, n)
		pb := make([]float32, n)
		for i := 0; i < n; i++ {
			pa[i] = a[i*d+k]
			pb[i] = b[i*d+k]
		}
		if lb := sortedW2(pa, pb); ab < lb-1e-12 {
			t.Errorf("W2 = %v below the coordinate-%d bound %v", ab, k, lb)
		}
	}
}

func TestW2Errors(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	tests := []struct {
		name string
		a, b []float32
		d    int
	}{
		{"sizes differ", []float32{0, 0, 1, 1}, []float32{0, 0}, 2},
		{"ragged a", []float32{0, 0, 1}, []float32{0, 0, 1, 1}, 2},
		{"ragged b", []float32{0, 0}, []float32{0, 0, 1}, 2},
		{"empty", nil, nil, 2},
		{"d=0", []float32{1}, []float32{1}, 0},
		{"NaN in a", []float32{0, nan}, []float32{0, 0}, 2},
		{"Inf in b", []float32{0, 0}, []float32{inf, 0}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := W2(tt.a, tt.b, tt.d); err == nil {
				t.Errorf("W2 = %v with no error", got)
			}
		})
	}
}

func TestSqDistMatrix(t *testing.T) {
	a := []float32{0, 0, 1, 2}
	b := []float32{3, 4, 1, 0, -1, 2}
	got, err := SqDistMatrix(a, b, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{25, 1, 5, 8, 4, 4}
	if !slices.Equal(got, want) {
		t.Errorf("SqDistMatrix = %v, want %v", got, want)
	}
	got3, err := SqDistMatrix([]float32{1, 2, 3}, []float32{0, 0, 0, 1, 2, 4}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want3 := []float64{14, 1}; !slices.Equal(got3, want3) {
		t.Errorf("SqDistMatrix d=3 = %v, want %v", got3, want3)
	}
	if _, err := SqDistMatrix(a, []float32{1}, 2); err == nil {
		t.Error("ragged b: no error")
	}
}

func TestW2Floor(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	sample := func(n int) ([]float32, error) { return gaussCloud(r, n, 2, 1), nil }
	mean, std, err := W2Floor(sample, 2, 200, 3)
	if err != nil {
		t.Fatal(err)
	}
	// Two 200-point draws of N(0, I₂) sit about 0.3–0.4 apart in W2; the
	// floor must be clearly positive and far below the distribution scale.
	if !(mean > 0.15 && mean < 0.6) || !(std >= 0 && std < mean) {
		t.Errorf("W2Floor = %v ± %v, want about 0.3", mean, std)
	}
	// Larger samples give a lower floor.
	big, _, err := W2Floor(sample, 2, 800, 2)
	if err != nil {
		t.Fatal(err)
	}
	if big >= mean {
		t.Errorf("floor at n=800 (%v) not below floor at n=200 (%v)", big, mean)
	}

	if _, _, err := W2Floor(nil, 2, 10, 1); err == nil {
		t.Error("nil sampler: no error")
	}
	if _, _, err := W2Floor(sample, 2, 0, 1); err == nil {
		t.Error("n=0: no error")
	}
	failing := func(n int) ([]float32, error) { return nil, ErrEmpty }
	if _, _, err := W2Floor(failing, 2, 10, 1); !errors.Is(err, ErrEmpty) {
		t.Errorf("failing sampler: error %v, want it wrapped", err)
	}
	short := func(n int) ([]float32, error) { return make([]float32, n), nil }
	if _, _, err := W2Floor(short, 2, 10, 1); err == nil {
		t.Error("sampler returning the wrong length: no error")
	}
}

// TestTooLarge: above MaxN every exact-assignment function refuses at once, before it
// allocates the n×n matrix (80 GB at n = 100,000: a fatal out-of-memory, not an error)
// or calls the sampler.
func TestTooLarge(t *testing.T) {
	const n = 100000
	a := make([]float32, 2*n)
	_, err := W2(a, a, 2)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "80 GB") || !strings.Contains(err.Error(), fmt.Sprintf("MaxN = %d", MaxN)) {
		t.Errorf("W2 at n = %d: %v", n, err)
	}
	if _, _, err := Assign(nil, MaxN+1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Assign at n = MaxN+1: %v", err)
	}
	never := func(int) ([]float32, error) {
		t.Fatal("the sampler was called for n above MaxN")
		return nil, nil
	}
	if _, _, err := W2Floor(never, 2, MaxN+1, 1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("W2Floor at n = MaxN+1: %v", err)
	}
	if _, _, err := W2IIDFloor(never, 2, MaxN+1, 1, rand.New(rand.NewPCG(1, 1))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("W2IIDFloor at n = MaxN+1: %v", err)
	}
	// MaxN itself passes W2's check (solving it would take seconds).
	if m, err := checkPointsMax("W2", "a", a[:2*MaxN], 2, MaxN); err != nil || m != MaxN {
		t.Errorf("W2's check at n = MaxN: %d, %v", m, err)
	}
}
