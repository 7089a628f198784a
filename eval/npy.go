package eval

import (
	"fmt"
	"io"
	"math"

	"github.com/flowmatch/flowmatch/npy"
)

// External samples come as NumPy .npy files: images n×H×W (or n×H·W) float32 or
// float64 intensities in [0, 1], labels n integers, as ../shared/bench/pytorch_fmnist.py
// --out and `flowmatch sample -o x.npy -labels y.npy` write them. dataset.ReadNPY reads
// 2-D float points only; these need more axes and integer labels.

// maxNPYValues bounds an array read here (256 Mi values, 1 GiB as float32).
const maxNPYValues = 1 << 28

// npyArray is an array read whole, its values as float64.
type npyArray struct {
	npy.Header
	v []float64
}

// readNPY reads one array of a float or integer dtype from r.
func readNPY(r io.Reader, name string) (*npyArray, error) {
	h, err := npy.ReadHeader(r, name)
	if err != nil {
		return nil, err
	}
	size := h.Size()
	if size == 0 {
		return nil, fmt.Errorf("%s: .npy dtype %q, want little-endian float32/64 or an integer type", name, h.Descr)
	}
	n, ok := h.Len(maxNPYValues)
	if !ok {
		return nil, fmt.Errorf("%s: shape %v holds more than %d values", name, h.Shape, maxNPYValues)
	}
	b := make([]byte, n*size)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("%s is truncated: shape %v wants %d bytes of data", name, h.Shape, len(b))
	}
	if k, _ := io.ReadFull(r, make([]byte, 1)); k > 0 {
		return nil, fmt.Errorf("%s: bytes after the shape's %v values: not one .npy array", name, h.Shape)
	}
	a := &npyArray{Header: h, v: make([]float64, n)}
	for i := range a.v {
		a.v[i] = h.Value(b[i*size : (i+1)*size])
	}
	return a, nil
}

// ReadImagesNPY reads n images of side×side pixels from r: a float array of shape
// (n, side, side), (n, 1, side, side) or (n, side·side), every value in [0, 1].
func ReadImagesNPY(r io.Reader, name string, side int) ([]float32, error) {
	a, err := readNPY(r, name)
	if err != nil {
		return nil, err
	}
	if !a.Float() {
		return nil, fmt.Errorf("%s: integer images: want float32 or float64 intensities in [0, 1]", name)
	}
	d := side * side
	sh := a.Shape
	ok := len(sh) == 2 && sh[1] == d || len(sh) == 3 && sh[1] == side && sh[2] == side ||
		len(sh) == 4 && sh[1] == 1 && sh[2] == side && sh[3] == side
	if !ok || sh[0] == 0 {
		return nil, fmt.Errorf("%s: shape %v, want (n, %d, %d) images with n ≥ 1", name, sh, side, side)
	}
	x := make([]float32, len(a.v))
	for i, v := range a.v {
		if !(v >= 0 && v <= 1) {
			return nil, fmt.Errorf("%s: image %d, pixel %d is %v: want intensities in [0, 1]", name, i/d, i%d, v)
		}
		x[i] = float32(v)
	}
	return x, nil
}

// ReadLabelsNPY reads n class labels from r: a 1-D array of integers (or of floats
// holding whole numbers), each in 0 … classes−1.
func ReadLabelsNPY(r io.Reader, name string, n, classes int) ([]int, error) {
	a, err := readNPY(r, name)
	if err != nil {
		return nil, err
	}
	if len(a.Shape) != 1 || a.Shape[0] != n {
		return nil, fmt.Errorf("%s: shape %v, want (%d,): one label per image", name, a.Shape, n)
	}
	y := make([]int, n)
	for i, v := range a.v {
		if v != math.Trunc(v) || v < 0 || v >= float64(classes) {
			return nil, fmt.Errorf("%s: label %d is %v, want a class 0 to %d", name, i, v, classes-1)
		}
		y[i] = int(v)
	}
	return y, nil
}
