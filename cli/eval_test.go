package cli

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
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
		{[]string{"eval", "-model", "nonexistent.safetensors"}, "nonexistent.safetensors"},
		{[]string{"eval", "-model", model, "-bogus"}, "flag provided but not defined"},
	} {
		code, _, stderr := run(Commands(), c.args...)
		if code != 2 || !strings.Contains(stderr, c.msg) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, %q; want 2 and one line with %q", c.args, code, stderr, c.msg)
		}
	}
}
