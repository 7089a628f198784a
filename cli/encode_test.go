package cli

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// fmRunIn runs flowmatch in-process with stdin and args.
func fmRunIn(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(Env{Args: args, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb}, Commands())
	return code, out.String(), errb.String()
}

// sampleNoise is the noise that sample -seed seed -n n starts from: n×d normals from
// sampleRNG(seed), row by row, scaled by the path's source std, as weights.File.Sample
// draws them.
func sampleNoise(t *testing.T, f *weights.File, n int, seed uint64) []float32 {
	t.Helper()
	_, path, err := f.Field()
	if err != nil {
		t.Fatal(err)
	}
	rng := sampleRNG(seed)
	z := make([]float32, n*f.Meta.Data.Dim)
	for i := range z {
		z[i] = float32(path.SourceStd() * rng.NormFloat64())
	}
	return z
}

func readFloats(t *testing.T, s string, n, d int) []float32 {
	t.Helper()
	var x []float32
	for _, r := range parseCSV(t, s, n, d) {
		for _, v := range r {
			x = append(x, float32(v))
		}
	}
	return x
}

// TestEncodeInvertsSample: encode(sample(z)) gives z back within the solver's tolerance,
// through the command line both ways, for a random network with a normalization and for
// the shipped models on each path.
func TestEncodeInvertsSample(t *testing.T) {
	dir := t.TempDir()
	models := []string{testModel(t, dir), "../weights/moons-ot.safetensors",
		"../weights/8gaussians-vp.safetensors", "../weights/8gaussians-ve.safetensors"}
	const n, seed = 300, 5
	tol := []string{"-solver", "dopri5", "-rtol", "1e-7", "-atol", "1e-7"}
	for _, model := range models {
		f, err := weights.ReadFile(model)
		if err != nil {
			t.Fatal(err)
		}
		samples := filepath.Join(dir, "samples.csv")
		noise := filepath.Join(dir, "noise.csv")
		args := append([]string{"sample", "-model", model, "-n", "300", "-seed", "5", "-o", samples}, tol...)
		if code, _, stderr := fmRun(args...); code != 0 {
			t.Fatalf("%s: sample: exit %d: %s", model, code, stderr)
		}
		args = append([]string{"encode", "-model", model, "-in", samples, "-o", noise}, tol...)
		code, stdout, stderr := fmRun(args...)
		if code != 0 || stdout != "" {
			t.Fatalf("%s: encode: exit %d, stdout %q: %s", model, code, stdout, stderr)
		}
		if !strings.HasPrefix(stderr, "flowmatch encode: 300 points of ") || !strings.Contains(stderr, "NFE ") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%s: stderr %q does not report the run in one line", model, stderr)
		}
		b, err := os.ReadFile(noise)
		if err != nil {
			t.Fatal(err)
		}
		got := readFloats(t, string(b), n, f.Meta.Data.Dim)
		z := sampleNoise(t, f, n, seed)
		_, path, _ := f.Field()
		s0 := path.SourceStd() // the noise's scale: 1 on OT and VP, sigma_max on VE
		worst := 0.0
		for i := range z {
			worst = math.Max(worst, math.Abs(float64(got[i]-z[i])))
		}
		t.Logf("%s: max |encode(sample(z)) − z| = %.3g (%.3g source stds) over %d points (%s)",
			filepath.Base(model), worst, worst/s0, n, strings.TrimSpace(stderr))
		if worst > 1e-4*s0 {
			t.Errorf("%s: encode(sample(z)) is %.3g from z, want within 1e-4 source stds (%g)", model, worst, 1e-4*s0)
		}
	}
}

// TestEncodeCore: the command is the model's normalization inverted, then the field
// integrated from TMax back to TMin; stdin works and a header is optional.
func TestEncodeCore(t *testing.T) {
	dir := t.TempDir()
	model := testModel(t, dir)
	f, err := weights.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	pts := []float32{0.5, 0.25, 1, -1, -2.5, 0.75}
	csvNoHeader := "0.5,0.25\n1, -1\n\n-2.5,0.75\n" // spaces and a blank line are fine
	code, stdout, stderr := fmRunIn(csvNoHeader, "encode", "-model", model, "-in", "-", "-solver", "rk4", "-nfe", "12")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := readFloats(t, stdout, 3, 2)

	field, _, err := f.Field()
	if err != nil {
		t.Fatal(err)
	}
	want := append([]float32(nil), pts...)
	f.Meta.Data.FromData(want)
	if _, err := encodeNoise(field, want, f.Meta.Path.TMin, f.Meta.Path.TMax, sampler.Options{Method: sampler.RK4, Steps: 3}); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("value %d: command %v, core %v", i, got[i], want[i])
		}
	}
	// With a header, from a file, the same.
	in := filepath.Join(dir, "pts.csv")
	os.WriteFile(in, []byte("x0,x1\n"+csvNoHeader), 0o644)
	if code, out, stderr := fmRun("encode", "-model", model, "-in", in, "-solver", "rk4", "-nfe", "12"); code != 0 || out != stdout {
		t.Errorf("with a header: exit %d, stdout %q, want %q (%s)", code, out, stdout, stderr)
	}

	// Backwards then forwards along the same field returns the points: a check that
	// encodeNoise runs from TMax to TMin.
	x := append([]float32(nil), want...)
	if _, err := sampler.Solve(field, x, sampler.Options{Method: sampler.Dopri5, RTol: 1e-7, ATol: 1e-7,
		T0: f.Meta.Path.TMin, T1: f.Meta.Path.TMax}); err != nil {
		t.Fatal(err)
	}
	f.Meta.Data.ToData(x)
	for i := range x {
		if math.Abs(float64(x[i]-pts[i])) > 1e-3 {
			t.Errorf("value %d: forwards from the noise %v, the point was %v", i, x[i], pts[i])
		}
	}
}

// TestPointsProgress: with the bar on (as on a terminal), encode and loglik draw it on
// stderr and give the same output as without it.
func TestPointsProgress(t *testing.T) {
	dir := t.TempDir()
	model := testModel(t, dir)
	in := filepath.Join(dir, "pts.csv")
	os.WriteFile(in, []byte("1,2\n-3,0.5\n0,0\n"), 0o644)
	for _, c := range []struct{ cmd, desc string }{{"encode", "encoding"}, {"loglik", "log-likelihood"}} {
		for _, solver := range [][]string{{"-solver", "rk4", "-nfe", "8"}, {"-solver", "dopri5"}} {
			args := append([]string{c.cmd, "-model", model, "-in", in}, solver...)
			code, want, stderr := fmRun(args...)
			if code != 0 || strings.Contains(stderr, "points/") {
				t.Fatalf("%s: exit %d, stderr %q (a bar off a terminal?)", c.cmd, code, stderr)
			}
			forceProgress = true
			code, got, stderr := fmRun(args...)
			forceProgress = false
			if code != 0 || got != want {
				t.Errorf("%s %v: exit %d; output with the bar differs", c.cmd, solver, code)
			}
			if !strings.Contains(stderr, c.desc) || !strings.Contains(stderr, "/3, ") || !strings.Contains(stderr, "points/") {
				t.Errorf("%s %v: no bar on stderr: %q", c.cmd, solver, stderr)
			}
		}
	}
}
