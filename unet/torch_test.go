package unet

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestTorchParity runs Default's network in PyTorch, as pytorch_fmnist.py's own module
// (testdata/torch_parity.py copies its classes verbatim), on the same random weights,
// inputs, times and labels (the null class among them), and checks: the tensors load
// into the module with load_state_dict(strict=True) after renaming only the block
// prefixes (d1 … u1), the package's tensor order is the module's state_dict order under
// that renaming, and the velocities agree within 1e-5 relative to their scale. Skipped
// where /usr/bin/python3 has no torch (Debian's python3-torch; mk/train.mk installs it).
func TestTorchParity(t *testing.T) {
	if runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("no subprocesses under wasm")
	}
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch").Run(); err != nil {
		t.Skipf("%s with torch not available (apt-get install python3-torch): %v", py, err)
	}
	c := Default()
	w := RandomTensors(c, 21)
	n, d := 5, c.Dim()
	x := randn(n*d, 22)
	ts := []float64{0, 0.25, 0.5, 0.9, 1}
	labels := []int{0, 9, c.Null(), 4, 7}
	job := map[string]any{"channels": c.Channels, "tensors": w, "x": x, "t": ts, "y": labels}
	in := filepath.Join(t.TempDir(), "job.json")
	b, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "testdata/torch_parity.py", in).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("torch_parity.py: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var res struct {
		V     [][]float64
		Order []string
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tn := range c.Tensors() {
		name := tn.Name
		for _, r := range [][2]string{{"down.0.0.", "d1."}, {"down.1.0.", "d2."}, {"down.2.0.", "d3."}, {"up.2.0.", "u3."}, {"up.1.0.", "u2."}, {"up.0.0.", "u1."}} {
			if strings.HasPrefix(name, r[0]) {
				name = r[1] + name[len(r[0]):]
			}
		}
		names = append(names, name)
	}
	if strings.Join(names, " ") != strings.Join(res.Order, " ") {
		t.Errorf("tensor order differs from the module's state_dict:\n got %v\nwant %v", names, res.Order)
	}
	net, err := New(c, w)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float32, n*d)
	net.Forward(got, x, ts, labels)
	for b := range n {
		if e := maxRel(got[b*d:(b+1)*d], res.V[b]); e > 1e-5 {
			t.Errorf("sample %d (t %g, label %d): relative error %.3g against PyTorch, want ≤ 1e-5", b, ts[b], labels[b], e)
		} else {
			t.Logf("sample %d (t %g, label %d): relative error %.3g against PyTorch", b, ts[b], labels[b], e)
		}
	}
}
