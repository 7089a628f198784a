package dataset

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fashionDir(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(FashionMNISTDir, "train-images-idx3-ubyte.gz")); err != nil {
		t.Skipf("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): %v", err)
	}
	return FashionMNISTDir
}

// TestFashionMNIST checks the installed files against the dataset's published facts:
// 60,000 + 10,000 images of 28×28, 6,000 and 1,000 per class, pixels in [−1, 1] with
// both ends reached, and the first training label (9, an ankle boot, in the dataset's
// README figure order and in every loader).
func TestFashionMNIST(t *testing.T) {
	train, test, err := FashionMNIST(fashionDir(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		im       *Images
		n, per   int
		name     string
		firstLab uint8
	}{{train, 60000, 6000, "train", 9}, {test, 10000, 1000, "test", 9}} {
		im := c.im
		if im.N != c.n || im.H != 28 || im.W != 28 || len(im.X) != c.n*784 || len(im.Y) != c.n || im.Dim() != 784 {
			t.Fatalf("%s: N %d H %d W %d, %d values, %d labels", c.name, im.N, im.H, im.W, len(im.X), len(im.Y))
		}
		count := make([]int, 10)
		for _, y := range im.Y {
			count[y]++
		}
		for k, n := range count {
			if n != c.per {
				t.Errorf("%s: class %d has %d images, want %d", c.name, k, n, c.per)
			}
		}
		lo, hi := im.X[0], im.X[0]
		for _, v := range im.X {
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo != -1 || hi != 1 {
			t.Errorf("%s: pixels in [%g, %g], want exactly [-1, 1]", c.name, lo, hi)
		}
		if im.Y[0] != c.firstLab {
			t.Errorf("%s: first label %d, want %d", c.name, im.Y[0], c.firstLab)
		}
		if len(im.Classes) != 10 || im.Classes[9] != "Ankle boot" || im.Classes[0] != "T-shirt/top" {
			t.Errorf("classes %q", im.Classes)
		}
	}
}

// TestFashionMNISTMismatch: labels that do not fit their images, a missing file, and
// a label out of range are errors naming the file.
func TestFashionMNISTMismatch(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("train-images-idx3-ubyte.gz", gzipIDX(t, []byte{0, 0, 8, 3}, []uint32{2, 2, 2}, make([]byte, 8)))
	write("train-labels-idx1-ubyte.gz", gzipIDX(t, []byte{0, 0, 8, 1}, []uint32{3}, []byte{0, 1, 2}))
	check := func(want string) {
		t.Helper()
		_, _, err := FashionMNIST(dir)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v, want one saying %q", err, want)
		}
	}
	check("3 labels for the 2 images")
	write("train-labels-idx1-ubyte.gz", gzipIDX(t, []byte{0, 0, 8, 1}, []uint32{2}, []byte{0, 10}))
	check("label 10 of item 1 is not a class")
	write("train-labels-idx1-ubyte.gz", gzipIDX(t, []byte{0, 0, 8, 2}, []uint32{2, 1}, []byte{0, 1}))
	check("2 dimensions, want 1")
	write("train-labels-idx1-ubyte.gz", gzipIDX(t, []byte{0, 0, 8, 1}, []uint32{2}, []byte{0, 9}))
	check("t10k-images-idx3-ubyte.gz")
}
