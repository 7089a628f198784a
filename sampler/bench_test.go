package sampler

import (
	"fmt"
	"testing"
)

// BenchmarkMLP reports network evaluations per second (one evaluation = one particle)
// on a batch of 10,000 for the 3-hidden-layer networks the project trains.
func BenchmarkMLP(b *testing.B) {
	for _, h := range []int{64, 256} {
		b.Run(fmt.Sprintf("H=%d", h), func(b *testing.B) {
			m, _, _ := randomMLP(b, MLPSpec{Dim: 2, Hidden: []int{h, h, h}}, 1)
			n := 10000
			x, dst := make([]float32, 2*n), make([]float32, 2*n)
			for i := range x {
				x[i] = float32(i%97) / 50
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m.Velocity(dst, x, 0.5)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "evals/s")
			flops := 2 * float64(m.spec.NumParams()) * float64(n) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
