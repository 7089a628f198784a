package trainer

import (
	"fmt"
	"testing"
	"time"

	"github.com/flowmatch/flowmatch/gotrain"
)

// BenchmarkEngineGoVsTorch times the same training steps (moons, I-CFM, a 3-layer SiLU
// network, AdamW, clipping, EMA) on libtorch's CPU engine (Bench) and on the pure-Go
// trainer, alternately within each iteration so that both see the same machine, and
// reports the go engine's steps/s over libtorch's.
func BenchmarkEngineGoVsTorch(b *testing.B) {
	const steps = 20
	for _, h := range []int{64, 256} {
		for _, batch := range []int{256, 1024} {
			b.Run(fmt.Sprintf("H=%d/B=%d", h, batch), func(b *testing.B) {
				cfg := Default()
				cfg.Hidden, cfg.Batch, cfg.Device, cfg.Steps = h, batch, "cpu", 1000
				tr, err := gotrain.New(cfg.goConfig())
				if err != nil {
					b.Fatal(err)
				}
				defer tr.Close()
				var goSec, torchSec float64
				for i := 0; i < b.N; i++ {
					r, err := Bench(cfg, 2, steps)
					if err != nil {
						b.Fatal(err)
					}
					torchSec += steps / r.StepsPerSec
					t0 := time.Now()
					for k := 0; k < steps; k++ {
						if _, err := tr.Step(); err != nil {
							b.Fatal(err)
						}
					}
					goSec += time.Since(t0).Seconds()
				}
				n := float64(b.N * steps)
				b.ReportMetric(n/goSec, "go-steps/s")
				b.ReportMetric(n/torchSec, "torch-steps/s")
				b.ReportMetric(torchSec/goSec, "go/torch")
			})
		}
	}
}
