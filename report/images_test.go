package report

import (
	"bytes"
	"encoding/json"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/classifier"
	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/eval"
	"github.com/flowmatch/flowmatch/npy"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/unet"
	"github.com/flowmatch/flowmatch/weights"
)

// needFashion skips a test when Debian's Fashion-MNIST is not installed (make installs
// it).
func needFashion(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dataset.FashionMNISTDir, "t10k-images-idx3-ubyte.gz")); err != nil {
		t.Skipf("Fashion-MNIST is not installed at %s (make fashion-mnist installs it)", dataset.FashionMNISTDir)
	}
}

// writeImageFiles writes a small random U-Net of Fashion-MNIST's shape and a narrow
// random classifier into dir.
func writeImageFiles(t *testing.T, dir string) {
	t.Helper()
	cfg := unet.Config{Shape: []int{1, 28, 28}, Channels: 4, Mult: []int{1, 2}, Blocks: 1, Groups: 2, TimeFeatures: 4, Emb: 8, Classes: 10}
	spec := &weights.UNetSpec{Config: cfg}
	f, err := weights.NewFileTensors(weights.Meta{Arch: weights.ArchUNet, Net: spec,
		Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}},
		Data: weights.DataInfo{Name: "fashion-mnist", Dim: cfg.Dim(), Shape: cfg.Shape, Classes: dataset.FashionMNISTClasses(), Pixels: []float64{-1, 1}}},
		unet.RandomTensors(cfg, 5))
	if err != nil {
		t.Fatal(err)
	}
	if err := weights.WriteFile(filepath.Join(dir, "fashion-unet.safetensors"), f, weights.F32); err != nil {
		t.Fatal(err)
	}
	cs := &weights.ClassifierSpec{Side: 28, Channels: []int{2, 2}, Hidden: 6, Classes: 10}
	c, err := weights.NewFileTensors(weights.Meta{Arch: weights.ArchClassifier, Net: cs,
		Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}},
		Data: weights.DataInfo{Name: "fashion-mnist", Shape: []int{1, 28, 28}, Classes: dataset.FashionMNISTClasses(), Pixels: []float64{0, 1}}},
		classifier.RandomTensors(*cs, 9))
	if err != nil {
		t.Fatal(err)
	}
	if err := weights.WriteFile(filepath.Join(dir, "fashion-classifier.safetensors"), c, weights.F32); err != nil {
		t.Fatal(err)
	}
}

// writeNPY writes the .npy file that write makes.
func writeNPY(t *testing.T, path string, write func(io.Writer) error) {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeReference writes PREFIX.w{0,1,2}.npy and .labels.npy as pytorch_fmnist.py --out
// does: n×28×28 float32 in [0, 1] and int64 labels i mod 10.
func writeReference(t *testing.T, prefix string, n int) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, w := range ImageGuidance {
		x := make([]float32, n*784)
		for i := range x {
			x[i] = rng.Float32()
		}
		y := make([]int64, n)
		for i := range y {
			y[i] = int64(i % 10)
		}
		xf, yf := ReferenceFiles(prefix, w)
		writeNPY(t, xf, func(w io.Writer) error { return npy.WriteFloat32(w, x, n, 28, 28) })
		writeNPY(t, yf, func(w io.Writer) error { return npy.WriteInt64(w, y) })
	}
}

