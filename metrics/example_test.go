package metrics_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/metrics"
)

func ExampleAssign() {
	// Three workers (rows), three jobs (columns).
	cost := []float64{
		4, 1, 3,
		2, 0, 5,
		3, 2, 2,
	}
	rowToCol, total, err := metrics.Assign(cost, 3)
	if err != nil {
		panic(err)
	}
	fmt.Println(rowToCol, total)
	// Output: [1 0 2] 5
}

func ExampleW2() {
	// Two points, and the same two points moved by (3, 4) and listed in the
	// other order: the optimal matching undoes the reordering, so W2 is the
	// length of the shift.
	a := []float32{0, 0, 1, 0}
	b := []float32{4, 4, 3, 4}
	w, err := metrics.W2(a, b, 2)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.3f\n", w)
	// Output: 5.000
}

func ExampleMMD() {
	a := []float32{0, 0, 1, 0, 0, 1}
	b := []float32{0, 0, 1, 0, 0, 1}
	c := []float32{3, 3, 4, 3, 3, 4}
	hs := []float64{0.5, 1}
	same, _ := metrics.MMD(a, b, 2, hs)
	far, _ := metrics.MMD(a, c, 2, hs)
	fmt.Printf("same: %.3f %.3f\nfar:  %.3f %.3f\n", same[0], same[1], far[0], far[1])
	// Output:
	// same: 0.000 0.000
	// far:  0.795 1.369
}

func ExampleW2Floor() {
	rng := rand.New(rand.NewPCG(1, 2))
	gauss := func(n int) ([]float32, error) {
		p := make([]float32, 2*n)
		for k := range p {
			p[k] = float32(rng.NormFloat64())
		}
		return p, nil
	}
	mean, _, err := metrics.W2Floor(gauss, 2, 500, 2)
	if err != nil {
		panic(err)
	}
	fmt.Println(mean > 0.1 && mean < 0.4)
	// Output: true
}
