package report

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/eval"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// writeZeroModel writes a model whose velocity is zero: its samples are the source.
func writeZeroModel(t *testing.T, dir, name, path string) {
	t.Helper()
	writeZeroCoupled(t, dir, name, path, "")
}

// writeZeroCoupled writes a zero model whose provenance names its coupling; an "ot" one
// is saved as NAME-PATH-otcfm.
func writeZeroCoupled(t *testing.T, dir, name, path, coupling string) {
	t.Helper()
	spec := sampler.MLPSpec{Dim: 2, Hidden: []int{4}}
	var ws, bs [][]float32
	for _, sh := range spec.LayerShapes() {
		ws = append(ws, make([]float32, sh[0]*sh[1]))
		bs = append(bs, make([]float32, sh[0]))
	}
	f, err := weights.NewFile(weights.Meta{Model: spec, Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: path}},
		Data: weights.DataInfo{Name: name}, Provenance: weights.Provenance{Coupling: coupling}}, ws, bs)
	if err != nil {
		t.Fatal(err)
	}
	file := name + "-" + path
	if coupling == "ot" {
		file += "-otcfm"
	}
	if err := weights.WriteFile(filepath.Join(dir, file+".safetensors"), f, weights.F32); err != nil {
		t.Fatal(err)
	}
}

func TestRunWritesReport(t *testing.T) {
	if testing.Short() {
		t.Skip("renders plots")
	}
	models, out := t.TempDir(), t.TempDir()
	writeZeroModel(t, models, "moons", "ot")
	writeZeroModel(t, models, "moons", "ve")
	writeZeroModel(t, models, "rings", "ot")
	writeZeroCoupled(t, models, "moons", "ot", "ot")
	writeZeroCoupled(t, models, "rings", "ot", "ot")
	res, err := Run(Options{Models: models, Out: out, SweepN: 40, QualityN: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Models) != 5 || res.SweepFloor["moons"] <= 0 {
		t.Fatalf("results %+v", res)
	}
	// rings has one path: its OT-CFM model gets a quality row, not a sweep.
	if _, ok := res.SweepFloor["rings"]; ok {
		t.Error("rings (one path, two couplings) was swept")
	}
	for _, f := range []string{"README.md", "results.json", "w2-nfe-moons.png", "trajectories-moons.png", "density.png"} {
		st, err := os.Stat(filepath.Join(out, f))
		if err != nil || st.Size() < 100 {
			t.Errorf("%s: %v", f, err)
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, "README.md"))
	for _, want := range []string{"| moons-ot.safetensors | moons | ot |", "## moons: paths and solvers", "| ve |", "density.png",
		"| W2 / data floor | i.i.d. floor | W2 / i.i.d. floor |", "The **i.i.d. floor** is",
		"| moons-ot-otcfm.safetensors | moons | ot OT-CFM |", "| rings-ot-otcfm.safetensors | rings | ot OT-CFM |", "\n| ot OT-CFM |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("README.md lacks %q", want)
		}
	}
	for _, m := range res.Models {
		if q := m.Quality; q.W2IIDFloor <= 0 || q.W2IIDRatio != q.W2/q.W2IIDFloor {
			t.Errorf("%s: i.i.d. floor %g, ratio %g", m.File, q.W2IIDFloor, q.W2IIDRatio)
		}
	}
	js, _ := os.ReadFile(filepath.Join(out, "results.json"))
	if !strings.Contains(string(js), `"w2_iid_ratio"`) {
		t.Error("results.json lacks w2_iid_ratio")
	}
	// Zero fields leave the source unchanged: straight (zero-length) trajectories.
	for _, m := range res.Models {
		if m.Sweep != nil && m.Straightness != 1 {
			t.Errorf("%s: straightness %g for a zero field", m.File, m.Straightness)
		}
	}
	if _, err := Run(Options{Models: t.TempDir(), Out: out}); !errors.Is(err, ErrNoModels) {
		t.Errorf("empty model folder: %v, want ErrNoModels", err)
	}
}

