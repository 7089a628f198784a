package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	if _, err := Run(Options{Models: t.TempDir(), Out: out}); err == nil {
		t.Error("empty model folder: no error")
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
