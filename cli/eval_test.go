package cli

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/eval"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

func TestEvalCommand(t *testing.T) {
	const model = "../weights/moons-ot.safetensors" // a shipped default model
	code, out, stderr := run(Commands(), "eval", "-model", model, "-n", "300", "-nll-steps", "4", "-reps", "2", "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res struct {
		Dataset       string  `json:"dataset"`
		NFE           int     `json:"nfe"`
		W2            float64 `json:"w2"`
		W2Ratio       float64 `json:"w2_ratio"`
		W2IIDFloor    float64 `json:"w2_iid_floor"`
		W2IIDFloorStd float64 `json:"w2_iid_floor_std"`
		W2IIDRatio    float64 `json:"w2_iid_ratio"`
		NLL           float64 `json:"nll"`
		NLLNFE        int     `json:"nll_nfe"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v in %q", err, out)
	}
	// The shipped moons model is close to the data: W2 near its floor, an NLL near the
	// 2.41 nats measured at n = 2,000 (results/README.md).
	if res.Dataset != "moons" || res.NFE != 20 || res.NLLNFE != 16 || res.W2Ratio > 2 || res.NLL < 2 || res.NLL > 2.9 {
		t.Errorf("eval result %+v", res)
	}
	if res.W2IIDFloor <= 0 || res.W2IIDFloorStd <= 0 || math.Abs(res.W2IIDRatio-res.W2/res.W2IIDFloor) > 1e-9 || res.W2IIDRatio > 2 {
		t.Errorf("i.i.d. floor %g ± %g, ratio %g (W2 %g)", res.W2IIDFloor, res.W2IIDFloorStd, res.W2IIDRatio, res.W2)
	}

	// The text output names both floors, and -h explains them.
	code, out, stderr = run(Commands(), "eval", "-model", model, "-n", "200", "-nll-steps", "0", "-reps", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"dataset moons", "× the data-vs-data floor", "× the i.i.d. floor", "indistinguishable"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "NLL") {
		t.Errorf("-nll-steps 0 printed an NLL:\n%s", out)
	}
	if stderr != "" {
		t.Errorf("stderr is no terminal, yet eval wrote to it: %q", stderr)
	}
	code, _, stderr = run(Commands(), "eval", "-h")
	if code != 0 || !strings.Contains(stderr, "i.i.d. floor") || !strings.Contains(stderr, "fixed number of points in each mode") {
		t.Errorf("eval -h: exit %d, %q", code, stderr)
	}
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"eval"}, "-model is required"},
		{[]string{"eval", "-model", model, "-nfe", "21"}, "not a whole number of midpoint steps"},
		{[]string{"eval", "-model", model, "-solver", "dopri5", "-nfe", "20"}, "dopri5 is adaptive"},
		{[]string{"eval", "-model", model, "-n", "1"}, "-n must be at least 2"},
		// Exact W2 at n = 100,000 wanted an 80 GB matrix and died of a runtime
		// out-of-memory error; 8,000 ran for minutes. Refused before any work.
		{[]string{"eval", "-model", model, "-n", "100000"}, fmt.Sprintf("-n 100000 is above %d", eval.MaxN)},
		{[]string{"eval", "-model", model, "-n", "100000"}, "n²·8 bytes (80 GB here) and time growing as n³"},
		{[]string{"eval", "-model", model, "-n", fmt.Sprint(eval.MaxN + 1)}, "the most points eval compares"},
		{[]string{"eval", "-model", "nonexistent.safetensors"}, "nonexistent.safetensors"},
		{[]string{"eval", "-model", model, "-bogus"}, "flag provided but not defined"},
	} {
		code, _, stderr := run(Commands(), c.args...)
		if code != 2 || !strings.Contains(stderr, c.msg) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, %q; want 2 and one line with %q", c.args, code, stderr, c.msg)
		}
	}
}

// TestEvalDiverged: a model whose velocity overflows float32 makes the sampling solve
// diverge. eval says so in one line, as sample does (which sample and coordinate, that
// the solve diverged, what to try), and exits 1: the flags were fine.
func TestEvalDiverged(t *testing.T) {
	spec := sampler.MLPSpec{Dim: 2, Hidden: []int{8}}
	var ws, bs [][]float32
	for _, sh := range spec.LayerShapes() {
		w := make([]float32, sh[0]*sh[1])
		for i := range w {
			w[i] = 1e30
		}
		ws, bs = append(ws, w), append(bs, make([]float32, sh[0]))
	}
	f, err := weights.NewFile(weights.Meta{Model: spec, Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}},
		Data: weights.DataInfo{Name: "moons"}}, ws, bs)
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(t.TempDir(), "blowup.safetensors")
	if err := weights.WriteFile(model, f, weights.F32); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-solver", "euler", "-nfe", "4"}, {"-json"}} {
		code, out, stderr := run(Commands(), append([]string{"eval", "-model", model, "-n", "50"}, args...)...)
		if code != 1 || out != "" || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 1 and one line", args, code, out, stderr)
		}
		for _, want := range []string{"flowmatch eval: " + model + ": sample ", ", coordinate ", "the solve diverged", "try more steps or another solver"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%v: stderr %q lacks %q", args, stderr, want)
			}
		}
	}
}
