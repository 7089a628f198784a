package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

func TestInspect(t *testing.T) {
	dir := t.TempDir()
	model := testModel(t, dir)
	st, _ := os.Stat(model)
	code, stdout, stderr := fmRun("inspect", model)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"format      flowmatch version 1",
		"MLP 3→16→16→2, silu, time features raw; 370 parameters",
		"ot (sigma_min 0), trained on t ∈ [0, 1], source N(0, 1²·I)",
		"moons, dim 2, normalized: data = [0.5 0.25] + [2 0.5] ⊙ x",
		"command   flowmatch train -data moons",
		"libtorch  1.13.1",
		"license",
		"tensor            dtype  shape       bytes",
		"layers.0.weight   F32    [16 3]        192",
		"layers.2.bias     F32    [2]             8",
		"total: 6 tensors         370 params  1,480",
		"(" + commas(int(st.Size())) + " bytes)",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, stdout)
		}
	}

	// float16 and -json.
	f16 := writeModel(t, dir, "m16.safetensors", weights.Meta{
		Model: sampler.MLPSpec{Dim: 3, Hidden: []int{8}, Time: sampler.TimeEmbedding{Kind: sampler.TimeFourier, Freqs: 2}},
		Path:  weights.PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathVE}},
	}, weights.F16)
	code, stdout, stderr = fmRun("inspect", "-json", f16)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var info struct {
		inspectJSON
		Model sampler.MLPSpec `json:"model"` // an MLP's spec, for arch "mlp"
	}
	if err := json.Unmarshal([]byte(stdout), &info); err != nil {
		t.Fatalf("-json output: %v\n%s", err, stdout)
	}
	if info.Arch != weights.ArchMLP || info.Version != 1 {
		t.Errorf("-json: arch %q, format_version %d; want mlp, 1", info.Arch, info.Version)
	}
	if info.Params != 8*8+8+3*8+3 || len(info.Tensors) != 4 || info.Tensors[0].DType != weights.F16 ||
		info.Tensors[0].Bytes != 2*8*8 || info.Path.Name != "ve" || info.Path.SigmaMax != 10 || info.Model.Time.Freqs != 2 {
		t.Errorf("-json gave %+v", info)
	}
	// Flags may follow the file.
	if code, after, stderr := fmRun("inspect", f16, "-json"); code != 0 || after != stdout {
		t.Errorf("inspect FILE -json: exit %d, stderr %q, output differs from inspect -json FILE", code, stderr)
	}
	if _, text, _ := fmRun("inspect", f16); !strings.Contains(text, "fourier, 2 frequencies") ||
		!strings.Contains(text, "ve (sigma_min 0.01, sigma_max 10, eps 0.001), trained on t ∈ [0, 0.999], source N(0, 10²·I)") {
		t.Errorf("inspect output:\n%s", text)
	}
}

func TestInspectErrors(t *testing.T) {
	dir := t.TempDir()
	model := testModel(t, dir)
	good, _ := os.ReadFile(model)
	corrupt := filepath.Join(dir, "corrupt.safetensors")
	bad := append([]byte(nil), good...)
	copy(bad[8:], "[")
	os.WriteFile(corrupt, bad, 0o644)
	for _, c := range []struct {
		args   []string
		stderr string
	}{
		{nil, "want one model file, got 0 arguments"},
		{[]string{model, model}, "want one model file, got 2 arguments"},
		{[]string{filepath.Join(dir, "missing")}, "o such file or directory"}, // "No such" under js/wasm
		{[]string{corrupt}, "weights: " + corrupt + ": the JSON header does not start with '{'"},
		{[]string{"-bogus", model}, "flag provided but not defined: -bogus"},
		{[]string{model, "-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{model, "-json", model}, "want one model file, got 2 arguments"},
		{[]string{dir}, dir + " is a folder, not a model file"},
	} {
		code, stdout, stderr := fmRun(append([]string{"inspect"}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.stderr) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("inspect %v: exit %d, stderr %q; want 2 and one line with %q", c.args, code, stderr, c.stderr)
		}
		if stdout != "" {
			t.Errorf("inspect %v: wrote to stdout", c.args)
		}
	}
}

func TestCommas(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := commas(n); got != want {
			t.Errorf("commas(%d) = %q, want %q", n, got, want)
		}
	}
}
