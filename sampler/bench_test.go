package sampler

import (
	"fmt"
	"testing"
)

// BenchmarkMLP reports network evaluations per second (one evaluation = one particle)
// on a batch of 10,000 for the 3-hidden-layer networks the project trains, against wall
// time and against CPU time (steadier on a shared machine; with several threads it adds
// up every core's time). Run with GOMAXPROCS=1 for one thread.
func BenchmarkMLP(b *testing.B) {
	for _, h := range []int{64, 256} {
		for _, op := range []string{"Velocity", "JVP", "Div"} {
			if op != "Velocity" && h == 256 {
				continue
			}
			b.Run(fmt.Sprintf("%s/H=%d", op, h), func(b *testing.B) {
				m, _, _ := randomMLP(b, MLPSpec{Dim: 2, Hidden: []int{h, h, h}}, 1)
				n := 10000
				x, dst := make([]float32, 2*n), make([]float32, 2*n)
				v, jv, div := make([]float32, 2*n), make([]float32, 2*n), make([]float32, n)
				for i := range x {
					x[i] = float32(i%97) / 50
					v[i] = 1
				}
				eval := map[string]func(){
					"Velocity": func() { m.Velocity(dst, x, 0.5) },
					"JVP":      func() { m.VelocityJVP(dst, jv, x, v, 0.5) },
					"Div":      func() { m.VelocityDiv(dst, div, x, 0.5) },
				}[op]
				eval()
				b.ResetTimer()
				c0 := cpuTime()
				for i := 0; i < b.N; i++ {
					eval()
				}
				cpu := cpuTime() - c0
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "evals/s")
				if cpu > 0 {
					b.ReportMetric(float64(n)*float64(b.N)/cpu.Seconds(), "evals/cpu-s")
				}
				if op == "Velocity" {
					reportFlops(b, 2*float64(m.spec.NumParams())*float64(n), cpu)
				}
			})
		}
	}
}

// BenchmarkSample20Midpoint times the end-to-end job: 10,000 particles through a
// 20-step midpoint solve (40 network evaluations) of the H=64 network.
func BenchmarkSample20Midpoint(b *testing.B) {
	m, _, _ := randomMLP(b, MLPSpec{Dim: 2, Hidden: []int{64, 64, 64}}, 1)
	n := 10000
	x0 := make([]float32, 2*n)
	for i := range x0 {
		x0[i] = float32(i%97)/50 - 1
	}
	x := make([]float32, len(x0))
	s, err := NewSolver(Options{Method: Midpoint, Steps: 20})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		copy(x, x0)
		if _, err := s.Solve(m, x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-c0).Milliseconds())/float64(b.N), "cpu-ms/op")
}
