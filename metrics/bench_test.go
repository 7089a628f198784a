package metrics_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/metrics"
)

// benchSets are the pairs eval compares: two draws of a dataset (the floors, a good
// model) and the standard normal against moons (an untrained model, the slow case
// for exact assignment, whose augmenting paths grow long).
func benchSets(b *testing.B, n int) map[string][2][]float32 {
	r := rand.New(rand.NewPCG(1, 2))
	sets := map[string][2][]float32{}
	for _, name := range []string{"moons", "8gaussians"} {
		p, err := dataset.Sample(name, n, r)
		if err != nil {
			b.Fatal(err)
		}
		q, _ := dataset.Sample(name, n, r)
		sets[name] = [2][]float32{p, q}
	}
	noise := make([]float32, 2*n)
	for i := range noise {
		noise[i] = float32(r.NormFloat64())
	}
	moons, _ := dataset.Sample("moons", n, r)
	sets["normal-vs-moons"] = [2][]float32{noise, moons}
	return sets
}

// BenchmarkW2Sizes times W2 up to metrics.MaxN, the figures behind the limit:
//
//	go test -run '^$' -bench W2Sizes -benchtime 1x ./metrics/
func BenchmarkW2Sizes(b *testing.B) {
	for _, n := range []int{1000, 2000, metrics.MaxN} {
		sets := benchSets(b, n)
		for _, name := range []string{"moons", "8gaussians", "normal-vs-moons"} {
			b.Run(fmt.Sprintf("%s/n=%d", name, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := metrics.W2(sets[name][0], sets[name][1], 2); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkMMDSizes times MMD at eval's sizes, up to metrics.MaxN.
func BenchmarkMMDSizes(b *testing.B) {
	for _, n := range []int{1000, 2000, metrics.MaxN} {
		s := benchSets(b, n)["normal-vs-moons"]
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := metrics.MMD(s[0], s[1], 2, metrics.DefaultBandwidths()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
