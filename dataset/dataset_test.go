package dataset

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

func TestNames(t *testing.T) {
	want := []string{"2spirals", "8gaussians", "checkerboard", "circles", "moons", "pinwheel", "rings", "swissroll"}
	got := Names()
	if !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	got[0] = "changed"
	if Names()[0] != "2spirals" {
		t.Error("Names() shares its slice with the caller")
	}
	for _, name := range want {
		if Dim(name) != 2 {
			t.Errorf("Dim(%q) = %d, want 2", name, Dim(name))
		}
	}
	if Dim("mnist") != 0 {
		t.Errorf("Dim of an unknown name = %d, want 0", Dim("mnist"))
	}
}

func TestSampleErrors(t *testing.T) {
	_, err := Sample("spiral", 10, newRNG(1))
	if err == nil {
		t.Fatal("unknown name: no error")
	}
	for _, name := range Names() {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not list %q", err, name)
		}
	}
	if _, err := Sample("moons", -1, newRNG(1)); err == nil {
		t.Error("n = -1: no error")
	}
	if _, err := Sample("moons", 10, nil); err == nil {
		t.Error("nil rng: no error")
	}
	if _, err := Sampler("nope", newRNG(1)); err == nil {
		t.Error("Sampler with unknown name: no error")
	}
	if _, err := Sampler("moons", nil); err == nil {
		t.Error("Sampler with nil rng: no error")
	}
}

// TestSizes checks that every dataset returns exactly n finite points for
// small and awkward n, including those FFJORD's code rounds down.
func TestSizes(t *testing.T) {
	for _, name := range Names() {
		for _, n := range []int{0, 1, 2, 3, 4, 5, 6, 7, 11, 101} {
			p, err := Sample(name, n, newRNG(uint64(n)))
			if err != nil {
				t.Fatalf("%s n=%d: %v", name, n, err)
			}
			if len(p) != 2*n {
				t.Fatalf("%s n=%d: len = %d, want %d", name, n, len(p), 2*n)
			}
			for k, v := range p {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || math.Abs(float64(v)) > 8 {
					t.Fatalf("%s n=%d: value %d is %v", name, n, k, v)
				}
			}
		}
	}
}

func TestDeterministic(t *testing.T) {
	for _, name := range Names() {
		a, _ := Sample(name, 500, newRNG(42))
		b, _ := Sample(name, 500, newRNG(42))
		c, _ := Sample(name, 500, newRNG(43))
		if !slices.Equal(a, b) {
			t.Errorf("%s: same seed, different samples", name)
		}
		if slices.Equal(a, c) {
			t.Errorf("%s: different seeds, same samples", name)
		}
	}
	// A Sampler shares its rng: two calls give different draws, and the
	// sequence matches calling Sample on the same rng.
	s, err := Sampler("rings", newRNG(7))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := s(100)
	b, _ := s(100)
	if slices.Equal(a, b) {
		t.Error("Sampler: two calls gave the same points")
	}
	r := newRNG(7)
	a2, _ := Sample("rings", 100, r)
	b2, _ := Sample("rings", 100, r)
	if !slices.Equal(a, a2) || !slices.Equal(b, b2) {
		t.Error("Sampler differs from Sample on the same rng")
	}
}

func TestLinspace(t *testing.T) {
	tests := []struct {
		start, stop float64
		num         int
		endpoint    bool
		want        []float64
	}{
		{0, 1, 5, true, []float64{0, 0.25, 0.5, 0.75, 1}},
		{0, 1, 4, false, []float64{0, 0.25, 0.5, 0.75}},
		{2, 3, 1, true, []float64{2}},
		{2, 3, 1, false, []float64{2}},
		{2, 3, 0, true, []float64{}},
	}
	for _, tt := range tests {
		if got := linspace(tt.start, tt.stop, tt.num, tt.endpoint); !slices.Equal(got, tt.want) {
			t.Errorf("linspace(%v, %v, %d, %v) = %v, want %v", tt.start, tt.stop, tt.num, tt.endpoint, got, tt.want)
		}
	}
}

// TestStratifiedCounts: with n = 10, rings puts 2, 2, 2 and 4 points on its
// circles (FFJORD's split), and circles and moons put 5 on each curve.
func TestStratifiedCounts(t *testing.T) {
	count := func(name string, n int, classify func(x, y float64) int, k int) []int {
		p, err := Sample(name, n, newRNG(3))
		if err != nil {
			t.Fatal(err)
		}
		c := make([]int, k)
		for i := 0; i < n; i++ {
			c[classify(float64(p[2*i]), float64(p[2*i+1]))]++
		}
		return c
	}
	ring := func(x, y float64) int {
		r := math.Hypot(x, y)
		return min(3, max(0, int(math.Round((3-r)/0.75))))
	}
	if got := count("rings", 10, ring, 4); !slices.Equal(got, []int{2, 2, 2, 4}) {
		t.Errorf("rings n=10: per-circle counts %v, want [2 2 2 4]", got)
	}
	if got := count("rings", 1001, ring, 4); !slices.Equal(got, []int{250, 250, 250, 251}) {
		t.Errorf("rings n=1001: per-circle counts %v, want [250 250 250 251]", got)
	}
	circ := func(x, y float64) int {
		if math.Hypot(x, y) > 2.25 {
			return 0
		}
		return 1
	}
	if got := count("circles", 11, circ, 2); !slices.Equal(got, []int{5, 6}) {
		t.Errorf("circles n=11: outer, inner counts %v, want [5 6]", got)
	}
}
