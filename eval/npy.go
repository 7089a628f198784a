package eval

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// External samples come as NumPy .npy files: images n×H×W (or n×H·W) float32 or
// float64 intensities in [0, 1], labels n integers, as ../shared/bench/pytorch_fmnist.py
// --out and `flowmatch sample -o x.npy -labels y.npy` write them. dataset.ReadNPY reads
// 2-D float points only; these need more axes and integer labels.

// maxNPYValues bounds an array read here (256 Mi values, 1 GiB as float32).
const maxNPYValues = 1 << 28

var (
	npyDescrRE   = regexp.MustCompile(`'descr'\s*:\s*'([^']*)'`)
	npyFortranRE = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	npyShapeRE   = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
)

// npyArray is an array read whole, its values as float64.
type npyArray struct {
	shape []int
	v     []float64
	kind  byte // the dtype's kind: 'f' float, 'i' signed or 'u' unsigned integer
}

// readNPY reads one little-endian C-order array of a float or integer dtype from r.
func readNPY(r io.Reader, name string) (*npyArray, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil || string(pre[:6]) != "\x93NUMPY" {
		return nil, fmt.Errorf("%s: not a .npy file (no \\x93NUMPY magic)", name)
	}
	lenBytes := 4
	switch pre[6] {
	case 1:
		lenBytes = 2
	case 2, 3:
	default:
		return nil, fmt.Errorf("%s: .npy format version %d.%d, want 1, 2 or 3", name, pre[6], pre[7])
	}
	var lb [4]byte
	if _, err := io.ReadFull(r, lb[:lenBytes]); err != nil {
		return nil, fmt.Errorf("%s: .npy header is truncated", name)
	}
	hlen := int(binary.LittleEndian.Uint32(lb[:]))
	if hlen > 1<<16 {
		return nil, fmt.Errorf("%s: .npy header of %d bytes, more than %d", name, hlen, 1<<16)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(r, hb); err != nil {
		return nil, fmt.Errorf("%s: .npy header is truncated", name)
	}
	a, size, err := parseHeader(string(hb), name)
	if err != nil {
		return nil, err
	}
	n := 1
	for _, d := range a.shape {
		if d > 0 && n > maxNPYValues/d {
			return nil, fmt.Errorf("%s: shape %v holds more than %d values", name, a.shape, maxNPYValues)
		}
		n *= d
	}
	b := make([]byte, n*size)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("%s is truncated: shape %v wants %d bytes of data", name, a.shape, len(b))
	}
	if k, _ := io.ReadFull(r, make([]byte, 1)); k > 0 {
		return nil, fmt.Errorf("%s: bytes after the shape's %v values: not one .npy array", name, a.shape)
	}
	a.v = make([]float64, n)
	for i := range a.v {
		a.v[i] = a.value(b[i*size:(i+1)*size], size)
	}
	return a, nil
}

// parseHeader reads the dtype, order and shape of the header's dict, and returns the
// array to fill and the size of one value.
func parseHeader(h, name string) (*npyArray, int, error) {
	descr, fortran, shape := npyDescrRE.FindStringSubmatch(h), npyFortranRE.FindStringSubmatch(h), npyShapeRE.FindStringSubmatch(h)
	if descr == nil || fortran == nil || shape == nil {
		return nil, 0, fmt.Errorf("%s: .npy header %q lacks descr, fortran_order or shape", name, strings.TrimSpace(h))
	}
	sizes := map[string]int{"<f4": 4, "<f8": 8, "<i8": 8, "<i4": 4, "<i2": 2, "|i1": 1, "|u1": 1, "<u2": 2, "<u4": 4, "<u8": 8}
	size, ok := sizes[descr[1]]
	if !ok {
		return nil, 0, fmt.Errorf("%s: .npy dtype %q, want little-endian float32/64 or an integer type", name, descr[1])
	}
	if fortran[1] == "True" {
		return nil, 0, fmt.Errorf("%s: .npy array in Fortran order, want C order (numpy: np.ascontiguousarray(x))", name)
	}
	a := &npyArray{kind: descr[1][1]}
	for _, s := range strings.Split(shape[1], ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 {
			return nil, 0, fmt.Errorf("%s: .npy shape (%s) is not a list of sizes", name, shape[1])
		}
		a.shape = append(a.shape, v)
	}
	return a, size, nil
}

// value decodes one little-endian value of the array's dtype.
func (a *npyArray) value(b []byte, size int) float64 {
	var u uint64
	switch size {
	case 1:
		u = uint64(b[0])
	case 2:
		u = uint64(binary.LittleEndian.Uint16(b))
	case 4:
		u = uint64(binary.LittleEndian.Uint32(b))
	default:
		u = binary.LittleEndian.Uint64(b)
	}
	switch {
	case a.kind == 'f' && size == 4:
		return float64(math.Float32frombits(uint32(u)))
	case a.kind == 'f':
		return math.Float64frombits(u)
	case a.kind == 'u':
		return float64(u)
	}
	shift := 64 - 8*size // sign-extend
	return float64(int64(u<<shift) >> shift)
}

// ReadImagesNPY reads n images of side×side pixels from r: a float array of shape
// (n, side, side), (n, 1, side, side) or (n, side·side), every value in [0, 1].
func ReadImagesNPY(r io.Reader, name string, side int) ([]float32, error) {
	a, err := readNPY(r, name)
	if err != nil {
		return nil, err
	}
	if a.kind != 'f' {
		return nil, fmt.Errorf("%s: integer images: want float32 or float64 intensities in [0, 1]", name)
	}
	d := side * side
	sh := a.shape
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
	if len(a.shape) != 1 || a.shape[0] != n {
		return nil, fmt.Errorf("%s: shape %v, want (%d,): one label per image", name, a.shape, n)
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
