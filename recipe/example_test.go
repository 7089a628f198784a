package recipe_test

import (
	"fmt"
	"slices"

	"github.com/flowmatch/flowmatch/recipe"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// A pure-Go trainer's loop with the recipe, for the smallest network there is: a
// velocity field linear in the input row, v = W·[x_t, t] + b (one Linear layer).
func Example() {
	data := recipe.Data{Dataset: "moons", Path: sampler.PathSpec{Name: sampler.PathOT},
		Coupling: weights.CouplingOT, OTGroup: 64, Batch: 128}
	stream, err := recipe.NewStream(data, 1)
	if err != nil {
		panic(err)
	}
	in, dim, B := data.InputDim(), data.Dim(), data.Batch
	shapes := [][2]int{{dim, in}} // {out, in} per layer
	p := recipe.InitParams(shapes, 1)
	g, m, v := make([]float32, len(p)), make([]float32, len(p)), make([]float32, len(p))
	ema := slices.Clone(p)
	sched := recipe.Schedule{LR: 0.05, Warmup: 20, Steps: 150}
	opt := recipe.AdamW{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}

	x, u := make([]float32, B*in), make([]float32, B*dim)
	out, gout := make([]float32, B*dim), make([]float32, B*dim)
	var first, loss float64
	for s := 0; s < sched.Steps; s++ {
		if err := stream.Next(x, u); err != nil {
			panic(err)
		}
		W, b := p[:dim*in], p[dim*in:]
		for i := 0; i < B; i++ { // forward
			for o := 0; o < dim; o++ {
				acc := b[o]
				for k := 0; k < in; k++ {
					acc += W[o*in+k] * x[i*in+k]
				}
				out[i*dim+o] = acc
			}
		}
		l := recipe.MSE(gout, out, u)
		clear(g) // backward: dW = goutᵀ·x, db = Σ gout
		gW, gb := g[:dim*in], g[dim*in:]
		for i := 0; i < B; i++ {
			for o := 0; o < dim; o++ {
				for k := 0; k < in; k++ {
					gW[o*in+k] += gout[i*dim+o] * x[i*in+k]
				}
				gb[o] += gout[i*dim+o]
			}
		}
		scale := recipe.ClipScale(recipe.GradNorm(g), 1)
		opt.Update(p, g, m, v, s+1, sched.At(s), scale)
		recipe.EMAUpdate(ema, p, recipe.EMADecay(0.99, s))
		loss = recipe.SmoothLoss(loss, l, s)
		if s == 0 {
			first = l
		}
	}
	fmt.Printf("loss %.1f → %.1f\n", first, loss)
	ws, bs := recipe.Unflatten(shapes, ema) // what a trainer exports (weights.NewFile)
	fmt.Println(len(ws[0]), len(bs[0]))
	// Output:
	// loss 2.0 → 0.7
	// 6 2
}

func ExampleSchedule() {
	s := recipe.Schedule{LR: 1e-3, Warmup: 100, Steps: 1001, MinLRFrac: 0.1}
	for _, step := range []int{0, 49, 99, 550, 1000} {
		fmt.Printf("step %4d: lr %.3g\n", step, s.At(step))
	}
	// Output:
	// step    0: lr 1e-05
	// step   49: lr 0.0005
	// step   99: lr 0.001
	// step  550: lr 0.00055
	// step 1000: lr 0.0001
}

// A stream's batches are the regression pairs of conditional flow matching: input rows
// [x_t, t] and targets u_t, here on the OT path, where u_t = x1 − x0.
func ExampleBatcher_Next() {
	data := recipe.Data{Dataset: "8gaussians", Path: sampler.PathSpec{Name: sampler.PathOT},
		Coupling: weights.CouplingIndependent, Batch: 4}
	stream, err := recipe.NewStream(data, 3)
	if err != nil {
		panic(err)
	}
	x := make([]float32, data.Batch*data.InputDim()) // rows of 3: x_t (2), t
	u := make([]float32, data.Batch*data.Dim())
	if err := stream.Next(x, u); err != nil {
		panic(err)
	}
	fmt.Println(data.InputDim(), len(x), len(u))
	// Output: 3 12 8
}
