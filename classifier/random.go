package classifier

import (
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/weights"
)

// RandomTensors returns values for every tensor of spec, drawn from a PCG seeded with
// seed: kernels and matrices N(0, 2/fan-in) (He's, for the ReLUs: activations stay of
// order one), where fan-in is the product of the shape after the first dimension, and
// biases N(0, 0.1²), small enough that no layer's units all start dead, so the
// features vary from image to image. It is for tests, benchmarks and examples, which
// need a classifier's shapes and cost rather than its accuracy; the trainer initialises
// its own.
func RandomTensors(spec weights.ClassifierSpec, seed uint64) map[string][]float32 {
	rng := rand.New(rand.NewPCG(seed, 3))
	t := map[string][]float32{}
	for _, ts := range spec.Tensors() {
		n, fan := 1, 1
		for i, d := range ts.Shape {
			n *= d
			if i > 0 {
				fan *= d
			}
		}
		v := make([]float32, n)
		s := 0.1
		if len(ts.Shape) > 1 {
			s = math.Sqrt(2 / float64(fan))
		}
		for i := range v {
			v[i] = float32(s * rng.NormFloat64())
		}
		t[ts.Name] = v
	}
	return t
}
