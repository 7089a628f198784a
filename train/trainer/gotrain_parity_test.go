package trainer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/flowmatch/flowmatch/gotrain"
	"github.com/flowmatch/flowmatch/recipe"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/train/internal/torchpy"
	"github.com/flowmatch/flowmatch/weights"
)

// parityProblem is what testdata/gotrain_parity.py reads, and parityAnswer what it
// writes.
type parityProblem struct {
	Shapes  [][2]int     `json:"shapes"`
	P0      []float32    `json:"p0"`
	Batch   int          `json:"batch"`
	Batches []parityRows `json:"batches"`
	LRs     []float64    `json:"lrs"`
	Decays  []float64    `json:"decays"`
	Beta1   float64      `json:"beta1"`
	Beta2   float64      `json:"beta2"`
	Eps     float64      `json:"eps"`
	WD      float64      `json:"wd"`
	Clip    float64      `json:"clip"`
}

type parityRows struct {
	X []float32 `json:"x"`
	U []float32 `json:"u"`
}

type parityAnswer struct {
	Loss0 float64     `json:"loss0"`
	Grad0 []float64   `json:"grad0"`
	P     [][]float64 `json:"p"`
	E     [][]float64 `json:"e"`
}

// TestGoTrainerMatchesTorch pins the pure-Go trainer (package gotrain) to PyTorch: for
// a random MLP (SiLU, Fourier time features, widths off the kernels' tiles) and a CFM
// batch, the loss and its gradient equal autograd's within 1e-4 relative to each
// tensor's largest entry, and two training steps (clip_grad_norm_,
// torch.optim.AdamW with weight decay at the warmup's learning rates, the EMA) give
// the same weights and average within a thousandth of a step.
func TestGoTrainerMatchesTorch(t *testing.T) {
	py := torchpy.Python(t)
	cfg := gotrain.Config{
		Data: recipe.Data{Dataset: "moons", Batch: 200, Coupling: weights.CouplingOT, OTGroup: 64,
			Time: sampler.TimeEmbedding{Kind: sampler.TimeFourier, Freqs: 3}},
		Hidden: []int{64, 45, 70}, Steps: 100, LR: 1e-2, Warmup: 4, WeightDecay: 0.05, Clip: 0.3, Seed: 11,
	}
	tr, err := gotrain.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg = tr.Config()
	stream, err := recipe.NewStream(cfg.Data, cfg.Seed) // the trainer's batches
	if err != nil {
		t.Fatal(err)
	}
	spec := tr.Spec()
	pb := parityProblem{Shapes: spec.LayerShapes(), P0: tr.Params(), Batch: cfg.Data.Batch,
		Beta1: cfg.Beta1, Beta2: cfg.Beta2, Eps: cfg.AdamEps, WD: cfg.WeightDecay, Clip: cfg.Clip}
	sched := recipe.Schedule{LR: cfg.LR, Warmup: cfg.Warmup, Steps: cfg.Steps, MinLRFrac: cfg.MinLRFrac}
	const steps = 2
	for s := 0; s < steps; s++ {
		r := parityRows{X: make([]float32, cfg.Data.Batch*spec.InputDim()), U: make([]float32, cfg.Data.Batch*spec.Dim)}
		if err := stream.Next(r.X, r.U); err != nil {
			t.Fatal(err)
		}
		pb.Batches = append(pb.Batches, r)
		pb.LRs = append(pb.LRs, sched.At(s))
		pb.Decays = append(pb.Decays, recipe.EMADecay(cfg.EMA, s))
	}
	grad := make([]float32, len(pb.P0))
	loss, err := tr.Gradient(grad, pb.Batches[0].X, pb.Batches[0].U)
	if err != nil {
		t.Fatal(err)
	}
	var ps, es [][]float32
	for s := 0; s < steps; s++ {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, tr.Params())
		es = append(es, recipe.Flatten(tr.EMA()))
	}
	ans := runParity(t, py, pb)

	if math.Abs(loss-ans.Loss0) > 1e-5*ans.Loss0 {
		t.Errorf("loss %.8g, torch %.8g", loss, ans.Loss0)
	}
	worst := 0.0
	for _, r := range tensorRanges(pb.Shapes) {
		rel := maxRelDiff(grad[r.lo:r.hi], ans.Grad0[r.lo:r.hi])
		worst = math.Max(worst, rel)
		if rel > 1e-4 {
			t.Errorf("gradient of %s differs from autograd's by %.3g of its largest entry", r.name, rel)
		}
	}
	norm := recipe.GradNorm(grad)
	t.Logf("loss %.7g (torch %.7g); gradient (norm %.3g, clipped to %g): worst tensor differs by %.2g of its largest entry",
		loss, ans.Loss0, norm, cfg.Clip, worst)
	if norm <= cfg.Clip {
		t.Errorf("gradient norm %.3g: the test no longer clips (-clip %g)", norm, cfg.Clip)
	}
	for s := 0; s < steps; s++ {
		dp, de := maxAbsDiff(ps[s], ans.P[s]), maxAbsDiff(es[s], ans.E[s])
		t.Logf("step %d (lr %.4g): weights differ from torch.optim.AdamW's by at most %.2g, the EMA by %.2g (%.2g and %.2g of a step)",
			s+1, pb.LRs[s], dp, de, dp/pb.LRs[s], de/pb.LRs[s])
		if dp > 1e-3*pb.LRs[s] || de > 1e-3*pb.LRs[s] {
			t.Errorf("step %d: weights differ from torch's by %.3g, EMA by %.3g (lr %.3g)", s+1, dp, de, pb.LRs[s])
		}
	}
}

// runParity runs testdata/gotrain_parity.py on pb.
func runParity(t *testing.T, py string, pb parityProblem) parityAnswer {
	t.Helper()
	in, err := json.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, filepath.Join("testdata", "gotrain_parity.py"))
	cmd.Stdin = bytes.NewReader(in)
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1", "PYTHONDONTWRITEBYTECODE=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s testdata/gotrain_parity.py: %v\n%s", py, err, stderr.String())
	}
	var ans parityAnswer
	if err := json.Unmarshal(out, &ans); err != nil {
		t.Fatalf("gotrain_parity.py's answer: %v", err)
	}
	if len(ans.Grad0) != len(pb.P0) || len(ans.P) != len(pb.Batches) || len(ans.E) != len(pb.Batches) {
		t.Fatalf("gotrain_parity.py answered %d gradients and %d, %d steps", len(ans.Grad0), len(ans.P), len(ans.E))
	}
	return ans
}

type tensorRange struct {
	name   string
	lo, hi int
}

// tensorRanges names each weight and bias in the flat layout.
func tensorRanges(shapes [][2]int) []tensorRange {
	var rs []tensorRange
	off := 0
	for l, sh := range shapes {
		rs = append(rs, tensorRange{weights.WeightName(l), off, off + sh[0]*sh[1]})
		off += sh[0] * sh[1]
		rs = append(rs, tensorRange{weights.BiasName(l), off, off + sh[0]})
		off += sh[0]
	}
	return rs
}

// maxRelDiff is max |a−b| over the largest |b|.
func maxRelDiff(a []float32, b []float64) float64 {
	big := 0.0
	for _, v := range b {
		big = math.Max(big, math.Abs(v))
	}
	if big == 0 {
		big = 1
	}
	return maxAbsDiff(a, b) / big
}

func maxAbsDiff(a []float32, b []float64) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("lengths %d and %d", len(a), len(b)))
	}
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-b[i]))
	}
	return d
}
