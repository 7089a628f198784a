package trainer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/cli"
	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// ownCSV writes n rows of (x, 3 + 0.5·y, 7.25), x and y spread, to dir/name and returns
// the path and the file's bytes.
func ownCSV(t *testing.T, dir, name string, n int) (string, []byte) {
	t.Helper()
	x := make([]float32, 0, 3*n)
	for i := 0; i < n; i++ {
		a := float64(i) / float64(n) * 2 * math.Pi
		x = append(x, float32(10+2*math.Cos(a)), float32(3+0.5*math.Sin(3*a)), 7.25)
	}
	var b bytes.Buffer
	if err := dataset.WriteCSV(&b, x, 3); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, b.Bytes()
}

// TestOwnDataTrain: -data FILE.csv trains on the file's rows and writes a model whose
// metadata records the file's base name, rows, SHA-256, the hold-out (seed and count)
// and the training rows' standardisation (a constant column with std 0, and warned
// about), so that samples come back in the data's units with the constant column
// exactly constant.
func TestOwnDataTrain(t *testing.T) {
	dir := t.TempDir()
	data, raw := ownCSV(t, dir, "pts.csv", 500)
	out := filepath.Join(dir, "m.safetensors")
	var stdout, stderr bytes.Buffer
	env := cli.Env{Args: []string{"-data", data, "-steps", "200", "-hidden", "32", "-layers", "2", "-batch", "128",
		"-warmup", "10", "-device", "cpu", "-seed", "5", "-o", out}, Stdout: &stdout, Stderr: &stderr}
	if err := runCommand(env); err != nil {
		t.Fatalf("train: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "warning: pts.csv: column 3 (= 7.25) is constant in the training rows: the model keeps it at that value") {
		t.Errorf("no warning of the constant column in:\n%s", stderr.String())
	}
	f, err := weights.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	d := f.Meta.Data
	want := weights.Source{File: "pts.csv", Rows: 500, SHA256: hex.EncodeToString(sum[:]),
		Holdout: weights.Holdout{Rule: dataset.HoldoutRule, Seed: 5, Rows: 50}}
	if d.Name != "pts.csv" || d.Dim != 3 || d.Source != want {
		t.Errorf("data record %+v, want name pts.csv, dim 3, source %+v", d, want)
	}
	// The standardisation is the training rows' own.
	own, _ := dataset.ReadFile(data, dataset.ReadOptions{})
	train, _, _ := dataset.Split(own.Points, 3, 5)
	mean, std, _ := dataset.Standardize(train, 3)
	for j := range mean {
		if d.Normalization.Mean[j] != mean[j] || d.Normalization.Std[j] != std[j] {
			t.Errorf("coordinate %d: normalization %g, %g; want %g, %g", j, d.Normalization.Mean[j], d.Normalization.Std[j], mean[j], std[j])
		}
	}
	if std[2] != 0 {
		t.Errorf("constant column std %g, want 0", std[2])
	}
	if strings.Contains(f.Meta.Provenance.Command, dir) {
		t.Errorf("the command names the machine's folder: %s", f.Meta.Provenance.Command)
	}
	s, _, err := f.Sample(400, rand.New(rand.NewPCG(1, 2)), sampler.Options{Method: sampler.Midpoint, Steps: 10})
	if err != nil {
		t.Fatal(err)
	}
	var m0 float64
	for i := 0; i < len(s); i += 3 {
		if s[i+2] != 7.25 {
			t.Fatalf("sample %d: constant column %v, want exactly 7.25", i/3, s[i+2])
		}
		m0 += float64(s[i]) / 400
	}
	// In the data's units: the first column's mean is near 10, not near 0.
	if math.Abs(m0-10) > 0.5 {
		t.Errorf("samples' first-column mean %.3f, want about 10 (the data's units)", m0)
	}
}

// TestOwnDataBad: bad data is one line naming the file (and line and column), a usage
// error (exit 2), before any work: no model file and no checkpoint.
func TestOwnDataBad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	wide := strings.TrimSuffix(strings.Repeat("1,", 1025), ",") + "\n"
	for _, c := range []struct{ file, want string }{
		{write("cell.csv", "x,y\n1,2\n3,abc\n"), `cell.csv:3: column 2: "abc" is not a number`},
		{write("ragged.csv", "1,2\n3,4\n5\n"), "ragged.csv:3: 1 column, but line 1 has 2"},
		{write("nan.csv", "1,2\nNaN,4\n"), "nan.csv:2: column 1: NaN: every coordinate must be finite"},
		{write("inf.csv", "1,2\n3,Inf\n"), "inf.csv:2: column 2: Inf: every coordinate must be finite"},
		{write("empty.csv", ""), "empty.csv holds no points"},
		{write("wide.csv", wide), "wide.csv:1: 1025 columns, more than the 1024 a point may have"},
		{write("bad.npy", "\x93NUMPY\x01\x00\x10\x00{'descr': '<i4'}"), "bad.npy: .npy header"},
		{filepath.Join(dir, "missing.csv"), "missing.csv: no such file"},
		{dir + "/", "is a folder"},
	} {
		out := filepath.Join(dir, "m.safetensors")
		var stdout, stderr bytes.Buffer
		env := cli.Env{Args: []string{"-data", c.file, "-steps", "10", "-device", "cpu", "-o", out}, Stdout: &stdout, Stderr: &stderr}
		err := runCommand(env)
		var ue *cli.UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("-data %s: error %v, want a one-line usage error containing %q", filepath.Base(c.file), err, c.want)
		}
		for _, p := range []string{out, out + ".ckpt"} {
			if _, err := os.Stat(p); err == nil {
				t.Errorf("-data %s: %s written", filepath.Base(c.file), filepath.Base(p))
			}
		}
	}
	// Run, as a library call, reads the file too, with the same errors.
	cfg := small(t, 10)
	cfg.Data = write("lib.csv", "1,2\n3,x\n")
	if _, err := Run(context.Background(), cfg, Options{}); err == nil || !strings.Contains(err.Error(), `lib.csv:2: column 2: "x" is not a number`) {
		t.Errorf("Run: %v", err)
	}
	if _, err := os.Stat(cfg.Out); err == nil {
		t.Error("Run wrote a model of bad data")
	}
}

