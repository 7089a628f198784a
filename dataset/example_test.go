package dataset_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/dataset"
)

func ExampleNames() {
	fmt.Println(dataset.Names())
	// Output: [2spirals 8gaussians checkerboard circles moons pinwheel rings swissroll]
}

func ExampleSample() {
	rng := rand.New(rand.NewPCG(1, 2))
	pts, err := dataset.Sample("checkerboard", 1000, rng)
	if err != nil {
		panic(err)
	}
	// Row-major: point i is (pts[2i], pts[2i+1]).
	var inside int
	for i := 0; i < len(pts)/2; i++ {
		x, y := pts[2*i], pts[2*i+1]
		if x >= -4 && x <= 4 && y >= -4 && y <= 4 {
			inside++
		}
	}
	fmt.Println(len(pts), inside)
	// Output: 2000 1000
}

func ExampleSample_unknown() {
	_, err := dataset.Sample("spiral", 10, rand.New(rand.NewPCG(1, 2)))
	fmt.Println(err)
	// Output: dataset: unknown dataset "spiral" (valid: 2spirals, 8gaussians, checkerboard, circles, moons, pinwheel, rings, swissroll)
}

func ExampleSampler() {
	// Two independent draws from the same stream, e.g. to compare with
	// metrics.W2Floor.
	draw, err := dataset.Sampler("rings", rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		panic(err)
	}
	a, _ := draw(500)
	b, _ := draw(500)
	fmt.Println(len(a)/2, len(b)/2, a[0] != b[0])
	// Output: 500 500 true
}
