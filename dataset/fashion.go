package dataset

import (
	"fmt"
	"path/filepath"
	"slices"
)

// FashionMNISTDir is where Debian's dataset-fashion-mnist package installs the four idx
// files (`dpkg -L dataset-fashion-mnist`).
const FashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// fashionClasses are Fashion-MNIST's ten class names, by label (its README).
var fashionClasses = [10]string{
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
}

// FashionMNISTClasses returns Fashion-MNIST's ten class names, indexed by label.
func FashionMNISTClasses() []string { return slices.Clone(fashionClasses[:]) }

// Images is a labelled set of single-channel images: N images of H×W pixels, row-major,
// one after another in X (N×H·W values), pixel values scaled from 0 … 255 to [−1, 1]
// (p/127.5 − 1, the scaling the flow is trained on: pytorch_fmnist.py's); Y holds the
// N labels, each below len(Classes).
type Images struct {
	N, H, W int
	X       []float32
	Y       []uint8
	Classes []string
}

// Dim is the number of values per image, H·W.
func (im *Images) Dim() int { return im.H * im.W }

// FashionMNIST reads the Fashion-MNIST training (60,000) and test (10,000) sets from
// dir, which holds the four gzip'd idx files under their original names
// (FashionMNISTDir where Debian installs them).
func FashionMNIST(dir string) (train, test *Images, err error) {
	if train, err = readImages(dir, "train"); err != nil {
		return nil, nil, err
	}
	if test, err = readImages(dir, "t10k"); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// readImages reads prefix-images-idx3-ubyte.gz and prefix-labels-idx1-ubyte.gz from dir
// and checks that they agree: as many labels as images, each a class.
func readImages(dir, prefix string) (*Images, error) {
	ipath := filepath.Join(dir, prefix+"-images-idx3-ubyte.gz")
	lpath := filepath.Join(dir, prefix+"-labels-idx1-ubyte.gz")
	img, err := ReadIDXFile(ipath)
	if err != nil {
		return nil, err
	}
	lab, err := ReadIDXFile(lpath)
	if err != nil {
		return nil, err
	}
	return newImages(img, lab, ipath, lpath)
}

// newImages scales img's pixels and checks lab against it; the paths are for messages.
func newImages(img, lab *IDX, ipath, lpath string) (*Images, error) {
	if len(img.Dims) != 3 {
		return nil, fmt.Errorf("dataset: %s: %d dimensions, want 3 (images × rows × columns)", ipath, len(img.Dims))
	}
	if len(lab.Dims) != 1 {
		return nil, fmt.Errorf("dataset: %s: %d dimensions, want 1 (labels)", lpath, len(lab.Dims))
	}
	if lab.Dims[0] != img.Dims[0] {
		return nil, fmt.Errorf("dataset: %s has %d labels for the %d images of %s", lpath, lab.Dims[0], img.Dims[0], ipath)
	}
	for i, y := range lab.Data {
		if int(y) >= len(fashionClasses) {
			return nil, fmt.Errorf("dataset: %s: label %d of item %d is not a class (0 … %d)", lpath, y, i, len(fashionClasses)-1)
		}
	}
	x := make([]float32, len(img.Data))
	for i, p := range img.Data {
		x[i] = float32(p)/127.5 - 1
	}
	return &Images{N: img.Dims[0], H: img.Dims[1], W: img.Dims[2], X: x, Y: lab.Data, Classes: FashionMNISTClasses()}, nil
}
