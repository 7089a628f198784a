package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// TestRobustPointsCommands holds encode, loglik and sample's picture and trajectory
// flags to the promise of the package documentation, as TestRobustUsageErrors does for
// the rest: bad input exits 2 with one line on stderr naming what was wrong (a bad CSV
// cell by file, line and column), nothing on stdout, never a panic, and a bad output
// path refused before any work.
func TestRobustPointsCommands(t *testing.T) {
	dir := t.TempDir()
	model := testModel(t, dir)
	good, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	corrupt := write("corrupt.safetensors", string(good[:len(good)/2]))
	garbage := write("garbage.safetensors", "\xff\xff\xff\xff\xff\xff\xff\xffnot a model")
	unnamed := writeModel(t, dir, "unnamed.safetensors", weights.Meta{
		Model: sampler.MLPSpec{Dim: 2, Hidden: []int{4}},
		Path:  weights.PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}},
	}, weights.F32)
	cubes := writeModel(t, dir, "cubes.safetensors", weights.Meta{
		Model: sampler.MLPSpec{Dim: 3, Hidden: []int{4}},
		Path:  weights.PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}},
		Data:  weights.DataInfo{Name: "cubes"},
	}, weights.F32)
	folder := filepath.Join(dir, "folder")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.csv")
	pts := write("pts.csv", "x0,x1\n1,2\n3,4\n")
	badCell := write("badcell.csv", "x0,x1\n1,2\n3,abc\n")
	emptyCell := write("emptycell.csv", "1,2\n,4\n")
	cols := write("cols.csv", "1,2\n3,4,5\n")
	oneCol := write("onecol.csv", "1,2\n3\n")
	nan := write("nan.csv", "1,2\nNaN,4\n")
	inf := write("inf.csv", "1,2\n3,-Inf\n")
	huge := write("huge.csv", "1,2\n3,1e39\n")
	empty := write("empty.csv", "")
	blank := write("blank.csv", "\n\n\n")
	headerOnly := write("header.csv", "x0,x1\n")
	badHeader := write("badheader.csv", "a,b,c\n1,2\n")
	quote := write("quote.csv", "1,2\n3,4\"5\n")
	mixed := write("mixed.csv", "x0,1\n")
	longCell := write("long.csv", "1,"+strings.Repeat("z", 500)+"\n")

	var cases []struct {
		args []string
		want string
	}
	add := func(want string, args ...string) {
		cases = append(cases, struct {
			args []string
			want string
		}{args, want})
	}
	for _, cmd := range []string{"encode", "loglik"} {
		add("-model is required", cmd)
		add("-model is required", cmd, "-in", pts)
		add("-in is required", cmd, "-model", model)
		add("-bogus", cmd, "-bogus")
		add(`unexpected argument "extra"`, cmd, "-model", model, "-in", pts, "extra")
		add(`unexpected argument "extra"`, cmd, "extra", "-model", model, "-in", pts)
		add(`unknown -solver "leapfrog"`, cmd, "-model", model, "-in", pts, "-solver", "leapfrog")
		add("-nfe 3 is not a whole number", cmd, "-model", model, "-in", pts, "-solver", "midpoint", "-nfe", "3")
		add("dopri5 is adaptive", cmd, "-model", model, "-in", pts, "-solver", "dopri5", "-nfe", "6")
		add("-rtol and -atol apply to dopri5 only", cmd, "-model", model, "-in", pts, "-solver", "euler", "-rtol", "1e-3")
		add("-rtol and -atol must be positive", cmd, "-model", model, "-in", pts, "-solver", "dopri5", "-atol", "-1")
		add(`invalid value "x" for flag -nfe`, cmd, "-model", model, "-in", pts, "-nfe", "x")
		add(filepath.Join(dir, "nope.safetensors"), cmd, "-model", filepath.Join(dir, "nope.safetensors"), "-in", pts)
		add("truncated", cmd, "-model", corrupt, "-in", pts)
		add("header length", cmd, "-model", garbage, "-in", pts)
		add(folder+" is a folder", cmd, "-model", folder, "-in", pts)
		add("-in: open "+missing, cmd, "-model", model, "-in", missing)
		add("-in: "+folder+" is a folder, not a CSV file", cmd, "-model", model, "-in", folder)
		add(badCell+`:3: column 2: "abc" is not a number`, cmd, "-model", model, "-in", badCell)
		add(emptyCell+":2: column 1: empty cell", cmd, "-model", model, "-in", emptyCell)
		add(cols+":2: 3 columns, want 2 (the model's dimension)", cmd, "-model", model, "-in", cols)
		add(oneCol+":2: 1 column, want 2", cmd, "-model", model, "-in", oneCol)
		add(nan+":2: column 1: NaN: every coordinate must be finite", cmd, "-model", model, "-in", nan)
		add(inf+":2: column 2: -Inf: every coordinate must be finite", cmd, "-model", model, "-in", inf)
		add(huge+":2: column 2: 1e39 is beyond float32's range", cmd, "-model", model, "-in", huge)
		add(empty+" holds no points", cmd, "-model", model, "-in", empty)
		add(blank+" holds no points", cmd, "-model", model, "-in", blank)
		add(headerOnly+" holds no points", cmd, "-model", model, "-in", headerOnly)
		add(badHeader+":1: the header has 3 columns, want 2", cmd, "-model", model, "-in", badHeader)
		add(quote+`:2, byte 4: bare " in non-quoted-field`, cmd, "-model", model, "-in", quote)
		add(mixed+`:1: column 1: "x0" is not a number`, cmd, "-model", model, "-in", mixed)
		add(`"`+strings.Repeat("z", 40)+`…" is not a number`, cmd, "-model", model, "-in", longCell)
		add(pts+":1: the header has 2 columns, want 3 (the model's dimension)", cmd, "-model", cubes, "-in", pts)
		add(cols+":1: 2 columns, want 3 (the model's dimension)", cmd, "-model", cubes, "-in", cols)
		add("stdin holds no points", cmd, "-model", model, "-in", "-")
		add("-o: "+folder+" is a folder", cmd, "-model", model, "-in", pts, "-o", folder)
		// Refused before any work: before the model and the points are read.
		add("-o: "+folder+" is a folder", cmd, "-model", filepath.Join(dir, "nope.safetensors"), "-in", missing, "-o", folder)
		add("-o: cannot write", cmd, "-model", model, "-in", pts, "-o", filepath.Join(missing, "out.csv"))
		add("-o is empty", cmd, "-model", model, "-in", pts, "-o", "")
	}
	add(`unknown -div "trace"`, "loglik", "-model", model, "-in", pts, "-div", "trace")
	add(`invalid value "x" for flag -seed`, "loglik", "-model", model, "-in", pts, "-seed", "x")

	s := func(args ...string) []string { return append([]string{"sample", "-model", model, "-n", "5"}, args...) }
	sampleCases := []struct {
		args []string
		want string
	}{
		{s("-paths", "0", "-trajectories", filepath.Join(dir, "t.csv")), "-paths must be at least 1 (got 0)"},
		{s("-paths", "5"), "-paths applies to -trajectories only"},
		{s("-size", "300"), "-size applies to pictures only"},
		{s("-density"), "-density applies to pictures only"},
		{s("-density", "-o", filepath.Join(dir, "s.csv")), "-density applies to pictures only"},
		{s("-o", filepath.Join(dir, "s.png"), "-size", "50"), "-size must be 100 to 4096 pixels (got 50)"},
		{s("-o", filepath.Join(dir, "s.png"), "-size", "100000"), "-size must be 100 to 4096 pixels"},
		{s("-o", filepath.Join(dir, "s.png"), "-size", "big"), `invalid value "big" for flag -size`},
		{s("-o", filepath.Join(dir, "s.png"), "-density=maybe"), "invalid boolean value"},
		{[]string{"sample", "-model", unnamed, "-o", filepath.Join(dir, "s.png"), "-density"}, "-density: the model's data is unnamed, not one of the toy datasets"},
		{[]string{"sample", "-model", cubes, "-o", filepath.Join(dir, "s.png"), "-density"}, `-density: the model's data is "cubes", not one of the toy datasets (2spirals, 8gaussians`},
		{s("-trajectories", ""), "-trajectories is empty"},
		{s("-trajectories", "-"), "would both write to stdout"},
		{s("-o", filepath.Join(dir, "same.csv"), "-trajectories", filepath.Join(dir, "same.csv")), "-o and -trajectories are the same file"},
		{s("-trajectories", folder), "-trajectories: " + folder + " is a folder"},
		{[]string{"sample", "-model", filepath.Join(dir, "nope.safetensors"), "-trajectories", folder}, "-trajectories: " + folder + " is a folder"},
		{s("-trajectories", filepath.Join(missing, "t.png")), "-trajectories: cannot write"},
		{s("-o", folder+"/"), "-o: " + folder + "/ is a folder"},
		{s("-solver", "euler", "-nfe", "9223372036854775807", "-trajectories", filepath.Join(dir, "t.csv")), "-trajectories cannot record 9223372036854775808 states of dimension 2"},
		{[]string{"sample", "-model", model, "-n", "5000", "-solver", "dopri5", "-trajectories", filepath.Join(dir, "t.csv"), "-paths", "5000"}, "-paths 5000 is too many to record"},
		{[]string{"sample", "-model", model, "-n", "100000", "-solver", "euler", "-nfe", "1000", "-trajectories", filepath.Join(dir, "t.csv"), "-paths", "100000"}, "at most 16760 paths here"},
	}
	for _, c := range sampleCases {
		add(c.want, c.args...)
	}

	for _, c := range cases {
		code, stdout, stderr := fmRun(c.args...)
		if strings.Contains(stdout+stderr, "panic") || strings.Contains(stdout+stderr, "goroutine ") {
			t.Errorf("flowmatch %q panicked: %s", c.args, stderr)
			continue
		}
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("flowmatch %q: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
		if !strings.HasPrefix(stderr, "flowmatch "+c.args[0]+": ") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("flowmatch %q: stderr is not one line: %q", c.args, stderr)
		}
		if stdout != "" {
			t.Errorf("flowmatch %q: stdout %q, want nothing", c.args, stdout)
		}
	}
	// Nothing was written: no outputs, no temporary files, the folder empty.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if n := e.Name(); strings.Contains(n, ".tmp") || n == "t.csv" || n == "s.png" || n == "s.csv" || n == "same.csv" {
			t.Errorf("%s left in %s", n, dir)
		}
	}
	if entries, _ := os.ReadDir(folder); len(entries) != 0 {
		t.Errorf("folder holds %v", entries)
	}
}

// TestPointsFailures: what goes wrong in the work itself exits 1 with one line, and
// leaves an existing output as it was.
func TestPointsFailures(t *testing.T) {
	dir := t.TempDir()
	model := testModel(t, dir)
	far := filepath.Join(dir, "far.csv")
	os.WriteFile(far, []byte("3e38,-3e38\n"), 0o644)
	existing := filepath.Join(dir, "existing.csv")
	os.WriteFile(existing, []byte("keep me\n"), 0o644)
	for _, cmd := range []string{"encode", "loglik"} {
		code, stdout, stderr := fmRun(cmd, "-model", model, "-in", far, "-o", existing, "-solver", "dopri5")
		if code == 0 {
			// A far point may also come back finite; then the output is complete.
			continue
		}
		if code != 1 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "flowmatch "+cmd+": ") || strings.Contains(stderr, "panic") {
			t.Errorf("%s far point: exit %d, stdout %q, stderr %q; want 1 and one line", cmd, code, stdout, stderr)
		}
		if b, _ := os.ReadFile(existing); string(b) != "keep me\n" {
			t.Errorf("%s: the existing output was changed to %q", cmd, b)
		}
	}
}
