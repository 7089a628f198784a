package weights

import (
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"testing"
)

// TestGoldenPython opens the golden files (version 1 without and with "arch", version
// 2) and a float16 file with a larger model using Python tooling (safetensors if
// installed, else numpy alone), and checks it sees what the Go decoder sees: the same
// __metadata__ strings and tensors. Skipped where /usr/bin/python3 with numpy is not
// available.
func TestGoldenPython(t *testing.T) {
	if runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("no subprocesses under wasm")
	}
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		t.Skipf("%s with numpy not available: %v", py, err)
	}
	big := randomFile(t, 11, testMetas()[1])
	bigPath := t.TempDir() + "/big-f16.safetensors"
	if err := WriteFile(bigPath, big, F16); err != nil {
		t.Fatal(err)
	}
	files := []string{"testdata/golden-f32.safetensors", "testdata/golden-f16.safetensors",
		"testdata/golden-arch-f32.safetensors", "testdata/golden-arch-f16.safetensors", "testdata/golden-v2-f32.safetensors", bigPath}
	out, err := exec.Command(py, append([]string{"testdata/check_golden.py"}, files...)...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("check_golden.py: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var got map[string]struct {
		Reader   string
		Metadata map[string]string
		Tensors  map[string]struct {
			DType  string
			Shape  []int
			Values []float64
		}
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		f, err := ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		g, ok := got[name]
		if !ok {
			t.Fatalf("%s: no output from Python", name)
		}
		t.Logf("%s: read by Python with %s", name, g.Reader)
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		hdr, _ := splitFile(t, b)
		md, _, err := parseHeader([]byte(hdr))
		if err != nil {
			t.Fatal(err)
		}
		if len(g.Metadata) != len(md) {
			t.Errorf("%s: Python sees %d metadata keys, want %d", name, len(g.Metadata), len(md))
		}
		for k, v := range md {
			if g.Metadata[k] != v {
				t.Errorf("%s: Python sees metadata %q = %q, want %q", name, k, g.Metadata[k], v)
			}
		}
		if len(g.Tensors) != len(f.Tensors) {
			t.Errorf("%s: Python sees %d tensors, want %d", name, len(g.Tensors), len(f.Tensors))
		}
		for _, ft := range f.Tensors {
			pt := g.Tensors[ft.Name]
			want := map[DType]string{F32: "float32", F16: "float16"}[ft.DType]
			if pt.DType != want || !equalInts(pt.Shape, ft.Shape) || len(pt.Values) != len(ft.Data) {
				t.Fatalf("%s: %s: Python sees %s %v with %d values, want %s %v", name, ft.Name, pt.DType, pt.Shape, len(pt.Values), want, ft.Shape)
			}
			for i, v := range ft.Data {
				if float64(v) != pt.Values[i] {
					t.Fatalf("%s: %s[%d]: Python reads %v, Go %v", name, ft.Name, i, pt.Values[i], v)
				}
			}
		}
	}
}