// TestRunImages: a folder with a model of points, an image model and its classifier
// gets both sections: the image model's headline rows (one per guidance, the floor, the
// reference's rows and the goals), its sweep at every guidance and NFE, four grids that
// decode to a row per class, two plots, and results.json with the figures. The
// classifier is the judge, not a model left out.
func TestRunImages(t *testing.T) {
	if testing.Short() {
		t.Skip("samples images and renders plots")
	}
	needFashion(t)
	models, out, build := t.TempDir(), t.TempDir(), t.TempDir()
	writeZeroModel(t, models, "moons", "ot")
	writeImageFiles(t, models)
	ref := filepath.Join(build, "ref")
	writeReference(t, ref, 24)
	res, err := Run(Options{Models: models, Out: out, SweepN: 40, QualityN: 100, ImageN: 24, ImageSweepN: 12, Reference: ref})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Models) != 1 || len(res.Images) != 1 || len(res.Skipped) != 0 || res.Reference == nil {
		t.Fatalf("%d models, %d image models, skipped %+v, reference %v", len(res.Models), len(res.Images), res.Skipped, res.Reference)
	}
	im := res.Images[0]
	if h := im.Headline; h.N != 24 || h.NFE != 20 || len(h.Rows) != 3 || !(h.FloorFD > 0) || len(im.VsReference) != 3 {
		t.Fatalf("headline %+v, vs reference %v", h, im.VsReference)
	}
	for i, r := range im.Headline.Rows {
		if *r.Guidance != ImageGuidance[i] || r.Accuracy < 0 || r.Accuracy > 1 || !(r.FD > 0) ||
			math.Abs(im.VsReference[i]-r.FD/res.Reference.Rows[i].FD) > 1e-12 {
			t.Errorf("headline row %d: %+v, vs reference %v", i, r, im.VsReference[i])
		}
	}
	if sw := im.Sweep; sw.N != 12 || len(sw.Points) != len(ImageGuidance)*len(ImageNFE) || !(sw.FloorFD > 0) {
		t.Fatalf("sweep %+v", sw)
	}
	for _, name := range append(append([]string{"README.md", "results.json"}, im.Grids...), im.Plots...) {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || len(b) < 100 {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.HasSuffix(name, ".png") {
			img, err := png.Decode(strings.NewReader(string(b)))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if strings.Contains(name, "-grid-") && img.Bounds().Dy() != 10*28*gridScale+11*gridScale {
				t.Errorf("%s: %v, want a row per class", name, img.Bounds())
			}
		}
	}
	if len(im.Grids) != 4 || im.Grids[0] != "fashion-unet-grid-nfe2.png" || im.Grids[3] != "fashion-unet-grid-nfe20.png" {
		t.Errorf("grids %v", im.Grids)
	}
	md, _ := os.ReadFile(filepath.Join(out, "README.md"))
	for _, want := range []string{"| moons-ot.safetensors | moons | ot |", "## Images: fashion-unet.safetensors",
		"| fashion-unet.safetensors (w = 0) |", "| fashion-unet.safetensors (w = 2) |", "| floor: 24 real training images |",
		"| reference, `ref.w1.npy` (n = 24) |", "| accuracy with guidance 1 ≥ 0.93 |", "| FD ≤ ½ the reference's, w = 2 |",
		"| w = 1 |", "NFE 20 |", "](fashion-unet-grid-nfe8.png)", "](fashion-unet-fd-nfe.png)"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("README.md lacks %q", want)
		}
	}
	var js Results
	b, _ := os.ReadFile(filepath.Join(out, "results.json"))
	if err := json.Unmarshal(b, &js); err != nil || len(js.Images) != 1 || len(js.Images[0].Sweep.Points) != 12 || js.Reference == nil {
		t.Errorf("results.json: %v, %+v", err, js.Images)
	}
}

