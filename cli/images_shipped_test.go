package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// shippedFashion is the shipped image model, relative to this package.
const shippedFashion = "../weights/fashion-unet.safetensors"

// TestSampleShippedFashion: the shipped Fashion-MNIST model samples at small size into
// a grid of a row per class and an .npy of n×28×28 intensities in [0, 1]. Its quality is
// eval's to judge, not this test's.
func TestSampleShippedFashion(t *testing.T) {
	if _, err := os.Stat(shippedFashion); err != nil {
		t.Skipf("no shipped image model %s yet (make zoo-images trains it): %v", shippedFashion, err)
	}
	dir := t.TempDir()
	grid, x, y := filepath.Join(dir, "g.png"), filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy")
	base := []string{"sample", "-model", shippedFashion, "-n", "20", "-nfe", "2"}
	for _, out := range [][]string{{"-o", grid, "-scale", "1"}, {"-o", x, "-labels", y}} {
		args := append(slices.Clone(base), out...)
		if code, _, stderr := fmRun(args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args[1:], code, stderr)
		}
	}
	if b := decodePNG(t, grid).Bounds(); b.Dy() != 10*28+11 || b.Dx() <= 2*28+3 {
		t.Errorf("grid is %dx%d, want 10 rows of 28 pixels and two columns after the names", b.Dx(), b.Dy())
	}
	a := readNPYFile(t, x)
	if fmt.Sprint(a.shape) != "[20 28 28]" || a.descr != "<f4" {
		t.Fatalf("x.npy: %s of shape %v, want <f4 of [20 28 28]", a.descr, a.shape)
	}
	for i, v := range a.float32s() {
		if !(v >= 0 && v <= 1) {
			t.Fatalf("value %d is %v, outside [0, 1]", i, v)
		}
	}
	if l := readNPYFile(t, y); fmt.Sprint(l.shape) != "[20]" || l.int64s()[13] != 3 {
		t.Errorf("y.npy: shape %v, labels %v; want [20], i mod 10", l.shape, l.int64s())
	}
}
