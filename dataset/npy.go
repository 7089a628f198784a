package dataset

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// NumPy's .npy format (numpy.lib.format): the magic "\x93NUMPY", a major and minor
// version byte, the header's length (2 bytes little-endian in version 1, 4 in 2 and
// 3), the header, a Python dict literal padded with spaces and a newline, then the
// array's bytes.
const npyMagic = "\x93NUMPY"

// maxNPYHeader bounds the header a reader takes; NumPy writes under 100 bytes for a 2-D
// float array (and pads to 64-byte alignment).
const maxNPYHeader = 1 << 16

var (
	npyDescr   = regexp.MustCompile(`'descr'\s*:\s*'([^']*)'`)
	npyFortran = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	npyShape   = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
)

// ReadNPY reads points from a NumPy .npy file: a float32 or float64 array,
// little-endian, in C order, of shape (n, d) (or (n,), one coordinate a point). Every
// value must be finite (and a float64 within float32's range); an error names the row
// and column, counted from 1 as a CSV's lines and columns are. It returns the points,
// n×d row-major, and d.
func ReadNPY(r io.Reader, name string, opt ReadOptions) ([]float32, int, error) {
	size, n, d, err := readNPYHeader(r, name)
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
			v := npyValue(buf[k:k+size], size)
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

func npyValue(b []byte, size int) float64 {
	if size == 4 {
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b))
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

// readNPYHeader reads the magic, version and header, and returns the size of a value
// (4 or 8 bytes) and the array's shape as n rows of d.
func readNPYHeader(r io.Reader, name string) (size, n, d int, err error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil || string(pre[:6]) != npyMagic {
		return 0, 0, 0, fmt.Errorf("%s: not a .npy file (no \\x93NUMPY magic)", name)
	}
	lenBytes := 4
	switch pre[6] {
	case 1:
		lenBytes = 2
	case 2, 3:
	default:
		return 0, 0, 0, fmt.Errorf("%s: .npy format version %d.%d, want 1, 2 or 3", name, pre[6], pre[7])
	}
	var lb [4]byte
	if _, err := io.ReadFull(r, lb[:lenBytes]); err != nil {
		return 0, 0, 0, fmt.Errorf("%s: .npy header is truncated", name)
	}
	hlen := int(binary.LittleEndian.Uint32(lb[:]))
	if hlen > maxNPYHeader {
		return 0, 0, 0, fmt.Errorf("%s: .npy header of %d bytes, more than %d", name, hlen, maxNPYHeader)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(r, hb); err != nil {
		return 0, 0, 0, fmt.Errorf("%s: .npy header is truncated", name)
	}
	return parseNPYHeader(string(hb), name)
}

// parseNPYHeader reads the descr, fortran_order and shape of the header's dict.
func parseNPYHeader(h, name string) (size, n, d int, err error) {
	descr, fortran, shape := npyDescr.FindStringSubmatch(h), npyFortran.FindStringSubmatch(h), npyShape.FindStringSubmatch(h)
	if descr == nil || fortran == nil || shape == nil {
		return 0, 0, 0, fmt.Errorf("%s: .npy header %q lacks descr, fortran_order or shape", name, strings.TrimSpace(h))
	}
	switch descr[1] {
	case "<f4":
		size = 4
	case "<f8":
		size = 8
	default:
		return 0, 0, 0, fmt.Errorf("%s: .npy dtype %q, want little-endian float32 or float64 ('<f4' or '<f8'; numpy: x.astype('<f4'))", name, descr[1])
	}
	if fortran[1] == "True" {
		return 0, 0, 0, fmt.Errorf("%s: .npy array in Fortran order, want C order (numpy: np.ascontiguousarray(x))", name)
	}
	var dims []int
	for _, s := range strings.Split(shape[1], ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 {
			return 0, 0, 0, fmt.Errorf("%s: .npy shape (%s) is not a list of sizes", name, shape[1])
		}
		dims = append(dims, v)
	}
	switch len(dims) {
	case 1:
		return size, dims[0], 1, nil
	case 2:
		return size, dims[0], dims[1], nil
	}
	return 0, 0, 0, fmt.Errorf("%s: .npy array of shape (%s), want 2 axes (points × coordinates) or 1", name, shape[1])
}

// WriteNPY writes x, n×d row-major, as a version 1.0 .npy file of float32 ('<f4', C
// order) of shape (n, d), the header padded so the data start on a 64-byte boundary
// as NumPy writes it.
func WriteNPY(w io.Writer, x []float32, d int) error {
	if d < 1 || len(x)%d != 0 {
		return fmt.Errorf("dataset: WriteNPY: %d values do not make rows of %d", len(x), d)
	}
	h := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", len(x)/d, d)
	pad := 64 - (len(npyMagic)+4+len(h)+1)%64
	h += strings.Repeat(" ", pad%64) + "\n"
	pre := []byte(npyMagic + "\x01\x00")
	pre = binary.LittleEndian.AppendUint16(pre, uint16(len(h)))
	if _, err := w.Write(append(pre, h...)); err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<16)
	for i, v := range x {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		if len(buf) == cap(buf) || i == len(x)-1 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	return nil
}
