package unet

import (
	"math"
	"math/rand/v2"
	"strings"
)

// RandomTensors returns values for every tensor of c, drawn from a PCG seeded with seed,
// of the sizes a trained network's have: weights N(0, 1/fan-in) (so activations stay of
// order one), the class embedding N(0, 1), GroupNorm gains 1 + N(0, 0.3²) and every
// other vector N(0, 0.3²). It is for tests, benchmarks and examples, which need a
// network's shapes and cost rather than its quality; the trainer initialises its own.
func RandomTensors(c Config, seed uint64) map[string][]float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	w := map[string][]float32{}
	for _, t := range c.Tensors() {
		n := 1
		for _, d := range t.Shape {
			n *= d
		}
		s, mean := 0.3, 0.0
		if len(t.Shape) > 1 {
			s = 1 / math.Sqrt(float64(n/t.Shape[0]))
		}
		if len(t.Shape) == 1 && (strings.HasSuffix(t.Name, "n1.weight") || strings.HasSuffix(t.Name, "n2.weight") || t.Name == "out.0.weight") {
			mean = 1 // GroupNorm's gamma
		}
		if t.Name == "y.weight" {
			s = 1
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(mean + s*rng.NormFloat64())
		}
		w[t.Name] = v
	}
	return w
}
