package eval

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

// npyBytes is a version 1.0 .npy file with the given dtype, shape and raw data.
func npyBytes(descr, shape string, data []byte) []byte {
	h := "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }"
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)+1), 0)
	return append(append(append(b, h...), '\n'), data...)
}

func le(vs ...any) []byte {
	var b bytes.Buffer
	for _, v := range vs {
		binary.Write(&b, binary.LittleEndian, v)
	}
	return b.Bytes()
}

func TestReadLabelsNPYDtypes(t *testing.T) {
	for _, tc := range []struct {
		descr string
		data  []byte
	}{
		{"<i8", le(int64(3), int64(0), int64(9))},
		{"<i4", le(int32(3), int32(0), int32(9))},
		{"|u1", []byte{3, 0, 9}},
		{"<f8", le(3.0, 0.0, 9.0)},
		{"<f4", le(float32(3), float32(0), float32(9))},
	} {
		y, err := ReadLabelsNPY(bytes.NewReader(npyBytes(tc.descr, "(3,)", tc.data)), tc.descr, 3, 10)
		if err != nil || len(y) != 3 || y[0] != 3 || y[1] != 0 || y[2] != 9 {
			t.Errorf("%s: %v, %v", tc.descr, y, err)
		}
	}
	for _, tc := range []struct {
		descr, shape string
		data         []byte
		want         string
	}{
		{"<i8", "(2,)", le(int64(-1), int64(0)), "label 0 is -1"},
		{"<f8", "(2,)", le(0.5, 1.0), "label 0 is 0.5"},
		{"<i8", "(2, 1)", le(int64(1), int64(0)), "want (2,)"},
		{"<i8", "(2,)", le(int64(1)), "truncated"},
		{"<i8", "(2,)", le(int64(1), int64(0), int64(0)), "bytes after"},
		{">i8", "(2,)", le(int64(1), int64(0)), "dtype"},
	} {
		_, err := ReadLabelsNPY(bytes.NewReader(npyBytes(tc.descr, tc.shape, tc.data)), "y.npy", 2, 10)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: %v, want an error naming %q", tc.descr, tc.shape, err, tc.want)
		}
	}
}

func TestReadImagesNPYShapes(t *testing.T) {
	px := make([]float32, 2*16)
	px[17] = 1
	for _, shape := range []string{"(2, 4, 4)", "(2, 16)", "(2, 1, 4, 4)"} {
		x, err := ReadImagesNPY(bytes.NewReader(npyBytes("<f4", shape, le(px))), "x.npy", 4)
		if err != nil || len(x) != 32 || x[17] != 1 {
			t.Errorf("%s: %v", shape, err)
		}
	}
	px[3] = float32(math.Inf(1))
	for _, tc := range []struct {
		descr, shape string
		data         []byte
		want         string
	}{
		{"<f4", "(2, 4, 4)", le(px), "image 0, pixel 3 is +Inf"},
		{"<f4", "(2, 3, 3)", le(make([]float32, 18)), "want (n, 4, 4)"},
		{"<f4", "(0, 4, 4)", nil, "want (n, 4, 4) images with n ≥ 1"},
		{"|u1", "(1, 4, 4)", make([]byte, 16), "integer images"},
		{"<f8", "(1, 16)", le(make([]float64, 15)), "truncated"},
	} {
		_, err := ReadImagesNPY(bytes.NewReader(npyBytes(tc.descr, tc.shape, tc.data)), "x.npy", 4)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: %v, want an error naming %q", tc.descr, tc.shape, err, tc.want)
		}
	}
	if _, err := ReadImagesNPY(strings.NewReader("not npy"), "x.npy", 4); err == nil || !strings.Contains(err.Error(), "not a .npy file") {
		t.Errorf("not npy: %v", err)
	}
}
