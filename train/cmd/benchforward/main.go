// Command benchforward times libtorch's forward pass (through gotch) of the network in a
// benchnet model file, for `make bench` to compare with the pure-Go sampler on the same
// weights and batch: Linear → SiLU → … → Linear, one at::linear (fused addmm, as
// PyTorch's nn.Linear) and one at::silu per layer, under no_grad, reading the result
// back into a Go slice each repetition (as the Go side writes its output slice).
//
// Before timing, the outputs for the file's check batch must match its float64
// reference. Thread count: -threads sets libtorch's intra-op threads; OpenBLAS reads its
// own from OPENBLAS_NUM_THREADS at load time, which the caller sets to the same value.
//
//	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 benchforward -model build/bench/h64.json -threads 1
package main

// void at_set_num_threads(int n_threads); // defined in gotch's libtch (torch_api.cpp)
// int at_get_num_threads();
import "C"

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"time"

	"github.com/flowmatch/flowmatch/bench/benchnet"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

func main() {
	model := flag.String("model", "", "benchnet model file (JSON)")
	threads := flag.Int("threads", 1, "libtorch intra-op threads (set OPENBLAS_NUM_THREADS to match)")
	batch := flag.Int("batch", 10000, "particles")
	budget := flag.Duration("budget", 2*time.Second, "time spent on timed repetitions")
	minReps := flag.Int("min-reps", 3, "at least this many timed repetitions")
	flag.Parse()
	if err := run(*model, *threads, *batch, *budget, *minReps); err != nil {
		fmt.Fprintln(os.Stderr, "benchforward:", err)
		os.Exit(1)
	}
}

type net struct {
	w, b []*ts.Tensor
}

// forward returns the network's output for x (n×(d+1)), freeing every intermediate.
func (nt *net) forward(x *ts.Tensor) *ts.Tensor {
	h := x
	for l := range nt.w {
		z := ts.MustLinear(h, nt.w[l], nt.b[l])
		if h != x {
			h.MustDrop()
		}
		h = z
		if l < len(nt.w)-1 {
			h = z.MustSilu(true)
		}
	}
	return h
}

func run(path string, threads, batch int, budget time.Duration, minReps int) error {
	bm, err := benchnet.Load(path)
	if err != nil {
		return err
	}
	runtime.LockOSThread() // libtorch keeps per-thread state (grad mode, errors)
	C.at_set_num_threads(C.int(threads))
	ts.MustGradSetEnabled(false)

	nt := &net{}
	for l, sh := range bm.Shapes() {
		nt.w = append(nt.w, ts.MustOfSlice(bm.Weights[l]).MustView([]int64{int64(sh[0]), int64(sh[1])}, true))
		nt.b = append(nt.b, ts.MustOfSlice(bm.Biases[l]))
	}
	d := bm.Dim

	// Check against the reference.
	n := len(bm.CheckX) / d
	in := make([]float32, n*(d+1))
	for i := 0; i < n; i++ {
		copy(in[i*(d+1):], bm.CheckX[i*d:(i+1)*d])
		in[i*(d+1)+d] = float32(bm.CheckT)
	}
	cx := ts.MustOfSlice(in).MustView([]int64{int64(n), int64(d + 1)}, true)
	cy := nt.forward(cx)
	got := make([]float32, n*d)
	cy.MustCopyData(got, uint(len(got)))
	cy.MustDrop()
	cx.MustDrop()
	maxErr, err := bm.Check(got)
	if err != nil {
		return fmt.Errorf("libtorch %v", err)
	}

	rng := rand.New(rand.NewPCG(1, 2))
	xs := make([]float32, batch*(d+1))
	for i := range xs {
		xs[i] = float32(rng.NormFloat64())
	}
	x := ts.MustOfSlice(xs).MustView([]int64{int64(batch), int64(d + 1)}, true)
	out := make([]float32, batch*d)
	rep := func() {
		y := nt.forward(x)
		y.MustCopyData(out, uint(len(out)))
		y.MustDrop()
	}
	var tm benchnet.Timer
	tm.Run(rep, 2, minReps, budget)
	best := tm.Best
	r := benchnet.Result{Peer: "libtorch", Kernel: "libtorch " + gotch.FlowmatchLibtorch + " via gotch " + gotch.FlowmatchGotch,
		What: "forward", Hidden: bm.Hidden[0], Threads: int(C.at_get_num_threads()), Batch: batch, MaxErr: maxErr,
		EvalsPerS: float64(batch) / best.Seconds(), GFLOPs: 2 * float64(bm.MACs()) * float64(batch) / best.Seconds() / 1e9}
	tm.Fill(&r)
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
	return nil
}
