package cli

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/classifier"
	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/eval"
	"github.com/flowmatch/flowmatch/sampler"
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

// writeTinyClassifier writes a random classifier of Fashion-MNIST's shape, narrow
// enough that judging 10,000 test images takes a moment.
func writeTinyClassifier(t *testing.T, dir string) string {
	t.Helper()
	spec := weights.ClassifierSpec{Side: 28, Channels: []int{2, 2}, Hidden: 6, Classes: 10}
	f, err := weights.NewFileTensors(weights.Meta{Arch: weights.ArchClassifier, Net: &spec,
		Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}},
		Data: weights.DataInfo{Name: "fashion-mnist", Shape: []int{1, 28, 28}, Classes: dataset.FashionMNISTClasses(), Pixels: []float64{0, 1}}}, classifier.RandomTensors(spec, 9))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "clf.safetensors")
	if err := weights.WriteFile(path, f, weights.F32); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestEvalImages: eval on an image model reports a row per guidance with figures in
// range beside the floor, as JSON and as a table; the same samples written by sample
// and judged with -images score exactly what eval -model scored.
func TestEvalImages(t *testing.T) {
	needFashion(t)
	dir := t.TempDir()
	model := writeImageModel(t, dir, "img.safetensors", smallFashionUNet())
	clf := writeTinyClassifier(t, dir)
	common := []string{"-n", "30", "-nfe", "2", "-seed", "4", "-classifier", clf}
	code, out, stderr := fmRun(append([]string{"eval", "-model", model, "-guidance", "0,1", "-json"}, common...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res eval.ImageResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if len(res.Rows) != 2 || res.N != 30 || res.NFE != 2 || res.Solver != "midpoint" || !(res.FloorFD > 0) ||
		res.TestAccuracy < 0 || res.TestAccuracy > 1 {
		t.Fatalf("result %+v", res)
	}
	for k, r := range res.Rows {
		if r.Guidance == nil || *r.Guidance != float64(k) || r.Accuracy < 0 || r.Accuracy > 1 || !(r.FD >= 0) ||
			math.Abs(r.FDRatio-r.FD/res.FloorFD) > 1e-12 {
			t.Errorf("row %d: %+v", k, r)
		}
	}
	code, text, stderr := fmRun(append([]string{"eval", "-model", model, "-guidance", "1"}, common...)...)
	if code != 0 || !strings.Contains(text, "guidance 1") || !strings.Contains(text, "floor: 30 real") {
		t.Fatalf("exit %d, stderr %s, text:\n%s", code, stderr, text)
	}

	x, y := filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy")
	if code, _, stderr := fmRun("sample", "-model", model, "-class", "all", "-guidance", "1", "-n", "30", "-nfe", "2",
		"-seed", "4", "-o", x, "-labels", y); code != 0 {
		t.Fatalf("sample: exit %d: %s", code, stderr)
	}
	code, out, stderr = fmRun("eval", "-images", x, "-labels", y, "-classifier", clf, "-seed", "4", "-json")
	if code != 0 {
		t.Fatalf("eval -images: exit %d: %s", code, stderr)
	}
	var ext eval.ImageResult
	if err := json.Unmarshal([]byte(out), &ext); err != nil || len(ext.Rows) != 1 {
		t.Fatalf("%v:\n%s", err, out)
	}
	if g := res.Rows[1]; ext.FloorFD != res.FloorFD || ext.Rows[0].FD != g.FD || ext.Rows[0].Accuracy != g.Accuracy {
		t.Errorf("sample's files judged: %+v, floor %v; eval -model's guidance 1: %+v, floor %v", ext.Rows[0], ext.FloorFD, g, res.FloorFD)
	}
}

// TestEvalImagesBadInput: each mistake is one line, exit 2, nothing written.
func TestEvalImagesBadInput(t *testing.T) {
	needFashion(t)
	dir := t.TempDir()
	model := writeImageModel(t, dir, "img.safetensors", smallFashionUNet())
	clf := writeTinyClassifier(t, dir)
	writeNPY := func(name string, header string, data []byte) string {
		p := filepath.Join(dir, name)
		h := "{'descr': '" + header + ", }"
		for (10+len(h)+1)%64 != 0 {
			h += " "
		}
		b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)+1), 0)
		b = append(append(append(b, h...), '\n'), data...)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	f32 := func(vs ...float32) []byte {
		var b []byte
		for _, v := range vs {
			u := math.Float32bits(v)
			b = append(b, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
		}
		return b
	}
	small := writeNPY("small.npy", "<f4', 'fortran_order': False, 'shape': (2, 3, 3)", f32(make([]float32, 18)...))
	img2 := make([]float32, 2*784)
	img2[5] = float32(math.NaN())
	nan := writeNPY("nan.npy", "<f4', 'fortran_order': False, 'shape': (2, 28, 28)", f32(img2...))
	img2[5] = 0.5
	good := writeNPY("good.npy", "<f4', 'fortran_order': False, 'shape': (2, 28, 28)", f32(img2...))
	lab3 := writeNPY("lab3.npy", "<i8', 'fortran_order': False, 'shape': (3,)", make([]byte, 24))
	lab := writeNPY("lab.npy", "<i8', 'fortran_order': False, 'shape': (2,)", []byte{1, 0, 0, 0, 0, 0, 0, 0, 11, 0, 0, 0, 0, 0, 0, 0})
	before := listDir(t, dir)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-model", model, "-classifier", model}, "not a classifier"},
		{[]string{"-model", clf, "-classifier", clf}, "is the classifier that judges image models"},
		{[]string{"-model", model, "-classifier", filepath.Join(dir, "none.safetensors")}, "none.safetensors"},
		{[]string{"-model", model, "-classifier", clf, "-guidance", "1,-1"}, "-guidance \"1,-1\""},
		{[]string{"-model", model, "-classifier", clf, "-n", "1"}, "-n must be 2 to 60000"},
		{[]string{"-model", model, "-classifier", clf, "-solver", "dopri5"}, "fixed-step solver"},
		{[]string{"-model", model, "-classifier", clf, "-reps", "2"}, "-reps does not apply to an image model"},
		{[]string{"-images", small, "-labels", lab, "-classifier", clf}, "shape [2 3 3], want (n, 28, 28)"},
		{[]string{"-images", nan, "-labels", lab, "-classifier", clf}, "image 0, pixel 5 is NaN"},
		{[]string{"-images", good, "-labels", lab3, "-classifier", clf}, "shape [3], want (2,)"},
		{[]string{"-images", good, "-labels", lab, "-classifier", clf}, "label 1 is 11"},
		{[]string{"-images", good, "-classifier", clf}, "-images and -labels go together"},
		{[]string{"-images", good, "-labels", lab, "-model", model}, "leave out -model"},
		{[]string{"-images", good, "-labels", lab, "-n", "5"}, "-n does not apply"},
	} {
		code, stdout, stderr := fmRun(append([]string{"eval"}, c.args...)...)
		if code != 2 || strings.Count(stderr, "\n") != 1 || stdout != "" || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line naming %q", c.args, code, stdout, stderr, c.want)
		}
	}
	if after := listDir(t, dir); !slices.Equal(before, after) {
		t.Errorf("files changed: %v, then %v", before, after)
	}
}

// TestEvalShippedFashion: eval runs on the shipped image model with the shipped
// classifier at small size (a row per guidance, the floor, the classifier's test
// accuracy). The figures' quality is make results' to report, not this test's.
func TestEvalShippedFashion(t *testing.T) {
	needFashion(t)
	if _, err := os.Stat(shippedFashion); err != nil {
		t.Skipf("no shipped image model %s yet (make zoo-images trains it): %v", shippedFashion, err)
	}
	code, out, stderr := fmRun("eval", "-model", shippedFashion, "-classifier", "../"+DefaultClassifier,
		"-n", "20", "-nfe", "2", "-guidance", "0,1", "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res eval.ImageResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if len(res.Rows) != 2 || res.TestAccuracy < 0.92 || !(res.FloorFD > 0) {
		t.Fatalf("result %+v", res)
	}
}
