package cli

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// fmRun runs flowmatch in-process with args and returns the exit code and streams.
func fmRun(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(Env{Args: args, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}, Commands())
	return code, out.String(), errb.String()
}

// writeModel writes a small random-weight model to dir and returns its path.
func writeModel(t *testing.T, dir, name string, meta weights.Meta, dtype weights.DType) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(42, uint64(len(name))))
	var ws, bs [][]float32
	for _, sh := range meta.Model.LayerShapes() {
		w := make([]float32, sh[0]*sh[1])
		for i := range w {
			w[i] = float32(rng.NormFloat64() / float64(sh[1]))
		}
		ws, bs = append(ws, w), append(bs, make([]float32, sh[0]))
	}
	f, err := weights.NewFile(meta, ws, bs)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := weights.WriteFile(path, f, dtype); err != nil {
		t.Fatal(err)
	}
	return path
}

func testModel(t *testing.T, dir string) string {
	return writeModel(t, dir, "m.safetensors", weights.Meta{
		Model: sampler.MLPSpec{Dim: 2, Hidden: []int{16, 16}},
		Path:  weights.PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}},
		Data: weights.DataInfo{Name: "moons",
			Normalization: &weights.Normalization{Mean: []float64{0.5, 0.25}, Std: []float64{2, 0.5}}},
		Provenance: weights.Provenance{Command: "flowmatch train -data moons", Steps: 100, Seed: 7, LibTorch: "1.13.1"},
		Extra:      map[string]string{"license": "MIT"},
	}, weights.F32)
}

// parseCSV checks the header and shape of sample output and returns the values.
func parseCSV(t *testing.T, s string, n, d int) [][]float64 {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v", err)
	}
	if len(recs) != n+1 {
		t.Fatalf("%d CSV records, want header + %d", len(recs), n)
	}
	for j, h := range recs[0] {
		if h != "x"+strconv.Itoa(j) || len(recs[0]) != d {
			t.Fatalf("header %v, want x0..x%d", recs[0], d-1)
		}
	}
	var rows [][]float64
	for _, r := range recs[1:] {
		if len(r) != d {
			t.Fatalf("row %v has %d fields, want %d", r, len(r), d)
		}
		var row []float64
		for _, s := range r {
			v, err := strconv.ParseFloat(s, 32)
			if err != nil {
				t.Fatalf("value %q: %v", s, err)
			}
			row = append(row, v)
		}
		rows = append(rows, row)
	}
	return rows
}

func TestSampleOutput(t *testing.T) {
	dir := t.TempDir()
	model := testModel(t, dir)
	out := filepath.Join(dir, "out.csv")
	code, stdout, stderr := fmRun("sample", "-model", model, "-n", "50", "-solver", "heun", "-nfe", "8", "-seed", "3", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout %q, want nothing with -o FILE", stdout)
	}
	if !strings.Contains(stderr, "NFE 8") || !strings.Contains(stderr, "heun, 4 steps") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr %q does not report the NFE in one line", stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rows := parseCSV(t, string(b), 50, 2)
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("directory holds %d entries, want the model and the output (temporary files left?)", len(entries))
	}

	// The same seed to stdout gives the same bytes; it is what weights.File.Sample gives
	// with the command's random source, normalization included.
	code, stdout, _ = fmRun("sample", "-model", model, "-n", "50", "-solver", "heun", "-nfe", "8", "-seed", "3", "-o", "-")
	if code != 0 || stdout != string(b) {
		t.Errorf("stdout run differs from the file run (exit %d)", code)
	}
	f, _ := weights.ReadFile(model)
	x, _, err := f.Sample(50, sampleRNG(3), sampler.Options{Method: sampler.Heun, Steps: 4})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		for j, v := range r {
			if float32(v) != x[2*i+j] {
				t.Fatalf("row %d col %d = %v, weights.File.Sample gives %v", i, j, v, x[2*i+j])
			}
		}
	}
	// Another seed, other samples.
	_, other, _ := fmRun("sample", "-model", model, "-n", "50", "-solver", "heun", "-nfe", "8", "-seed", "4")
	if other == stdout {
		t.Error("seeds 3 and 4 gave the same samples")
	}
}

