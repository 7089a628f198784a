package sampler_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/sampler"
)

// Sampling: draw source noise, integrate the velocity field from t = 0 to 1.
// Here the field is the exact one for Gaussian data N((2, −1), diag(0.25, 1));
// a trained model from the weights package is used the same way.
func Example() {
	path, _ := sampler.NewPath(sampler.PathSpec{Name: sampler.PathOT})
	field := sampler.GaussianTarget{Path: path, Mean: []float64{2, -1}, Var: []float64{0.25, 1}}

	rng := rand.New(rand.NewPCG(1, 2))
	n := 10000
	x := make([]float32, 2*n) // n points, row-major
	for i := range x {
		x[i] = float32(path.SourceStd() * rng.NormFloat64())
	}
	stats, err := sampler.Solve(field, x, sampler.Options{Method: sampler.Midpoint, Steps: 10, T1: path.TMax()})
	if err != nil {
		panic(err)
	}
	var mx, my float64
	for i := 0; i < n; i++ {
		mx += float64(x[2*i]) / float64(n)
		my += float64(x[2*i+1]) / float64(n)
	}
	fmt.Printf("NFE %d, mean (%.1f, %.1f)\n", stats.NFE, mx, my)
	// Output: NFE 20, mean (2.0, -1.0)
}

// The log-likelihood of points under the model, by the continuity equation.
func ExampleLogLikelihood() {
	path, _ := sampler.NewPath(sampler.PathSpec{Name: sampler.PathOT})
	field := sampler.GaussianTarget{Path: path, Mean: []float64{0, 0}, Var: []float64{1, 1}}
	ll, _, err := sampler.LogLikelihood(field, path, []float32{0, 0}, sampler.LikelihoodOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("log p(0, 0) = %.4f (exact −log 2π = −1.8379)\n", ll[0])
	// Output: log p(0, 0) = -1.8379 (exact −log 2π = −1.8379)
}
