package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/explorer"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

func writeModel(t *testing.T, path, dataset, pathName string, dim int) {
	t.Helper()
	writeCoupled(t, path, dataset, pathName, dim, "")
}

// writeCoupled writes a model whose provenance names its training coupling.
func writeCoupled(t *testing.T, path, dataset, pathName string, dim int, coupling string) {
	t.Helper()
	spec := sampler.MLPSpec{Dim: dim, Hidden: []int{4}}
	var ws, bs [][]float32
	for _, sh := range spec.LayerShapes() {
		ws, bs = append(ws, make([]float32, sh[0]*sh[1])), append(bs, make([]float32, sh[0]))
	}
	f, err := weights.NewFile(weights.Meta{Model: spec, Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: pathName}},
		Data: weights.DataInfo{Name: dataset}, Provenance: weights.Provenance{Coupling: coupling}}, ws, bs)
	if err != nil {
		t.Fatal(err)
	}
	if err := weights.WriteFile(path, f, weights.F16); err != nil {
		t.Fatal(err)
	}
}

// runAndRead runs the tool on dir with the default def and reads back what it wrote.
func runAndRead(t *testing.T, dir, def string) *explorer.Manifest {
	t.Helper()
	if err := run(dir, def); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := explorer.ParseManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestManifest(t *testing.T) {
	dir := t.TempDir()
	writeModel(t, filepath.Join(dir, "moons-ot.safetensors"), "moons", "ot", 2)
	writeModel(t, filepath.Join(dir, "moons-vp.safetensors"), "moons", "vp", 2)
	writeModel(t, filepath.Join(dir, "rings-ot.safetensors"), "rings", "ot", 2)
	writeModel(t, filepath.Join(dir, "mnist-ot.safetensors"), "mnist", "ot", 784) // skipped: not 2-D
	writeCoupled(t, filepath.Join(dir, "moons-ot-otcfm.safetensors"), "moons", "ot", 2, "ot")
	m := runAndRead(t, dir, "moons-vp")
	if m.Default != "moons-vp" || len(m.Models) != 4 || strings.Join(m.Paths("moons"), ",") != "ot,vp" ||
		strings.Join(m.Couplings("moons", "ot"), ",") != "independent,ot" {
		t.Errorf("manifest: %+v", m)
	}
	if e, _ := m.FindCoupling("moons", "ot", "ot"); e.Name != "moons-ot-otcfm" {
		t.Errorf("the OT-CFM model is %+v", e)
	}
	for _, e := range m.Models {
		if e.Bytes <= 0 || e.File != e.Name+".safetensors" {
			t.Errorf("entry %+v", e)
		}
	}
	// A corrupt file stops the build, naming it.
	os.WriteFile(filepath.Join(dir, "bad-ot.safetensors"), []byte("garbage"), 0o644)
	if err := run(dir, "moons-ot"); err == nil || !strings.Contains(err.Error(), "bad-ot.safetensors") {
		t.Errorf("corrupt file: %v", err)
	}
	if err := run(t.TempDir(), "x"); err == nil || !strings.Contains(err.Error(), "no models") {
		t.Errorf("empty folder: %v", err)
	}
}

// Without -default the explorer's rule picks the model shown first; a file named
// against the convention is listed by its metadata.
func TestManifestDefaultRule(t *testing.T) {
	dir := t.TempDir()
	writeModel(t, filepath.Join(dir, "moons-vp.safetensors"), "moons", "vp", 2)
	writeModel(t, filepath.Join(dir, explorer.DefaultModel+".safetensors"), "moons", "ot", 2)
	writeCoupled(t, filepath.Join(dir, "my-model.safetensors"), "rings", "vp", 2, "ot")
	m := runAndRead(t, dir, "")
	if m.Default != explorer.DefaultModel || len(m.Models) != 3 {
		t.Errorf("manifest %+v", m)
	}
	if e, ok := m.FindCoupling("rings", "vp", explorer.CouplingOT); !ok || e.Name != "my-model" {
		t.Errorf("rings: %+v", m.Models)
	}
}
