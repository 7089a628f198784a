package report

import (
	"fmt"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// Point is one sampling run of a sweep: a solver setting, the NFE it spent and the
// W2 of its samples against fresh data.
type Point struct {
	Solver string  `json:"solver"`
	Tol    float64 `json:"tol,omitempty"` // dopri5's rtol = atol
	NFE    int     `json:"nfe"`
	W2     float64 `json:"w2"`
}

// SweepNFEs are the NFE budgets of the fixed-step solvers in a sweep; budgets that a
// solver cannot spend in whole steps are skipped.
var SweepNFEs = []int{2, 4, 8, 16, 32, 64}

// SweepTols are dopri5's tolerances in a sweep.
var SweepTols = []float64{1e-2, 1e-3, 1e-4}

// Sweep samples n points from the model with every solver at every budget, all from
// the same noise, and measures W2 against one fresh data draw of size n. tick is
// called after each run (for progress).
func Sweep(f *weights.File, n int, seed uint64, tick func()) ([]Point, error) {
	name := f.Meta.Data.Name
	data, err := dataset.Sample(name, n, rand.New(rand.NewPCG(seed, 2)))
	if err != nil {
		return nil, err
	}
	var pts []Point
	run := func(so sampler.Options, tol float64) error {
		x, st, err := f.Sample(n, rand.New(rand.NewPCG(seed, 1)), so)
		if err != nil {
			return fmt.Errorf("report: %s %s: %w", name, so.Method, err)
		}
		w, err := metrics.W2(x, data, f.Meta.Data.Dim)
		if err != nil {
			return fmt.Errorf("report: %s %s: %w", name, so.Method, err)
		}
		pts = append(pts, Point{Solver: so.Method, Tol: tol, NFE: st.NFE, W2: w})
		if tick != nil {
			tick()
		}
		return nil
	}
	for _, m := range sampler.Methods() {
		if m == sampler.Dopri5 {
			for _, tol := range SweepTols {
				if err := run(sampler.Options{Method: m, RTol: tol, ATol: tol}, tol); err != nil {
					return nil, err
				}
			}
			continue
		}
		for _, nfe := range SweepNFEs {
			steps, err := sampler.StepsForNFE(m, nfe)
			if err != nil {
				continue
			}
			if err := run(sampler.Options{Method: m, Steps: steps}, 0); err != nil {
				return nil, err
			}
		}
	}
	return pts, nil
}

// SweepRuns is how many runs Sweep makes, for progress bars.
func SweepRuns() int {
	k := len(SweepTols)
	for _, m := range sampler.Methods() {
		for _, nfe := range SweepNFEs {
			if _, err := sampler.StepsForNFE(m, nfe); err == nil {
				k++
			}
		}
	}
	return k
}

// MinNFE is the smallest NFE at which any run of solver reached W2 ≤ target, or 0 if
// none did.
func MinNFE(pts []Point, solver string, target float64) int {
	best := 0
	for _, p := range pts {
		if p.Solver == solver && p.W2 <= target && (best == 0 || p.NFE < best) {
			best = p.NFE
		}
	}
	return best
}

// Floor is the data-vs-data W2 floor of a dataset at n points, averaged over reps.
func Floor(name string, n, reps int, seed uint64) (float64, error) {
	rng := rand.New(rand.NewPCG(seed, 3))
	m, _, err := metrics.W2Floor(func(k int) ([]float32, error) { return dataset.Sample(name, k, rng) },
		dataset.Dim(name), n, reps)
	return m, err
}