// writeBlowUp writes a model whose velocity overflows float32, so that its sampling
// solve diverges.
func writeBlowUp(t *testing.T, dir, name, path string) {
	t.Helper()
	spec := sampler.MLPSpec{Dim: 2, Hidden: []int{4}}
	var ws, bs [][]float32
	for _, sh := range spec.LayerShapes() {
		w := make([]float32, sh[0]*sh[1])
		for i := range w {
			w[i] = 1e30
		}
		ws, bs = append(ws, w), append(bs, make([]float32, sh[0]))
	}
	f, err := weights.NewFile(weights.Meta{Model: spec, Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: path}},
		Data: weights.DataInfo{Name: name}}, ws, bs)
	if err != nil {
		t.Fatal(err)
	}
	if err := weights.WriteFile(filepath.Join(dir, name+"-"+path+"-blowup.safetensors"), f, weights.F32); err != nil {
		t.Fatal(err)
	}
}

// TestRunSkipsBadModels: a file that is no model and a model whose solve diverges are
// left out, each with one warning line naming it and a line in README.md, and the
// others are reported. Every file written is 0644 (temporary files are 0600, which
// the report once renamed into place as they were), and a log gets no progress bar.
func TestRunSkipsBadModels(t *testing.T) {
	if testing.Short() {
		t.Skip("renders plots")
	}
	models, out := t.TempDir(), t.TempDir()
	writeZeroModel(t, models, "moons", "ot")
	writeZeroModel(t, models, "moons", "ve")
	writeBlowUp(t, models, "moons", "vp")
	if err := os.WriteFile(filepath.Join(models, "broken.safetensors"), []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	res, err := Run(Options{Models: models, Out: out, SweepN: 40, QualityN: 100, Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Models) != 2 || res.SkippedModels() != 2 || len(res.Skipped) != 2 {
		t.Fatalf("%d models, skipped %+v; want 2 and 2", len(res.Models), res.Skipped)
	}
	lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
	if len(lines) != 2 || strings.Contains(stderr.String(), "\r") ||
		!strings.HasPrefix(lines[0], "report: skipping broken.safetensors: ") ||
		!strings.HasPrefix(lines[1], "report: skipping moons-vp-blowup.safetensors: ") || !strings.Contains(lines[1], "the solve diverged") {
		t.Errorf("stderr %q: want two warning lines naming the files, and no progress bar", stderr.String())
	}
	md, _ := os.ReadFile(filepath.Join(out, "README.md"))
	for _, want := range []string{"## Left out", "- `broken.safetensors` (the whole model): ", "- `moons-vp-blowup.safetensors` (the whole model): ",
		"| moons-ot.safetensors |", "| moons-ve.safetensors |", "## moons: paths and solvers"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("README.md lacks %q", want)
		}
	}
	js, _ := os.ReadFile(filepath.Join(out, "results.json"))
	if !strings.Contains(string(js), `"skipped"`) || !strings.Contains(string(js), `"file": "broken.safetensors"`) {
		t.Errorf("results.json does not list the skipped files")
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 5 { // README.md, results.json, w2-nfe, trajectories, density
		t.Errorf("%d files written, want 5: %v", len(entries), entries)
	}
	for _, e := range entries {
		if st, err := os.Stat(filepath.Join(out, e.Name())); err != nil || st.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, %v; want 0644", e.Name(), st.Mode().Perm(), err)
		}
	}

	// With no usable model at all, Run fails and writes nothing.
	bad, out2 := t.TempDir(), t.TempDir()
	writeBlowUp(t, bad, "moons", "ot")
	os.WriteFile(filepath.Join(bad, "broken.safetensors"), nil, 0o644)
	stderr.Reset()
	if _, err := Run(Options{Models: bad, Out: out2, QualityN: 100, Stderr: &stderr}); err == nil || errors.Is(err, ErrNoModels) ||
		!strings.Contains(err.Error(), "no usable model") || strings.Count(stderr.String(), "\n") != 2 {
		t.Errorf("no usable model: %v, stderr %q", err, stderr.String())
	}
	if entries, _ := os.ReadDir(out2); len(entries) != 0 {
		t.Errorf("no usable model, yet %v written", entries)
	}
}

// TestRunOutputChecks: an output path that is a file, or a models folder without
// models, fails before any model is read.
func TestRunOutputChecks(t *testing.T) {
	models := t.TempDir()
	os.WriteFile(filepath.Join(models, "broken.safetensors"), nil, 0o644) // would warn if read
	file := filepath.Join(t.TempDir(), "results.txt")
	os.WriteFile(file, []byte("keep"), 0o644)
	var stderr bytes.Buffer
	if _, err := Run(Options{Models: models, Out: file, Stderr: &stderr}); !errors.Is(err, ErrOutNotFolder) || stderr.Len() > 0 {
		t.Errorf("output is a file: %v, stderr %q; want ErrOutNotFolder before reading models", err, stderr.String())
	}
	if b, _ := os.ReadFile(file); string(b) != "keep" {
		t.Errorf("the file given as output now holds %q", b)
	}
	if _, err := Run(Options{Models: t.TempDir(), Out: t.TempDir()}); !errors.Is(err, ErrNoModels) {
		t.Errorf("no models: %v, want ErrNoModels", err)
	}
	if _, err := Run(Options{Models: models, Out: t.TempDir(), QualityN: eval.MaxN + 1}); err == nil || stderr.Len() > 0 {
		t.Errorf("quality n above eval.MaxN: %v", err)
	}
}

// TestRunWritesThroughSymlink: README.md that is a symlink stays one, and the file it
// points to gets the page (a rename over the link would have replaced it).
func TestRunWritesThroughSymlink(t *testing.T) {
	if testing.Short() {
		t.Skip("renders plots")
	}
	models, out, elsewhere := t.TempDir(), t.TempDir(), t.TempDir()
	writeZeroModel(t, models, "8gaussians", "vp")
	target := filepath.Join(elsewhere, "page.md")
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(out, "README.md")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(Options{Models: models, Out: out, SweepN: 40, QualityN: 100}); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("README.md is no longer a symlink: %v, %v", st.Mode(), err)
	}
	b, _ := os.ReadFile(target)
	if !strings.HasPrefix(string(b), "# Results") {
		t.Errorf("the link's target holds %.40q, want the page", b)
	}
	if st, _ := os.Stat(target); st.Mode().Perm() != 0o600 {
		t.Errorf("the target's mode is %v, want its own 0600 kept", st.Mode().Perm())
	}
}