func TestSampleSolvers(t *testing.T) {
	dir := t.TempDir()
	model := testModel(t, dir)
	for _, c := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"-solver", "euler", "-nfe", "5"}, "euler, 5 steps, NFE 5"},
		{[]string{"-solver", "midpoint"}, "midpoint, 10 steps, NFE 20"}, // the defaults
		{[]string{"-solver", "rk4", "-nfe", "12"}, "rk4, 3 steps, NFE 12"},
		{[]string{"-solver", "dopri5", "-rtol", "1e-4", "-atol", "1e-4"}, "dopri5 (rtol 0.0001, atol 0.0001)"},
	} {
		args := append([]string{"sample", "-model", model, "-n", "20"}, c.args...)
		code, stdout, stderr := fmRun(args...)
		if code != 0 || !strings.Contains(stderr, c.stderr) {
			t.Errorf("%v: exit %d, stderr %q; want 0 and %q", c.args, code, stderr, c.stderr)
			continue
		}
		parseCSV(t, stdout, 20, 2)
	}
}

func TestSampleErrors(t *testing.T) {
	dir := t.TempDir()
	model := testModel(t, dir)
	corrupt := filepath.Join(dir, "corrupt.safetensors")
	good, _ := os.ReadFile(model)
	os.WriteFile(corrupt, good[:len(good)-10], 0o644)
	notModel := filepath.Join(dir, "text.safetensors")
	os.WriteFile(notModel, []byte("hello, world\n"), 0o644)
	existing := filepath.Join(dir, "existing.csv")
	os.WriteFile(existing, []byte("keep me\n"), 0o644)
	for _, c := range []struct {
		args   []string
		stderr string
	}{
		{[]string{}, "-model is required"},
		{[]string{"-model", filepath.Join(dir, "missing.safetensors")}, "o such file or directory"}, // "No such" under js/wasm
		{[]string{"-model", corrupt}, "truncated: the tensor data needs"},
		{[]string{"-model", notModel}, "header length"},
		{[]string{"-model", corrupt, "-o", existing}, "truncated"},
		{[]string{"-model", model, "-solver", "leapfrog"}, `unknown -solver "leapfrog" (want one of euler, midpoint, heun, rk4, dopri5)`},
		{[]string{"-model", model, "-n", "0"}, "-n must be at least 1 (got 0)"},
		{[]string{"-model", model, "-n", "-5"}, "-n must be at least 1 (got -5)"},
		{[]string{"-model", model, "-n", "1000000000"}, "-n 1000000000 is too many"},
		{[]string{"-model", model, "-nfe", "0"}, "-nfe must be positive (got 0)"},
		{[]string{"-model", model, "-solver", "rk4", "-nfe", "2"}, "-nfe 2 is less than one rk4 step, which takes 4 evaluations"},
		{[]string{"-model", model, "-solver", "rk4", "-nfe", "10"}, "-nfe 10 is not a whole number of rk4 steps of 4 evaluations each: use 8 or 12"},
		{[]string{"-model", model, "-solver", "midpoint", "-nfe", "7"}, "use 6 or 8"},
		{[]string{"-model", model, "-solver", "dopri5", "-nfe", "12"}, "dopri5 is adaptive: it takes -rtol and -atol, not -nfe"},
		{[]string{"-model", model, "-solver", "dopri5", "-rtol", "0"}, "-rtol and -atol must be positive"},
		{[]string{"-model", model, "-solver", "euler", "-atol", "1e-3"}, "-rtol and -atol apply to dopri5 only"},
		{[]string{"-model", model, "-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"-model", model, "-n", "ten"}, `invalid value "ten" for flag -n`},
		{[]string{"-model", model, "extra"}, `unexpected argument "extra"`},
		{[]string{"-model", model, "-o", filepath.Join(dir, "no", "such", "out.csv")}, "-o: cannot write"},
		{[]string{"-model", model, "-o", dir}, "-o: " + dir + " is a folder, not a file"},
		{[]string{"-model", model, "extra", "-n", "5"}, `unexpected argument "extra" (sample takes flags only)`},
		{[]string{"-model", model, "-o", ""}, "-o is empty"},
	} {
		code, stdout, stderr := fmRun(append([]string{"sample"}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.stderr) {
			t.Errorf("sample %v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.stderr)
		}
		if !strings.HasPrefix(stderr, "flowmatch sample: ") || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "goroutine") {
			t.Errorf("sample %v: stderr is not one line: %q", c.args, stderr)
		}
		if stdout != "" {
			t.Errorf("sample %v: wrote %d bytes to stdout", c.args, len(stdout))
		}
	}
	// The failed run with -o left the existing file alone and no temporary behind.
	if b, _ := os.ReadFile(existing); string(b) != "keep me\n" {
		t.Errorf("existing output overwritten: %q", b)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	// -h prints the flags on stdout and exits 0.
	if code, stdout, stderr := fmRun("sample", "-h"); code != 0 || !strings.Contains(stdout, "-solver") || stderr != "" {
		t.Errorf("sample -h: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestSampleProgress checks that the progress bar (forced on, as on a terminal) leaves
// the samples exactly what weights.File.Sample gives without it, for every solver, and
// that what feeds it counts from 0 up to -n.
func TestSampleProgress(t *testing.T) {
	forceProgress = true
	defer func() { forceProgress = false }()
	dir := t.TempDir()
	model := testModel(t, dir)
	f, err := weights.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	for _, c := range []struct {
		args []string
		opt  sampler.Options
	}{
		{[]string{"-solver", "euler", "-nfe", "5"}, sampler.Options{Method: sampler.Euler, Steps: 5}},
		{[]string{"-solver", "midpoint", "-nfe", "8"}, sampler.Options{Method: sampler.Midpoint, Steps: 4}},
		{[]string{"-solver", "rk4", "-nfe", "12"}, sampler.Options{Method: sampler.RK4, Steps: 3}},
		{[]string{"-solver", "dopri5", "-rtol", "1e-4", "-atol", "1e-4"}, sampler.Options{Method: sampler.Dopri5, RTol: 1e-4, ATol: 1e-4}},
	} {
		args := append([]string{"sample", "-model", model, "-n", strconv.Itoa(n), "-seed", "11"}, c.args...)
		code, stdout, stderr := fmRun(args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, stderr)
		}
		if !strings.Contains(stderr, "sampling") || !strings.Contains(stderr, fmt.Sprintf("/%d, ", n)) || !strings.Contains(stderr, "samples/") {
			t.Errorf("%v: no bar on stderr: %q", c.args, stderr)
		}
		x, _, err := f.Sample(n, sampleRNG(11), c.opt)
		if err != nil {
			t.Fatal(err)
		}
		var seen []int64
		c.opt.OnStep = sampleProgress(func(k int64) { seen = append(seen, k) }, n, f.Meta.Path.TMin, f.Meta.Path.TMax)
		if _, _, err := f.Sample(n, sampleRNG(11), c.opt); err != nil {
			t.Fatal(err)
		}
		if len(seen) < 2 || seen[0] != 0 || seen[len(seen)-1] != n || !slices.IsSorted(seen) {
			t.Errorf("%v: progress went %v, want 0 up to %d", c.args, seen, n)
		}
		var want bytes.Buffer
		writeCSV(&want, x, 2)
		if stdout != want.String() {
			t.Errorf("%v: samples with the bar differ from weights.File.Sample's", c.args)
		}
	}
}

// sampleStates is what sample -trajectories records for one run: the number of states
// and, per state, the first k samples.
func readTrajectories(t *testing.T, s string, k, d int) (ts []float64, states [][]float32) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatalf("trajectories are not CSV: %v", err)
	}
	want := []string{"t", "id"}
	for j := 0; j < d; j++ {
		want = append(want, "x"+strconv.Itoa(j))
	}
	if !slices.Equal(recs[0], want) {
		t.Fatalf("header %v, want %v", recs[0], want)
	}
	if (len(recs)-1)%k != 0 {
		t.Fatalf("%d rows for %d paths", len(recs)-1, k)
	}
	for r, rec := range recs[1:] {
		s, i := r/k, r%k
		if rec[1] != strconv.Itoa(i) {
			t.Fatalf("row %d: id %s, want %d", r+2, rec[1], i)
		}
		tv, err := strconv.ParseFloat(rec[0], 64)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			ts = append(ts, tv)
			states = append(states, nil)
		} else if tv != ts[s] {
			t.Fatalf("row %d: t %v within state at t %v", r+2, tv, ts[s])
		}
		for _, c := range rec[2:] {
			v, err := strconv.ParseFloat(c, 32)
			if err != nil {
				t.Fatal(err)
			}
			states[s] = append(states[s], float32(v))
		}
	}
	return ts, states
}

// TestSampleTrajectories: -trajectories records every solver step of the first -paths
// samples, from the noise (in the data's units) to the samples themselves, and leaves the
// samples bit for bit what they are without it, with the progress bar on or off.
func TestSampleTrajectories(t *testing.T) {
	dir := t.TempDir()
	model := testModel(t, dir)
	f, err := weights.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	const n, k = 40, 7
	for _, c := range []struct {
		args   []string
		states int // 0: adaptive
	}{
		{[]string{"-solver", "euler", "-nfe", "5"}, 6},
		{[]string{"-solver", "midpoint", "-nfe", "8"}, 5},
		{[]string{"-solver", "heun", "-nfe", "8"}, 5},
		{[]string{"-solver", "rk4", "-nfe", "12"}, 4},
		{[]string{"-solver", "dopri5", "-rtol", "1e-6", "-atol", "1e-6"}, 0},
	} {
		for _, bar := range []bool{false, true} {
			forceProgress = bar
			plain := filepath.Join(dir, "plain.csv")
			base := append([]string{"sample", "-model", model, "-n", strconv.Itoa(n), "-seed", "9"}, c.args...)
			if code, _, stderr := fmRun(append(base, "-o", plain)...); code != 0 {
				t.Fatalf("%v: exit %d: %s", c.args, code, stderr)
			}
			out, traj := filepath.Join(dir, "out.csv"), filepath.Join(dir, "traj.csv")
			code, stdout, stderr := fmRun(append(base, "-o", out, "-trajectories", traj, "-paths", strconv.Itoa(k))...)
			forceProgress = false
			if code != 0 || stdout != "" {
				t.Fatalf("%v: exit %d, stdout %q: %s", c.args, code, stdout, stderr)
			}
			want, _ := os.ReadFile(plain)
			got, _ := os.ReadFile(out)
			if string(got) != string(want) {
				t.Fatalf("%v (bar %v): the samples with -trajectories differ from those without", c.args, bar)
			}
			b, _ := os.ReadFile(traj)
			ts, states := readTrajectories(t, string(b), k, 2)
			if c.states > 0 && len(states) != c.states {
				t.Errorf("%v: %d states, want %d (every step and the start)", c.args, len(states), c.states)
			}
			if len(states) < 2 || ts[0] != f.Meta.Path.TMin || ts[len(ts)-1] != f.Meta.Path.TMax || !slices.IsSorted(ts) {
				t.Errorf("%v: times %v, want %g up to %g", c.args, ts, f.Meta.Path.TMin, f.Meta.Path.TMax)
			}
			// The first state is the noise in the data's units, the last the samples.
			z := sampleNoise(t, f, n, 9)[:k*2]
			f.Meta.Data.ToData(z)
			samples := readFloats(t, string(want), n, 2)[:k*2]
			if !slices.Equal(states[0], z) {
				t.Errorf("%v: the first state %v is not the noise %v", c.args, states[0], z)
			}
			if !slices.Equal(states[len(states)-1], samples) {
				t.Errorf("%v: the last state %v is not the samples %v", c.args, states[len(states)-1], samples)
			}
		}
	}

	// -paths above -n records every sample; the trajectories may go to stdout.
	code, stdout, stderr := fmRun("sample", "-model", model, "-n", "3", "-nfe", "4", "-o", filepath.Join(dir, "s.csv"), "-trajectories", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, states := readTrajectories(t, stdout, 3, 2); len(states) != 3 || len(states[0]) != 6 {
		t.Errorf("-paths 50 -n 3: %d states of %d values, want 3 of 6", len(states), len(states[0]))
	}
}
