package recipe

import (
	"math"
	"math/rand/v2"
)

// Random streams: one PCG per purpose, all from the run's seed (rand.NewPCG(seed,
// stream)).
const (
	StreamData = 0x646174610001 // batches (NewStream)
	StreamInit = 0x696e69740002 // initial weights (InitParams)
)

// NumParams is the length of the flat parameter vector of a network whose Linear
// layers have the {out, in} shapes given (sampler.MLPSpec.LayerShapes).
func NumParams(shapes [][2]int) int {
	n := 0
	for _, sh := range shapes {
		n += sh[0]*sh[1] + sh[0]
	}
	return n
}

// InitParams draws PyTorch's default nn.Linear initialisation, in the flat layout of
// Flatten: weights and biases uniform in ±1/√fan_in (kaiming_uniform_ with a = √5
// gives exactly that bound for the weights), from the stream (seed, StreamInit).
func InitParams(shapes [][2]int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, StreamInit))
	flat := make([]float32, 0, NumParams(shapes))
	for _, sh := range shapes {
		out, in := sh[0], sh[1]
		bound := 1 / math.Sqrt(float64(in))
		for i := 0; i < out*in+out; i++ {
			flat = append(flat, float32(bound*(2*rng.Float64()-1)))
		}
	}
	return flat
}

// Unflatten splits a flat parameter vector into PyTorch-layout weights ([out][in]
// row-major) and biases, layer by layer: the layout of weights.NewFile. The slices
// are copies.
func Unflatten(shapes [][2]int, flat []float32) (ws, bs [][]float32) {
	off := 0
	for _, sh := range shapes {
		out, in := sh[0], sh[1]
		ws = append(ws, append([]float32(nil), flat[off:off+out*in]...))
		off += out * in
		bs = append(bs, append([]float32(nil), flat[off:off+out]...))
		off += out
	}
	return ws, bs
}

// Flatten is Unflatten's inverse: layer by layer, the weight then the bias.
func Flatten(ws, bs [][]float32) []float32 {
	var flat []float32
	for l := range ws {
		flat = append(flat, ws[l]...)
		flat = append(flat, bs[l]...)
	}
	return flat
}
