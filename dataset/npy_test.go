package dataset_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/dataset"
)

// npyFile builds a .npy file by hand as numpy.lib.format writes one: magic, version,
// header length (2 bytes in 1.0, 4 in 2.0), the dict padded with spaces to a 64-byte
// boundary and a newline, then the values.
func npyFile(major byte, header string, values any) []byte {
	var b bytes.Buffer
	b.WriteString("\x93NUMPY")
	b.WriteByte(major)
	b.WriteByte(0)
	lenBytes := 2
	if major > 1 {
		lenBytes = 4
	}
	total := 8 + lenBytes + len(header) + 1
	header += strings.Repeat(" ", (64-total%64)%64) + "\n"
	if major > 1 {
		binary.Write(&b, binary.LittleEndian, uint32(len(header)))
	} else {
		binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	}
	b.WriteString(header)
	if values != nil {
		binary.Write(&b, binary.LittleEndian, values)
	}
	return b.Bytes()
}

func TestReadNPY(t *testing.T) {
	for _, c := range []struct {
		file []byte
		d    int
		x    []float32
	}{
		// np.save of np.array([[1, 2], [3, 4], [5, 6]], dtype=np.float32)
		{npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", []float32{1, 2, 3, 4, 5, 6}), 2, []float32{1, 2, 3, 4, 5, 6}},
		// float64, converted to float32
		{npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", []float64{0.1, -2, 1e10, 0}), 2, []float32{0.1, -2, 1e10, 0}},
		// a 1-D array: one coordinate a point
		{npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", []float32{7, 8, 9}), 1, []float32{7, 8, 9}},
		// version 2.0, keys in another order
		{npyFile(2, "{'shape': (1, 3), 'fortran_order': False, 'descr': '<f4'}", []float32{1, 2, 3}), 3, []float32{1, 2, 3}},
	} {
		x, d, err := dataset.Read(bytes.NewReader(c.file), "a.npy", dataset.ReadOptions{})
		if err != nil || d != c.d || fmt.Sprint(x) != fmt.Sprint(c.x) {
			t.Errorf("ReadNPY = %v, %d, %v; want %v, %d", x, d, err, c.x, c.d)
		}
	}
}

func TestReadNPYErrors(t *testing.T) {
	hdr := func(descr, fortran, shape string) string {
		return fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, fortran, shape)
	}
	good := hdr("<f4", "False", "(2, 2)")
	nan := []float32{1, 2, 3, float32(math.NaN())}
	for _, c := range []struct {
		file []byte
		opt  dataset.ReadOptions
		want string
	}{
		{npyFile(1, good, nan), dataset.ReadOptions{}, "a.npy: row 2, column 2: NaN: every coordinate must be finite"},
		{npyFile(1, good, []float32{1, float32(math.Inf(-1)), 3, 4}), dataset.ReadOptions{}, "a.npy: row 1, column 2: -Inf: every coordinate must be finite"},
		{npyFile(1, hdr("<f8", "False", "(1, 2)"), []float64{1, 1e39}), dataset.ReadOptions{}, "a.npy: row 1, column 2: 1e+39 is beyond float32's range"},
		{npyFile(1, hdr(">f4", "False", "(2, 2)"), nil), dataset.ReadOptions{}, `a.npy: .npy dtype ">f4", want little-endian float32 or float64`},
		{npyFile(1, hdr("<i8", "False", "(2, 2)"), nil), dataset.ReadOptions{}, `.npy dtype "<i8"`},
		{npyFile(1, hdr("<f4", "True", "(2, 2)"), nil), dataset.ReadOptions{}, "a.npy: .npy array in Fortran order, want C order"},
		{npyFile(1, hdr("<f4", "False", "(2, 2, 2)"), nil), dataset.ReadOptions{}, "a.npy: .npy array of shape (2, 2, 2), want 2 axes"},
		{npyFile(1, hdr("<f4", "False", "()"), nil), dataset.ReadOptions{}, "a.npy: .npy array of shape (), want 2 axes"},
		{npyFile(1, hdr("<f4", "False", "(0, 2)"), nil), dataset.ReadOptions{}, "a.npy holds no points (its shape is (0, 2))"},
		{npyFile(1, hdr("<f4", "False", "(2, 1025)"), nil), dataset.ReadOptions{}, "a.npy: shape (2, 1025): 1025 columns, more than the 1024 a point may have"},
		{npyFile(1, hdr("<f4", "False", "(10000001, 1)"), nil), dataset.ReadOptions{}, "a.npy: shape (10000001, 1): more than 10000000 rows"},
		{npyFile(1, good, []float32{1, 2, 3}), dataset.ReadOptions{}, "a.npy is truncated: shape (2, 2) wants 16 bytes of data"},
		{npyFile(1, good, []float32{1, 2, 3, 4, 5}), dataset.ReadOptions{}, "a.npy: bytes after the shape's (2, 2) values"},
		{npyFile(1, good, []float32{1, 2, 3, 4}), dataset.ReadOptions{Dim: 3, DimWhat: "the model's dimension"}, "a.npy: shape (2, 2): 2 columns, want 3 (the model's dimension)"},
		{npyFile(4, good, nil), dataset.ReadOptions{}, "a.npy: .npy format version 4.0, want 1, 2 or 3"},
		{npyFile(1, "{'descr': '<f4'}", nil), dataset.ReadOptions{}, "lacks descr, fortran_order or shape"},
		{[]byte("\x93NUMPY\x01\x00\xff"), dataset.ReadOptions{}, "a.npy: .npy header is truncated"},
	} {
		_, _, err := dataset.Read(bytes.NewReader(c.file), "a.npy", c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("error %v, want one line containing %q", err, c.want)
		}
	}
	if _, _, err := dataset.ReadNPY(strings.NewReader("1,2\n"), "a.npy", dataset.ReadOptions{}); err == nil || !strings.Contains(err.Error(), "not a .npy file") {
		t.Errorf("a CSV read as .npy: %v", err)
	}
}

// TestWriteNPY: the header is NumPy's, byte for byte (the 64-byte-aligned header
// numpy.save writes for a (3, 2) float32 array), and the file reads back exactly.
func TestWriteNPY(t *testing.T) {
	x := []float32{1.5, -2, 3e-8, 4, 5, float32(math.MaxFloat32)}
	var b bytes.Buffer
	if err := dataset.WriteNPY(&b, x, 2); err != nil {
		t.Fatal(err)
	}
	want := npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", x)
	if !bytes.Equal(b.Bytes(), want) || (b.Len()-len(x)*4)%64 != 0 {
		t.Errorf("WriteNPY wrote\n%q\nwant\n%q", b.Bytes(), want)
	}
	back, d, err := dataset.Read(&b, "w.npy", dataset.ReadOptions{})
	if err != nil || d != 2 || fmt.Sprint(back) != fmt.Sprint(x) {
		t.Errorf("read back %v, %d, %v", back, d, err)
	}
	if err := dataset.WriteNPY(&b, x, 4); err == nil {
		t.Error("WriteNPY of ragged rows: no error")
	}
}
