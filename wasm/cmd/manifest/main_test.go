package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/explorer"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/unet"
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
	if err := run(dir, def, false); err != nil {
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
	if err := run(dir, "moons-ot", false); err == nil || !strings.Contains(err.Error(), "bad-ot.safetensors") {
		t.Errorf("corrupt file: %v", err)
	}
	if err := run(t.TempDir(), "x", false); err == nil || !strings.Contains(err.Error(), "no models") {
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

// An image model (a U-Net) is listed with kind image, its images' shape and classes,
// outside the 2-D models' lists; -prune removes the files left out.
func TestManifestImages(t *testing.T) {
	dir := t.TempDir()
	writeModel(t, filepath.Join(dir, "moons-ot.safetensors"), "moons", "ot", 2)
	writeModel(t, filepath.Join(dir, "mnist-ot.safetensors"), "mnist", "ot", 784) // left out: not 2-D, not a U-Net
	cfg := unet.Config{Shape: []int{1, 4, 4}, Channels: 2, Mult: []int{1, 2}, Blocks: 1, Groups: 2, TimeFeatures: 2, Emb: 3, Classes: 2}
	tensors := map[string][]float32{}
	for _, ts := range cfg.Tensors() {
		n := 1
		for _, d := range ts.Shape {
			n *= d
		}
		tensors[ts.Name] = make([]float32, n)
	}
	f, err := weights.NewFileTensors(weights.Meta{Arch: weights.ArchUNet, Net: &weights.UNetSpec{Config: cfg},
		Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}},
		Data: weights.DataInfo{Name: "fashion-mnist", Shape: cfg.Shape, Classes: []string{"a", "b"}, Pixels: []float64{-1, 1}}}, tensors)
	if err != nil {
		t.Fatal(err)
	}
	if err := weights.WriteFile(filepath.Join(dir, "fashion-unet.safetensors"), f, weights.F16); err != nil {
		t.Fatal(err)
	}
	// The Fashion-MNIST classifier (make www copies every file of weights/): left out.
	spec := weights.DefaultClassifier()
	ct := map[string][]float32{}
	for _, ts := range spec.Tensors() {
		n := 1
		for _, d := range ts.Shape {
			n *= d
		}
		ct[ts.Name] = make([]float32, n)
	}
	cf, err := weights.NewFileTensors(weights.Meta{Arch: weights.ArchClassifier, Net: &spec,
		Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}},
		Data: weights.DataInfo{Name: "fashion-mnist", Shape: []int{1, 28, 28}, Pixels: []float64{0, 1}, Classes: strings.Split("a b c d e f g h i j", " ")}}, ct)
	if err != nil {
		t.Fatal(err)
	}
	if err := weights.WriteFile(filepath.Join(dir, "fashion-classifier.safetensors"), cf, weights.F16); err != nil {
		t.Fatal(err)
	}
	if err := run(dir, "", true); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
	m, err := explorer.ParseManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Models) != 2 || m.Default != "moons-ot" || strings.Join(m.Datasets(), ",") != "moons" {
		t.Fatalf("manifest %+v", m)
	}
	e := m.Models[0]
	if e.Name != "fashion-unet" || e.Kind != explorer.KindImage || e.Dataset != "fashion-mnist" || e.Path != "ot" ||
		fmt.Sprint(e.Shape) != "[1 4 4]" || strings.Join(e.Classes, ",") != "a,b" {
		t.Errorf("image entry %+v", e)
	}
	if !strings.Contains(string(b), `"kind": "image"`) {
		t.Errorf("manifest.json:\n%s", b)
	}
	for _, f := range []string{"mnist-ot.safetensors", "fashion-classifier.safetensors"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Errorf("-prune left %s out of the manifest but in the folder: %v", f, err)
		}
	}
}
