package smoke

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// scripts/setup-gotch.sh is idempotent: with the stamp matching, it does nothing but
// say so, quickly, and leaves third_party/gotch untouched. The module cache copy of
// gotch is never modified.
func TestSetupIdempotent(t *testing.T) {
	root, _ := filepath.Abs("../../..")
	script := filepath.Join(root, "scripts", "setup-gotch.sh")
	libgo := filepath.Join(root, "third_party", "gotch", "libtch", "lib.go")
	run := func() (string, time.Duration) {
		start := time.Now()
		out, err := exec.Command(script).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
		return string(out), time.Since(start)
	}
	out, _ := run()
	if !strings.Contains(out, "up to date") {
		t.Logf("first run did the work (stale stamp):\n%s", out)
	}
	before, err := os.Stat(libgo)
	if err != nil {
		t.Fatal(err)
	}
	stamp, _ := os.ReadFile(filepath.Join(root, "third_party", "gotch", ".flowmatch-stamp"))
	out, took := run()
	if !strings.Contains(out, "up to date") {
		t.Fatalf("second run was not a no-op:\n%s", out)
	}
	if took > 30*time.Second {
		t.Errorf("a no-op setup took %v", took)
	}
	after, _ := os.Stat(libgo)
	if !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("a no-op setup rewrote %s", libgo)
	}
	if stamp2, _ := os.ReadFile(filepath.Join(root, "third_party", "gotch", ".flowmatch-stamp")); string(stamp2) != string(stamp) {
		t.Errorf("stamp changed: %q → %q", stamp, stamp2)
	}
	for _, want := range []string{"gotch=v0.9.1", "libtorch=", "cuda="} {
		if !strings.Contains(string(stamp), want) {
			t.Errorf("stamp lacks %q:\n%s", want, stamp)
		}
	}

	// The module cache still holds gotch as released (its lib.go links CUDA).
	dir, err := exec.Command("go", "list", "-m", "-mod=mod", "-f", "{{.Dir}}", "github.com/sugarme/gotch@v0.9.1").Output()
	if err == nil {
		orig, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(dir)), "libtch", "lib.go"))
		if err == nil && !strings.Contains(string(orig), "-lcudart") {
			t.Errorf("the module cache's gotch libtch/lib.go was modified")
		}
	}
}

// lib.go links CUDA libraries only for a CUDA libtorch, and every patched wrapper
// throws an error naming its op.
func TestAdaptedCopy(t *testing.T) {
	root, _ := filepath.Abs("../../..")
	lib, err := os.ReadFile(filepath.Join(root, "third_party", "gotch", "libtch", "lib.go"))
	if err != nil {
		t.Fatal(err)
	}
	stamp, _ := os.ReadFile(filepath.Join(root, "third_party", "gotch", ".flowmatch-stamp"))
	cuda := strings.Contains(string(stamp), "cuda=1")
	if got := strings.Contains(string(lib), "-ltorch_cuda"); got != cuda {
		t.Errorf("lib.go links torch_cuda = %v, but the libtorch has CUDA = %v:\n%s", got, cuda, lib)
	}
	gen, err := os.ReadFile(filepath.Join(root, "third_party", "gotch", "libtch", "torch_api_generated.cpp.h"))
	if err != nil {
		t.Fatal(err)
	}
	n := strings.Count(string(gen), "patched by flowmatch")
	if n != strings.Count(string(gen), "is not available in libtorch") {
		t.Errorf("%d patched wrappers but a different number of error messages", n)
	}
	t.Logf("%d wrappers replaced by runtime errors", n)
}