func TestStraightness(t *testing.T) {
	line := [][]float32{{0, 0}, {1, 1}, {2, 2}}
	bent := [][]float32{{0, 0}, {1, 0}, {1, 1}}
	if s := Straightness(line, 2); s < 1-1e-9 || s > 1+1e-9 {
		t.Errorf("straight line: %g", s)
	}
	if s := Straightness(bent, 2); s < 0.7071-1e-4 || s > 0.7072 {
		t.Errorf("right angle: %g, want 1/√2", s)
	}
}

// TestPlotTrajectoriesDeterministic: the same trajectories make the same PNG. Starts
// and ends coincide here, so the order in which they are drawn shows in the pixels.
func TestPlotTrajectoriesDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("renders plots")
	}
	pts := []float32{0, 0, 1, 1, -1, 0.5, 2, -2}
	states := map[string][][]float32{"ot": {pts, pts, pts}, "vp": {pts, pts, pts}}
	straight := map[string]float64{"ot": 1, "vp": 1}
	dir := t.TempDir()
	var first []byte
	for i := 0; i < 8; i++ {
		file := filepath.Join(dir, "t.png")
		if err := PlotTrajectories(file, "test", states, straight, 3); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = b
		} else if !bytes.Equal(b, first) {
			t.Fatalf("render %d differs from the first", i)
		}
	}
}
