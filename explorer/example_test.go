package explorer_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/explorer"
	"github.com/flowmatch/flowmatch/sampler"
)

// An App needs a manifest of models, a loader and (for the overlays and the quality
// figure) a data source. Here the "model" is the exact flow field of a Gaussian.
func Example() {
	path, _ := sampler.NewPath(sampler.PathSpec{Name: sampler.PathOT})
	field := sampler.GaussianTarget{Path: path, Mean: []float64{2, 0}, Var: []float64{0.25, 0.25}}
	man := &explorer.Manifest{Version: 1, Models: []explorer.Entry{
		{Name: "blob-ot", Dataset: "blob", Path: "ot", File: "blob-ot.safetensors"},
	}}
	cfg := explorer.Config{
		Load: func(e explorer.Entry) (*explorer.Model, error) {
			return &explorer.Model{Name: e.Name, Dataset: e.Dataset, Path: path, Field: field}, nil
		},
		Data: func(_ string, n int, seed uint64) ([]float32, error) {
			rng := rand.New(rand.NewPCG(seed, 1))
			pts := make([]float32, 2*n)
			for i := 0; i < n; i++ {
				pts[2*i] = float32(2 + 0.5*rng.NormFloat64())
				pts[2*i+1] = float32(0.5 * rng.NormFloat64())
			}
			return pts, nil
		},
	}
	s := explorer.DefaultSettings()
	s.Particles = 1000
	app := explorer.New(cfg, man, s, nil)
	if err := app.Set("solver", "rk4"); err != nil {
		fmt.Println(err)
	}
	fmt.Println(app.Set("solver", "adams"))

	// A front end calls app.Update and draws app.Scene every frame; Settle does all the
	// work at once, and "t" seeks to the end of the run.
	app.Settle()
	app.Set("t", "1")
	st := app.Status()
	var mean float64
	for _, p := range st.Sample {
		mean += float64(p[0]) / float64(len(st.Sample))
	}
	fmt.Printf("%s with %s: t = %g after %d evaluations in %d steps\n", st.Model, st.Solver, st.T, st.NFE, st.Steps)
	fmt.Printf("mean x of %d particles: %.1f\n", len(st.Sample), mean)
	// Output:
	// solver: "adams" is not one of euler, midpoint, heun, rk4, dopri5
	// blob-ot with rk4: t = 1 after 20 evaluations in 5 steps
	// mean x of 1000 particles: 2.0
}
