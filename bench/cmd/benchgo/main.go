// Command benchgo times the pure-Go sampler on a benchnet model: one forward pass of a
// batch (Velocity), or the end-to-end job of sampling a batch with a 20-step midpoint
// solve. It builds natively and for js/wasm (run it under Node with Go's
// wasm_exec_node.js), so the same code is timed in both. Before timing, it checks the
// outputs against the float64 reference. One JSON line per measurement.
//
//	benchgo -model build/bench/h64.json -what forward -threads 1,2
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/flowmatch/flowmatch/bench/benchnet"
	"github.com/flowmatch/flowmatch/sampler"
)

func main() {
	model := flag.String("model", "", "benchnet model file (JSON)")
	what := flag.String("what", "forward", "forward or sample")
	threads := flag.String("threads", "1", "comma-separated GOMAXPROCS values to time (1 under js/wasm)")
	batch := flag.Int("batch", 10000, "particles")
	steps := flag.Int("steps", 20, "midpoint steps for -what sample")
	budget := flag.Duration("budget", 2*time.Second, "time spent on timed repetitions, per measurement")
	minReps := flag.Int("min-reps", 3, "at least this many timed repetitions")
	warmup := flag.Int("warmup", 2, "untimed repetitions first")
	peer := flag.String("peer", "go-"+runtime.GOOS, "peer name to print")
	flag.Parse()
	if err := run(*model, *what, *threads, *batch, *steps, *budget, *minReps, *warmup, *peer); err != nil {
		fmt.Fprintln(os.Stderr, "benchgo:", err)
		os.Exit(1)
	}
}

func run(path, what, threads string, batch, steps int, budget time.Duration, minReps, warmup int, peer string) error {
	bm, err := benchnet.Load(path)
	if err != nil {
		return err
	}
	spec := sampler.MLPSpec{Dim: bm.Dim, Hidden: bm.Hidden, Activation: sampler.ActSiLU}
	m, err := sampler.NewMLP(spec, bm.Weights, bm.Biases)
	if err != nil {
		return err
	}
	got := make([]float32, len(bm.CheckX))
	m.Velocity(got, bm.CheckX, bm.CheckT)
	maxErr, err := bm.Check(got)
	if err != nil {
		return fmt.Errorf("forward %v", err)
	}

	rng := rand.New(rand.NewPCG(1, 2))
	x0 := make([]float32, batch*bm.Dim)
	for i := range x0 {
		x0[i] = float32(rng.NormFloat64())
	}
	x, dst := make([]float32, len(x0)), make([]float32, len(x0))
	var rep func()
	switch what {
	case "forward":
		rep = func() { m.Velocity(dst, x0, 0.5) }
	case "sample":
		solver, err := sampler.NewSolver(sampler.Options{Method: sampler.Midpoint, Steps: steps})
		if err != nil {
			return err
		}
		rep = func() {
			copy(x, x0)
			if _, err := solver.Solve(m, x); err != nil {
				panic(err)
			}
		}
		rep()
		// The first points against a float64 midpoint solve of the reference network.
		n := min(64, batch)
		for i := 0; i < n; i++ {
			want := midpoint64(bm, x0[i*bm.Dim:(i+1)*bm.Dim], steps)
			for j, w := range want {
				e := math.Abs(float64(x[i*bm.Dim+j])-w) / (1 + math.Abs(w))
				if !(e <= benchnet.Tolerance) {
					return fmt.Errorf("sample: point %d coordinate %d is %v, reference %v (error %.3g)", i, j, x[i*bm.Dim+j], w, e)
				}
				maxErr = max(maxErr, e)
			}
		}
	default:
		return fmt.Errorf("unknown -what %q", what)
	}

	for _, ts := range strings.Split(threads, ",") {
		th, err := strconv.Atoi(strings.TrimSpace(ts))
		if err != nil || th < 1 {
			return fmt.Errorf("bad -threads %q", threads)
		}
		if runtime.GOARCH == "wasm" {
			th = 1
		}
		runtime.GOMAXPROCS(th)
		var tm benchnet.Timer
		tm.Run(rep, warmup, minReps, budget)
		r := benchnet.Result{Peer: peer, Kernel: kernel, What: what, Hidden: bm.Hidden[0], Threads: th,
			Batch: batch, MaxErr: maxErr}
		tm.Fill(&r)
		if what == "forward" {
			r.EvalsPerS = float64(batch) / tm.Best.Seconds()
			r.GFLOPs = 2 * float64(bm.MACs()) * float64(batch) / tm.Best.Seconds() / 1e9
		} else {
			r.What = fmt.Sprintf("sample%d-midpoint", steps)
		}
		b, _ := json.Marshal(r)
		fmt.Println(string(b))
	}
	return nil
}

// midpoint64 integrates dx/dt = v(x, t) from 0 to 1 in float64 with the reference network.
func midpoint64(bm *benchnet.Model, x0 []float32, steps int) []float64 {
	x := make([]float64, len(x0))
	for i, v := range x0 {
		x[i] = float64(v)
	}
	f32 := func(v []float64) []float32 { // the reference takes float32 inputs
		o := make([]float32, len(v))
		for i := range v {
			o[i] = float32(v[i])
		}
		return o
	}
	dt := 1 / float64(steps)
	for k := 0; k < steps; k++ {
		t := float64(k) * dt
		k0 := bm.Reference(f32(x), t)
		mid := make([]float64, len(x))
		for i := range x {
			mid[i] = x[i] + dt/2*k0[i]
		}
		k1 := bm.Reference(f32(mid), t+dt/2)
		for i := range x {
			x[i] += dt * k1[i]
		}
	}
	return x
}