// TestRunImagesLeftOut: without a classifier an image model is left out with a reason,
// and a reference prefix without files is a line, not a failure.
func TestRunImagesLeftOut(t *testing.T) {
	if testing.Short() {
		t.Skip("renders plots")
	}
	needFashion(t)
	models, out := t.TempDir(), t.TempDir()
	writeZeroModel(t, models, "moons", "ot")
	writeImageFiles(t, models)
	if err := os.Remove(filepath.Join(models, "fashion-classifier.safetensors")); err != nil {
		t.Fatal(err)
	}
	res, err := Run(Options{Models: models, Out: out, SweepN: 40, QualityN: 100, ImageN: 12, ImageSweepN: 12})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Images) != 0 || len(res.Skipped) != 1 || res.Skipped[0].Part != PartImages || !strings.Contains(res.Skipped[0].Reason, "no classifier") {
		t.Errorf("images %v, skipped %+v", res.Images, res.Skipped)
	}
	// Only an image model and no classifier: nothing usable.
	only := t.TempDir()
	writeImageFiles(t, only)
	os.Remove(filepath.Join(only, "fashion-classifier.safetensors"))
	if _, err := Run(Options{Models: only, Out: t.TempDir(), ImageN: 12, ImageSweepN: 12}); err == nil || !strings.Contains(err.Error(), "no usable model") {
		t.Errorf("only an image model, no classifier: %v", err)
	}
	// A missing reference.
	writeImageFiles(t, only)
	res, err = Run(Options{Models: only, Out: t.TempDir(), ImageN: 12, ImageSweepN: 12, Reference: filepath.Join(t.TempDir(), "none")})
	if err != nil || len(res.Images) != 1 || len(res.Skipped) != 1 || res.Skipped[0].Part != PartReference ||
		!strings.Contains(res.Skipped[0].Reason, "no reference samples at") {
		t.Errorf("missing reference: %v, skipped %+v", err, res.Skipped)
	}
}

// TestGoalsMarkdown: the FD goal is judged only against a reference of the model's n;
// at another n the row gives the ratio and says it is not judged.
func TestGoalsMarkdown(t *testing.T) {
	w := []float64{0, 1, 2}
	rows := []eval.ImageRow{{Guidance: &w[0], Accuracy: 0.9, FD: 30}, {Guidance: &w[1], Accuracy: 0.95, FD: 20}, {Guidance: &w[2], Accuracy: 0.99, FD: 50}}
	m := &ImageModel{Headline: &eval.ImageResult{N: 100, Rows: rows}, VsReference: []float64{0.3, 0.4, 0.6}}
	for _, c := range []struct {
		refN int
		want []string
	}{
		{100, []string{"| FD ≤ ½ the reference's, w = 0 | 0.30× | yes |", "| FD ≤ ½ the reference's, w = 2 | 0.60× | **no** |",
			"| accuracy with guidance 1 ≥ 0.93 | 0.9500 | yes |", "| accuracy without guidance ≥ 0.85 | 0.9000 | yes |"}},
		{1000, []string{"| FD ≤ ½ the reference's, w = 2 | 0.60× | not judged: the reference's n is 1,000, the model's 100 |"}},
	} {
		var b strings.Builder
		goalsMarkdown(&b, m, &eval.ImageResult{N: c.refN})
		for _, want := range c.want {
			if !strings.Contains(b.String(), want) {
				t.Errorf("reference n %d: no %q in\n%s", c.refN, want, b.String())
			}
		}
	}
	var b strings.Builder
	goalsMarkdown(&b, m, nil)
	if strings.Contains(b.String(), "reference") {
		t.Errorf("no reference, yet:\n%s", b.String())
	}
}

// TestPlotImageSweepZeroFD: a Fréchet distance of 0 (a model that reproduced the
// judge's features exactly) has no place on a log axis; the plot falls back to a
// linear one rather than panicking.
func TestPlotImageSweepZeroFD(t *testing.T) {
	dir := t.TempDir()
	sw := ImageSweep{N: 10, FloorFD: 0.5, FloorAccuracy: 0.9}
	for _, w := range ImageGuidance {
		for _, nfe := range []int{2, 4} {
			sw.Points = append(sw.Points, ImagePoint{Guidance: w, NFE: nfe, Accuracy: 0.5, FD: float64(nfe-2) * w})
		}
	}
	acc, fd := filepath.Join(dir, "acc.png"), filepath.Join(dir, "fd.png")
	if err := PlotImageSweep(acc, fd, "m", sw, 0.9); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{acc, fd} {
		if b, err := os.ReadFile(f); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("%s: %d bytes, %v", f, len(b), err)
		}
	}
}
