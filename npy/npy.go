package npy

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Magic begins every .npy file.
const Magic = "\x93NUMPY"

// MaxHeader bounds the header ReadHeader takes; NumPy writes under 128 bytes for the
// arrays here.
const MaxHeader = 1 << 16

var (
	descrRE   = regexp.MustCompile(`'descr'\s*:\s*'([^']*)'`)
	fortranRE = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	shapeRE   = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
)

// Header is what a file says of its array.
type Header struct {
	Descr string // the dtype as NumPy writes it: "<f4", "<f8", "<i8", "|u1", …
	Shape []int  // sizes of the axes; () is a scalar
}

// sizes are the dtypes this package decodes: little-endian (or one-byte) floats and
// integers, and their sizes in bytes.
var sizes = map[string]int{"<f4": 4, "<f8": 8, "<i8": 8, "<i4": 4, "<i2": 2, "|i1": 1, "|u1": 1, "<u2": 2, "<u4": 4, "<u8": 8}

// ReadHeader reads the magic, version and header from r, leaving r at the array's first
// value. It refuses a file in Fortran order; any dtype is returned, and Size says
// whether Value can decode it. Errors begin with name.
func ReadHeader(r io.Reader, name string) (Header, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil || string(pre[:6]) != Magic {
		return Header{}, fmt.Errorf("%s: not a .npy file (no \\x93NUMPY magic)", name)
	}
	lenBytes := 4
	switch pre[6] {
	case 1:
		lenBytes = 2
	case 2, 3:
	default:
		return Header{}, fmt.Errorf("%s: .npy format version %d.%d, want 1, 2 or 3", name, pre[6], pre[7])
	}
	var lb [4]byte
	if _, err := io.ReadFull(r, lb[:lenBytes]); err != nil {
		return Header{}, fmt.Errorf("%s: .npy header is truncated", name)
	}
	hlen := int(binary.LittleEndian.Uint32(lb[:]))
	if hlen > MaxHeader {
		return Header{}, fmt.Errorf("%s: .npy header of %d bytes, more than %d", name, hlen, MaxHeader)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(r, hb); err != nil {
		return Header{}, fmt.Errorf("%s: .npy header is truncated", name)
	}
	return parseHeader(string(hb), name)
}

// parseHeader reads the descr, fortran_order and shape of the header's dict.
func parseHeader(h, name string) (Header, error) {
	descr, fortran, shape := descrRE.FindStringSubmatch(h), fortranRE.FindStringSubmatch(h), shapeRE.FindStringSubmatch(h)
	if descr == nil || fortran == nil || shape == nil {
		return Header{}, fmt.Errorf("%s: .npy header %q lacks descr, fortran_order or shape", name, strings.TrimSpace(h))
	}
	if fortran[1] == "True" {
		return Header{}, fmt.Errorf("%s: .npy array in Fortran order, want C order (numpy: np.ascontiguousarray(x))", name)
	}
	hd := Header{Descr: descr[1], Shape: []int{}}
	for _, s := range strings.Split(shape[1], ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 {
			return Header{}, fmt.Errorf("%s: .npy shape (%s) is not a list of sizes", name, shape[1])
		}
		hd.Shape = append(hd.Shape, v)
	}
	return hd, nil
}

// Size is the bytes of one value, or 0 for a dtype Value cannot decode.
func (h Header) Size() int { return sizes[h.Descr] }

// Float reports whether the dtype is a float one.
func (h Header) Float() bool { return len(h.Descr) > 1 && h.Descr[1] == 'f' }

// Len is the number of values the shape holds, or false when that is more than max.
func (h Header) Len(max int) (int, bool) {
	n := 1
	for _, d := range h.Shape {
		if d > 0 && n > max/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// ShapeString is the shape as Python writes a tuple: "(2, 3)", "(5,)", "()".
func (h Header) ShapeString() string {
	dims := make([]string, len(h.Shape))
	for i, d := range h.Shape {
		dims[i] = strconv.Itoa(d)
	}
	s := strings.Join(dims, ", ")
	if len(h.Shape) == 1 {
		s += "," // a one-element tuple
	}
	return "(" + s + ")"
}

// Value decodes the value in b (Size bytes) as a float64, which holds every float32
// and every integer up to 2⁵³ exactly.
func (h Header) Value(b []byte) float64 {
	size := h.Size()
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
	switch kind := h.Descr[1]; {
	case kind == 'f' && size == 4:
		return float64(math.Float32frombits(uint32(u)))
	case kind == 'f':
		return math.Float64frombits(u)
	case kind == 'u':
		return float64(u)
	}
	shift := 64 - 8*size // sign-extend
	return float64(int64(u<<shift) >> shift)
}

// WriteHeader writes a version 1.0 header for an array of h's dtype and shape.
func WriteHeader(w io.Writer, h Header) error {
	d := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", h.Descr, h.ShapeString())
	pad := 64 - (len(Magic)+4+len(d)+1)%64
	d += strings.Repeat(" ", pad%64) + "\n"
	pre := []byte(Magic + "\x01\x00")
	pre = binary.LittleEndian.AppendUint16(pre, uint16(len(d)))
	_, err := w.Write(append(pre, d...))
	return err
}

// WriteFloat32 writes x as a float32 array of the given shape, whose sizes multiply to
// len(x).
func WriteFloat32(w io.Writer, x []float32, shape ...int) error {
	h := Header{Descr: "<f4", Shape: shape}
	if n, ok := h.Len(math.MaxInt); !ok || n != len(x) {
		return fmt.Errorf("npy: %d values do not fill shape %s", len(x), h.ShapeString())
	}
	if err := WriteHeader(w, h); err != nil {
		return err
	}
	return writeWords(w, len(x), 4, func(b []byte, i int) []byte {
		return binary.LittleEndian.AppendUint32(b, math.Float32bits(x[i]))
	})
}

// WriteInt64 writes y as a one-axis int64 array, as NumPy keeps labels.
func WriteInt64(w io.Writer, y []int64) error {
	if err := WriteHeader(w, Header{Descr: "<i8", Shape: []int{len(y)}}); err != nil {
		return err
	}
	return writeWords(w, len(y), 8, func(b []byte, i int) []byte {
		return binary.LittleEndian.AppendUint64(b, uint64(y[i]))
	})
}

// writeWords writes n values of size bytes each, appended by put, in 64 KiB writes.
func writeWords(w io.Writer, n, size int, put func([]byte, int) []byte) error {
	buf := make([]byte, 0, 1<<16)
	for i := range n {
		buf = put(buf, i)
		if len(buf)+size > cap(buf) || i == n-1 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	return nil
}
