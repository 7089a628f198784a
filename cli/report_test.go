package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// writeReportModel writes a model with every weight set to w: 0 is the zero field
// (samples are the source), 1e30 overflows float32 and makes the solve diverge.
func writeReportModel(t *testing.T, dir, file, data string, w float32) {
	t.Helper()
	spec := sampler.MLPSpec{Dim: 2, Hidden: []int{4}}
	var ws, bs [][]float32
	for _, sh := range spec.LayerShapes() {
		v := make([]float32, sh[0]*sh[1])
		for i := range v {
			v[i] = w
		}
		ws, bs = append(ws, v), append(bs, make([]float32, sh[0]))
	}
	f, err := weights.NewFile(weights.Meta{Model: spec, Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}},
		Data: weights.DataInfo{Name: data}}, ws, bs)
	if err != nil {
		t.Fatal(err)
	}
	if err := weights.WriteFile(filepath.Join(dir, file), f, weights.F32); err != nil {
		t.Fatal(err)
	}
}

func TestReportCommand(t *testing.T) {
	defer func(n int) { reportQualityN = n }(reportQualityN)
	reportQualityN = 100

	// One usable model, one file that is no model, one that diverges: the report is
	// written, with a warning line for each file left out, and exits 0.
	models, out := t.TempDir(), filepath.Join(t.TempDir(), "results")
	writeReportModel(t, models, "8gaussians-ot.safetensors", "8gaussians", 0)
	writeReportModel(t, models, "moons-blowup.safetensors", "moons", 1e30)
	os.WriteFile(filepath.Join(models, "empty.safetensors"), nil, 0o644)
	code, stdout, stderr := run(Commands(), "report", "-models", models, "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "skipping empty.safetensors: ") ||
		!strings.Contains(lines[1], "skipping moons-blowup.safetensors: ") || !strings.Contains(lines[1], "the solve diverged") {
		t.Errorf("stderr %q: want one warning line per bad file", stderr)
	}
	if strings.Contains(stderr, "\r") {
		t.Errorf("stderr is a log, not a terminal, yet got a progress bar: %q", stderr)
	}
	if !strings.Contains(stdout, "1 models evaluated, 2 skipped") {
		t.Errorf("stdout %q", stdout)
	}
	md, _ := os.ReadFile(filepath.Join(out, "README.md"))
	if !strings.Contains(string(md), "`moons-blowup.safetensors` (the whole model)") {
		t.Errorf("README.md does not list the skipped model:\n%s", md)
	}
	for _, f := range []string{"README.md", "results.json", "density.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v; want mode 0644", f, err)
		}
	}

	// No usable model: exit 1, the error in one line after the warnings.
	bad := t.TempDir()
	writeReportModel(t, bad, "moons-blowup.safetensors", "moons", 1e30)
	code, _, stderr = run(Commands(), "report", "-models", bad, "-o", t.TempDir())
	lines = strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if code != 1 || len(lines) != 2 || !strings.HasPrefix(lines[1], "flowmatch report: report: no usable model in ") {
		t.Errorf("no usable model: exit %d, %q; want 1", code, stderr)
	}

	// Usage errors, before any model is read: exit 2 and one line.
	file := filepath.Join(t.TempDir(), "out.txt")
	os.WriteFile(file, []byte("keep"), 0o644)
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"report", "-models", t.TempDir()}, "has no *.safetensors models"},
		{[]string{"report", "-models", models, "-o", file}, "is a file, not a folder"},
		{[]string{"report", "-models", models, "-sweep-n", "100000"}, fmt.Sprintf("-sweep-n 100000 is above %d", metrics.MaxN)},
		{[]string{"report", "-models", filepath.Join(models, "empty.safetensors")}, "is not a folder"},
	} {
		code, _, stderr := run(Commands(), c.args...)
		if code != 2 || !strings.Contains(stderr, c.msg) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, %q; want 2 and one line with %q", c.args, code, stderr, c.msg)
		}
	}
	if b, _ := os.ReadFile(file); string(b) != "keep" {
		t.Errorf("-o naming a file changed it to %q", b)
	}
}
