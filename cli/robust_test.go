package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRobustUsageErrors runs every pure-Go subcommand through Main with inputs a user
// gets wrong, and holds each to the promise of the package documentation: exit 2, one
// line on stderr that names what was wrong, nothing on stdout, never a panic.
func TestRobustUsageErrors(t *testing.T) {
	dir := t.TempDir()
	model := testModel(t, dir)
	good, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	corrupt := write("corrupt.safetensors", good[:len(good)/2])
	garbage := write("garbage.safetensors", []byte("\xff\xff\xff\xff\xff\xff\xff\xffnot a model"))
	empty := write("empty.safetensors", nil)
	folder := filepath.Join(dir, "folder")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.safetensors")
	www := site(t)

	for _, c := range []struct {
		args []string
		want string // in the one line on stderr
	}{
		// No such command, or not in this build.
		{[]string{"nope"}, `unknown command "nope"`},
		{[]string{"train", "-steps", "1"}, "make build"},
		{[]string{"help", "nope"}, `unknown command "nope"`},

		{[]string{"sample", "-bogus"}, "-bogus"},
		{[]string{"sample", "-model", model, "-n", "ten"}, `invalid value "ten" for flag -n`},
		{[]string{"sample", "-model", model, "-n", "0"}, "-n must be at least 1"},
		{[]string{"sample", "-model", model, "-solver", "leapfrog"}, `unknown -solver "leapfrog"`},
		{[]string{"sample", "-model", model, "-nfe", "3"}, "-nfe 3 is not a whole number of midpoint steps"},
		{[]string{"sample", "-model", model, "-seed", "-1"}, "-seed"},
		{[]string{"sample"}, "-model is required"},
		{[]string{"sample", "-model", missing}, missing},
		{[]string{"sample", "-model", corrupt}, "truncated"},
		{[]string{"sample", "-model", garbage}, "header length"},
		{[]string{"sample", "-model", empty}, empty},
		{[]string{"sample", "-model", folder}, folder + " is a folder"},
		{[]string{"sample", "extra", "-model", model}, `unexpected argument "extra"`},
		{[]string{"sample", "-model", model, "extra", "-n", "3"}, `unexpected argument "extra"`},
		{[]string{"sample", "-model", model, "-o", folder}, "-o: " + folder + " is a folder"},
		{[]string{"sample", "-model", missing, "-o", folder}, "-o: " + folder + " is a folder"},
		{[]string{"sample", "-model", model, "-o", filepath.Join(missing, "x.csv")}, "-o: cannot write"},
		{[]string{"sample", "-model", model, "-o", ""}, "-o is empty"},

		{[]string{"eval", "-bogus"}, "-bogus"},
		{[]string{"eval", "-model", model, "-n", "1"}, "-n must be at least 2"},
		{[]string{"eval", "-model", model, "-reps", "x"}, `invalid value "x" for flag -reps`},
		{[]string{"eval", "-model", model, "-solver", "dopri5", "-nfe", "6"}, "dopri5 is adaptive"},
		{[]string{"eval"}, "-model is required"},
		{[]string{"eval", "-model", missing}, missing},
		{[]string{"eval", "-model", corrupt}, "truncated"},
		{[]string{"eval", "-model", empty}, empty},
		{[]string{"eval", "-model", folder}, folder},
		{[]string{"eval", "-model", model, "extra"}, `unexpected argument "extra"`},
		{[]string{"eval", "extra", "-model", model, "-json"}, `unexpected argument "extra"`},

		{[]string{"inspect", "-bogus", model}, "-bogus"},
		{[]string{"inspect", model, "-bogus"}, "-bogus"},
		{[]string{"inspect", "-json=maybe", model}, "invalid boolean value"},
		{[]string{"inspect"}, "want one model file, got 0"},
		{[]string{"inspect", model, "-json", model}, "want one model file, got 2"},
		{[]string{"inspect", missing}, missing},
		{[]string{"inspect", corrupt}, "truncated"},
		{[]string{"inspect", garbage, "-json"}, "header length"},
		{[]string{"inspect", empty}, empty},
		{[]string{"inspect", folder}, folder + " is a folder"},

		{[]string{"serve", "-bogus"}, "-bogus"},
		{[]string{"serve", "-dir", missing}, missing + " is not a folder"},
		{[]string{"serve", "-dir", empty}, empty + " is not a folder"},
		{[]string{"serve", "-dir", folder}, "has no index.html"},
		{[]string{"serve", "-dir", www, "-addr", "256.0.0.1:99999"}, "cannot listen on 256.0.0.1:99999"},
		{[]string{"serve", "extra", "-dir", www}, `takes no arguments (got "extra")`},

		{[]string{"report", "-bogus"}, "-bogus"},
		{[]string{"report", "-sweep-n", "5"}, "-sweep-n must be at least 10"},
		{[]string{"report", "-seed", "x"}, `invalid value "x" for flag -seed`},
		{[]string{"report", "-models", missing}, missing + " is not a folder"},
		{[]string{"report", "-models", empty}, empty + " is not a folder"},
		{[]string{"report", "extra", "-models", folder}, `unexpected argument "extra"`},

		{[]string{"version", "-bogus"}, "-bogus"},
		{[]string{"version", "extra"}, `takes no arguments (got "extra")`},
	} {
		code, stdout, stderr := fmRun(c.args...)
		if strings.Contains(stdout+stderr, "panic") || strings.Contains(stdout+stderr, "goroutine ") {
			t.Errorf("flowmatch %q panicked: %s", c.args, stderr)
			continue
		}
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("flowmatch %q: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
		if !strings.HasPrefix(stderr, "flowmatch") || !strings.HasSuffix(stderr, "\n") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("flowmatch %q: stderr is not one line: %q", c.args, stderr)
		}
		if stdout != "" {
			t.Errorf("flowmatch %q: stdout %q, want nothing", c.args, stdout)
		}
	}
	// Nothing was written next to the inputs, and the folders stayed empty.
	for _, d := range []string{dir, folder} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if strings.Contains(e.Name(), ".tmp") || strings.HasSuffix(e.Name(), ".csv") {
				t.Errorf("%s left in %s", e.Name(), d)
			}
		}
	}
	if entries, _ := os.ReadDir(folder); len(entries) != 0 {
		t.Errorf("folder holds %v", entries)
	}
}
