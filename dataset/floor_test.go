package dataset_test

import (
	"math/rand/v2"
	"os"
	"testing"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/metrics"
)

// leadFloor holds the W2 floors (2,000 points, mean of 6) measured by the
// project lead on FFJORD's generator (DESIGN.md), with the relative band a
// mean of 6 of ours must fall in. 8gaussians gets a wide band: its floor is
// dominated by how unevenly the eight blobs are filled, and one repetition
// varies by 10–30 % (a SciPy run of FFJORD's code here gave 0.29 ± 0.08 per
// repetition; this package gave 0.22 ± 0.02).
var leadFloor = map[string]struct{ w, band float64 }{
	"moons":      {0.083, 0.10},
	"8gaussians": {0.24, 0.35},
	"rings":      {0.077, 0.10},
}

// TestW2FloorQuick draws one pair of 2,000-point moons samples and checks
// their W2 against the lead's floor (one repetition: ±30 %).
func TestW2FloorQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000-point assignment; skipped in -short mode")
	}
	s, err := dataset.Sampler("moons", rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := metrics.W2Floor(s, 2, 2000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := leadFloor["moons"].w; w < 0.7*want || w > 1.3*want {
		t.Errorf("moons W2 between two 2,000-point draws = %.4f, lead's floor %.3f", w, want)
	}
}

// TestW2FloorTable measures the floor of every dataset at 2,000 points,
// mean of 6, as DESIGN.md quotes it. It takes about a minute natively, so it
// runs only with FLOWMATCH_FLOOR=1.
func TestW2FloorTable(t *testing.T) {
	if os.Getenv("FLOWMATCH_FLOOR") == "" {
		t.Skip("set FLOWMATCH_FLOOR=1 to measure the W2 floor table (about a minute)")
	}
	for i, name := range dataset.Names() {
		s, err := dataset.Sampler(name, rand.New(rand.NewPCG(uint64(i), 2000)))
		if err != nil {
			t.Fatal(err)
		}
		mean, std, err := metrics.W2Floor(s, 2, 2000, 6)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%-12s floor %.4f ± %.4f (n=2000, 6 reps; sd of one rep)", name, mean, std)
		if ref, ok := leadFloor[name]; ok && (mean < (1-ref.band)*ref.w || mean > (1+ref.band)*ref.w) {
			t.Errorf("%s floor %.4f, lead measured %.3f (band ±%.0f %%)", name, mean, ref.w, 100*ref.band)
		}
	}
}
