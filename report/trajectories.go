package report

import (
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// Trajectories integrates n points of the model from the same standard-normal draw
// (seeded by seed, scaled by the path's source std) with steps midpoint steps and
// returns every state, data space, [step][n*d]. The same seed gives every path the
// same underlying noise.
func Trajectories(f *weights.File, n, steps int, seed uint64) ([][]float32, error) {
	mlp, path, err := f.Model()
	if err != nil {
		return nil, err
	}
	d := mlp.Dim()
	rng := rand.New(rand.NewPCG(seed, 5))
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(path.SourceStd() * rng.NormFloat64())
	}
	var states [][]float32
	_, err = sampler.Solve(mlp, x, sampler.Options{Method: sampler.Midpoint, Steps: steps,
		T0: f.Meta.Path.TMin, T1: f.Meta.Path.TMax,
		OnStep: func(_ float64, s []float32) {
			c := append([]float32(nil), s...)
			f.Meta.Data.ToData(c)
			states = append(states, c)
		}})
	return states, err
}

// Straightness is the mean, over points, of |x_end − x_start| divided by the length of
// the polyline through the states: 1 for straight trajectories, less for curved ones.
func Straightness(states [][]float32, d int) float64 {
	if len(states) < 2 {
		return math.NaN()
	}
	n := len(states[0]) / d
	sum := 0.0
	for i := 0; i < n; i++ {
		length := 0.0
		for s := 1; s < len(states); s++ {
			length += dist(states[s][i*d:(i+1)*d], states[s-1][i*d:(i+1)*d])
		}
		if length > 0 {
			sum += dist(states[len(states)-1][i*d:(i+1)*d], states[0][i*d:(i+1)*d]) / length
		} else {
			sum++
		}
	}
	return sum / float64(n)
}

func dist(a, b []float32) float64 {
	s := 0.0
	for j := range a {
		v := float64(a[j] - b[j])
		s += v * v
	}
	return math.Sqrt(s)
}
