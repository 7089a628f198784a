package dataset

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/flowmatch/flowmatch/npy"
)

// ReadNPY reads points from a NumPy .npy file: a float32 or float64 array,
// little-endian, in C order, of shape (n, d) (or (n,), one coordinate a point). Every
// value must be finite (and a float64 within float32's range); an error names the row
// and column, counted from 1 as a CSV's lines and columns are. It returns the points,
// n×d row-major, and d.
func ReadNPY(r io.Reader, name string, opt ReadOptions) ([]float32, int, error) {
	h, n, d, err := readNPYHeader(r, name)
	if err != nil {
		return nil, 0, err
	}
	switch {
	case d > MaxDim:
		return nil, 0, fmt.Errorf("%s: shape (%d, %d): %d columns, more than the %d a point may have", name, n, d, d, MaxDim)
	case opt.Dim > 0 && d != opt.Dim:
		return nil, 0, fmt.Errorf("%s: shape (%d, %d): %d columns, want %d (%s)", name, n, d, d, opt.Dim, opt.DimWhat)
	case n == 0 || d == 0:
		return nil, 0, fmt.Errorf("%s holds no points (its shape is (%d, %d))", name, n, d)
	case n > MaxRows || n > opt.maxValues()/d:
		return nil, 0, fmt.Errorf("%s: shape (%d, %d): more than %d rows of %d columns, the most read at once", name, n, d, min(MaxRows, opt.maxValues()/d), d)
	}
	size := h.Size()
	x := make([]float32, n*d)
	buf := make([]byte, 1<<16-(1<<16)%size)
	for done := 0; done < len(x); {
		want := min(len(buf), (len(x)-done)*size)
		if _, err := io.ReadFull(r, buf[:want]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, 0, fmt.Errorf("%s is truncated: shape (%d, %d) wants %d bytes of data", name, n, d, n*d*size)
			}
			return nil, 0, fmt.Errorf("reading %s: %w", name, err)
		}
		for k := 0; k < want; k += size {
			v := h.Value(buf[k : k+size])
			if err := checkValue(v); err != nil {
				return nil, 0, fmt.Errorf("%s: row %d, column %d: %v", name, done/d+1, done%d+1, err)
			}
			x[done] = float32(v)
			done++
		}
	}
	if k, _ := io.ReadFull(r, make([]byte, 1)); k > 0 {
		return nil, 0, fmt.Errorf("%s: bytes after the shape's (%d, %d) values: not one .npy array", name, n, d)
	}
	return x, d, nil
}

// checkValue refuses what a float32 point cannot hold.
func checkValue(v float64) error {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fmt.Errorf("%v: every coordinate must be finite", v)
	case math.Abs(v) > math.MaxFloat32:
		return fmt.Errorf("%g is beyond float32's range (±3.4e38)", v)
	}
	return nil
}

// readNPYHeader reads the header of a float32 or float64 array of one or two axes, and
// returns it with the array's shape as n rows of d.
func readNPYHeader(r io.Reader, name string) (h npy.Header, n, d int, err error) {
	if h, err = npy.ReadHeader(r, name); err != nil {
		return h, 0, 0, err
	}
	if h.Descr != "<f4" && h.Descr != "<f8" {
		return h, 0, 0, fmt.Errorf("%s: .npy dtype %q, want little-endian float32 or float64 ('<f4' or '<f8'; numpy: x.astype('<f4'))", name, h.Descr)
	}
	switch len(h.Shape) {
	case 1:
		return h, h.Shape[0], 1, nil
	case 2:
		return h, h.Shape[0], h.Shape[1], nil
	}
	return h, 0, 0, fmt.Errorf("%s: .npy array of shape %s, want 2 axes (points × coordinates) or 1", name, h.ShapeString())
}

// WriteNPY writes x, n×d row-major, as a .npy file of float32 of shape (n, d) (package
// npy's version 1.0 file, as NumPy writes it).
func WriteNPY(w io.Writer, x []float32, d int) error {
	if d < 1 || len(x)%d != 0 {
		return fmt.Errorf("dataset: WriteNPY: %d values do not make rows of %d", len(x), d)
	}
	return npy.WriteFloat32(w, x, len(x)/d, d)
}
