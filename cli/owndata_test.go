package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// TestSampleNPY: -o FILE.npy writes the same samples as the CSV, as NumPy's float32
// (n, d), in the data's units.
func TestSampleNPY(t *testing.T) {
	dir := t.TempDir()
	model := testModel(t, dir)
	npy := filepath.Join(dir, "s.npy")
	if code, _, stderr := fmRun("sample", "-model", model, "-n", "50", "-o", npy); code != 0 {
		t.Fatalf("sample -o s.npy: exit %d: %s", code, stderr)
	}
	code, csv, _ := fmRun("sample", "-model", model, "-n", "50")
	if code != 0 {
		t.Fatal("sample to stdout failed")
	}
	own, err := dataset.ReadFile(npy, dataset.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x, d, err := dataset.ReadCSV(strings.NewReader(csv), "stdout", dataset.ReadOptions{})
	if err != nil || own.Rows != 50 || own.Dim != 2 || d != 2 || fmt.Sprint(own.Points) != fmt.Sprint(x) {
		t.Errorf(".npy holds %d×%d %v, CSV %d columns %v (%v)", own.Rows, own.Dim, own.Points[:4], d, x[:4], err)
	}
	// encode and loglik read .npy as they read CSV (one reader, dataset.Read).
	if code, out, stderr := fmRun("encode", "-model", model, "-in", npy); code != 0 || strings.Count(out, "\n") != 51 {
		t.Errorf("encode -in s.npy: exit %d, %d lines: %s", code, strings.Count(out, "\n"), stderr)
	}
	raw, _ := os.ReadFile(npy)
	if !strings.HasPrefix(string(raw), "\x93NUMPY\x01\x00") || !strings.Contains(string(raw[:128]), "'shape': (50, 2)") {
		t.Errorf(".npy header %q", raw[:min(len(raw), 128)])
	}
}

// ownModel writes a model of the user's data file data (rows × 2) that held out rows
// by seed 3, and returns its path.
func ownModel(t *testing.T, dir, data string) string {
	own, err := dataset.ReadFile(data, dataset.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return writeModel(t, dir, "own.safetensors", weights.Meta{
		Model: sampler.MLPSpec{Dim: 2, Hidden: []int{8}},
		Path:  weights.PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}},
		Data: weights.DataInfo{Name: own.File, Normalization: &weights.Normalization{Mean: []float64{1, 2}, Std: []float64{1, 0}},
			Source: weights.Source{File: own.File, Rows: own.Rows, SHA256: own.SHA256,
				Holdout: weights.Holdout{Rule: dataset.HoldoutRule, Seed: 3, Rows: dataset.HoldoutCount(own.Rows)}}},
	}, weights.F32)
}

// TestEvalOwnData: eval -data scores a model of a user's data on its held-out rows;
// the wrong file, a missing -data, -data for a built-in dataset's model and a bad file
// are usage errors of one line.
func TestEvalOwnData(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("a,b\n")
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, "%g,2\n", float64(i%17)/4)
	}
	data := filepath.Join(dir, "pts.csv")
	os.WriteFile(data, []byte(b.String()), 0o644)
	model := ownModel(t, dir, data)
	code, stdout, stderr := fmRun("eval", "-model", model, "-data", data, "-n", "20", "-reps", "1", "-nll-steps", "2", "-json")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	var res struct {
		Dataset string  `json:"dataset"`
		N       int     `json:"n"`
		HeldOut int     `json:"held_out"`
		W2      float64 `json:"w2"`
		NLL     float64 `json:"nll"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Dataset != "pts.csv" || res.N != 20 || res.HeldOut != 20 || !(res.W2 > 0) {
		t.Errorf("eval -json: %+v (%v)\n%s", res, err, stdout)
	}
	code, stdout, _ = fmRun("eval", "-model", model, "-data", data, "-n", "20", "-reps", "1", "-nll-steps", "2")
	if code != 0 || !strings.Contains(stdout, "model samples vs 20 of the 20 rows held out of training") || !strings.Contains(stdout, "in the data's units") {
		t.Errorf("eval text:\n%s", stdout)
	}

	other := filepath.Join(dir, "other.csv")
	os.WriteFile(other, []byte(strings.Replace(b.String(), "0,2\n", "0.5,2\n", 1)), 0o644)
	sum := sha256.Sum256([]byte(b.String()))
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("1,2\n3,x\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-model", model, "-data", other}, "other.csv is not the data the model was trained on: its SHA-256 is"},
		{[]string{"-model", model, "-data", other}, "the model's file pts.csv had " + hex.EncodeToString(sum[:])[:12] + "…"},
		{[]string{"-model", model}, "the model was trained on the file pts.csv (200 rows): pass it with -data"},
		{[]string{"-model", testModel(t, dir), "-data", data}, `-data applies to a model trained on a file of points; this one was trained on the dataset "moons"`},
		{[]string{"-model", model, "-data", bad}, `-data: ` + bad + `:2: column 2: "x" is not a number`},
		{[]string{"-model", model, "-data", filepath.Join(dir, "nope.csv")}, "nope.csv: no such file"},
	} {
		code, stdout, stderr := fmRun(append([]string{"eval"}, c.args...)...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("eval %v: exit %d, stderr %q; want 2 and one line containing %q", c.args, code, stderr, c.want)
		}
	}
}

// TestInspectOwnData: inspect shows where a model of a user's data came from: the
// file, its rows and SHA-256, and the hold-out.
func TestInspectOwnData(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "pts.csv")
	os.WriteFile(data, []byte("1,2\n3,2\n5,2\n7,2\n"), 0o644)
	model := ownModel(t, dir, data)
	own, _ := dataset.ReadFile(data, dataset.ReadOptions{})
	code, stdout, stderr := fmRun("inspect", model)
	want := "pts.csv, 4 rows, sha256 " + own.SHA256 + "; 1 held out (" + dataset.HoldoutRule + ", seed 3)"
	if code != 0 || !regexp.MustCompile(`(?m)^  source +`+regexp.QuoteMeta(want)+`$`).MatchString(stdout) {
		t.Errorf("inspect: exit %d, %s; want a line %q in:\n%s", code, stderr, want, stdout)
	}
}
