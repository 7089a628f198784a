package trainer

import (
	"runtime"
	"time"

	"github.com/sugarme/gotch/ts"

	"github.com/flowmatch/flowmatch/recipe"
	"github.com/flowmatch/flowmatch/train/internal/tt"
)

// BenchResult is what Bench measured.
type BenchResult struct {
	Device       string
	Threads      int // libtorch intra-op threads
	StepsPerSec  float64
	Loss         float64 // last step's loss
	CallsPerStep float64 // libtorch calls per step
	// TensorsPerStep counts gotch Go tensors (ts.Tensor) created per step: 0 means the
	// loop creates nothing for gotch's finalizers to chase.
	TensorsPerStep float64
}

// Bench times the training loop of cfg (data, forward, backward, clipping, AdamW,
// EMA) for steps steps after warmup untimed ones. Nothing is written.
func Bench(cfg Config, warmup, steps int) (BenchResult, error) {
	var r BenchResult
	if err := cfg.loadOwn(); err != nil {
		return r, err
	}
	if err := cfg.validateTraining(); err != nil {
		return r, err
	}
	dev, name, err := resolveDevice(cfg.Device)
	if err != nil {
		return r, err
	}
	r.Device = name
	if err := checkMemory(&cfg, dev); err != nil {
		return r, err
	}
	r.Threads = tt.NumThreads()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e, err := newEngineFor(&cfg, dev)
	if err != nil {
		return r, err
	}
	defer e.free()
	p := initParams(&cfg, e)
	e.write(e.P, p)
	e.write(e.E, p)
	b, err := newStream(&cfg)
	if err != nil {
		return r, err
	}
	pf := recipe.NewPrefetcher(b, warmup+steps)
	defer pf.Stop()
	step := func(s int) (float64, error) {
		bt := pf.Next()
		if bt.Err != nil {
			return 0, bt.Err
		}
		x, u := e.inputs()
		copy(x, bt.X)
		copy(u, bt.U)
		pf.Release(bt)
		return stepOnce(e, &cfg, s)
	}
	for s := 0; s < warmup; s++ {
		if _, err := step(s); err != nil {
			return r, err
		}
	}
	calls0, tensors0 := e.c.Calls, ts.TensorCount
	t0 := time.Now()
	for s := warmup; s < warmup+steps; s++ {
		if r.Loss, err = step(s); err != nil {
			return r, err
		}
	}
	if dev != -1 {
		e.scalar(e.LOSS, e.hostLoss) // wait for the device
	}
	el := time.Since(t0).Seconds()
	r.StepsPerSec = float64(steps) / el
	r.CallsPerStep = float64(e.c.Calls-calls0) / float64(steps)
	r.TensorsPerStep = float64(ts.TensorCount-tensors0) / float64(steps)
	return r, e.err()
}
