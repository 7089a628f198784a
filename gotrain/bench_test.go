package gotrain

import (
	"fmt"
	"testing"
	"time"

	"github.com/flowmatch/flowmatch/recipe"
)

// BenchmarkStep reports training steps per second (I-CFM on moons, a 3-hidden-layer
// SiLU network, AdamW, clipping and EMA: everything a step does) and, as a ratio
// against a peer in the same run, how many of the sampler's forward passes
// (sampler.MLP.Velocity on the same batch and network) a step costs: a forward and a
// backward pass cost about three, the rest is the batch draw, the layout copies and the
// optimiser.
func BenchmarkStep(b *testing.B) {
	for _, h := range []int{64, 256} {
		for _, batch := range []int{256, 1024} {
			b.Run(fmt.Sprintf("H=%d/B=%d", h, batch), func(b *testing.B) {
				tr, err := New(Config{Data: recipe.Data{Dataset: "moons", Batch: batch}, Hidden: []int{h, h, h}})
				if err != nil {
					b.Fatal(err)
				}
				net, err := tr.Network()
				if err != nil {
					b.Fatal(err)
				}
				x, v := make([]float32, 2*batch), make([]float32, 2*batch)
				if _, err := tr.Step(); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				var fwd time.Duration
				for i := 0; i < b.N; i++ {
					if _, err := tr.Step(); err != nil {
						b.Fatal(err)
					}
					t0 := time.Now()
					net.Velocity(v, x, 0.5)
					fwd += time.Since(t0)
				}
				step := b.Elapsed() - fwd
				b.ReportMetric(float64(b.N)/step.Seconds(), "steps/s")
				b.ReportMetric(step.Seconds()/fwd.Seconds(), "fwd/step")
			})
		}
	}
}
