package classifier_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/flowmatch/flowmatch/classifier"
	"github.com/flowmatch/flowmatch/dataset"
)

// TestShippedAccuracy: the shipped classifier keeps the bar, at least 92 % on
// Fashion-MNIST's 10,000 test images (it scored 92.76 % when trained).
func TestShippedAccuracy(t *testing.T) {
	if _, err := os.Stat(filepath.Join(dataset.FashionMNISTDir, "t10k-images-idx3-ubyte.gz")); err != nil {
		t.Skipf("Fashion-MNIST is not installed at %s (make fashion-mnist installs it)", dataset.FashionMNISTDir)
	}
	net, err := classifier.Load("../weights/fashion-classifier.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	_, test, err := dataset.FashionMNIST(dataset.FashionMNISTDir)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, len(test.X))
	for i, v := range test.X {
		x[i] = (v + 1) / 2
	}
	y := make([]int, test.N)
	for i := range y {
		y[i] = int(test.Y[i])
	}
	acc := classifier.Accuracy(net, x, y)
	if acc < 0.92 {
		t.Fatalf("test accuracy %.4f, want at least 0.92", acc)
	}
	t.Logf("test accuracy %.4f", acc)
}