func TestIsDataFile(t *testing.T) {
	for name, want := range map[string]bool{"moons": false, "moons.csv": true, "x.NPY": true, "dir/points": true,
		`C:\data\p`: true, "spirals3": false, "": false, "data.txt": false} {
		if IsDataFile(name) != want {
			t.Errorf("IsDataFile(%q) = %v, want %v", name, !want, want)
		}
	}
}

// TestOwnDataResumeOtherFile: a checkpoint of a run on a file is not resumed on another
// file of the same name: the run's key holds the file's SHA-256, and the refusal says so.
func TestOwnDataResumeOtherFile(t *testing.T) {
	dir := t.TempDir()
	data, _ := ownCSV(t, dir, "pts.csv", 300)
	out := filepath.Join(dir, "m.safetensors")
	args := []string{"-data", data, "-steps", "60", "-hidden", "16", "-layers", "2", "-batch", "64", "-warmup", "5",
		"-device", "cpu", "-ckpt-every", "20", "-keep-ckpt", "-o", out}
	var stderr bytes.Buffer
	if err := runCommand(cli.Env{Args: args, Stdout: &bytes.Buffer{}, Stderr: &stderr}); err != nil {
		t.Fatalf("train: %v\n%s", err, stderr.String())
	}
	ownCSV(t, dir, "pts.csv", 301) // same name, other rows
	args = append(args, "-resume", "-steps", "80")
	stderr.Reset()
	err := runCommand(cli.Env{Args: args, Stdout: &bytes.Buffer{}, Stderr: &stderr})
	var ue *cli.UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "a data file of SHA-256") {
		t.Fatalf("resume on another file: %v (want a usage error naming the data file's SHA-256)", err)
	}
}
