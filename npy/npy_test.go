package npy_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/npy"
)

// TestRoundTrip: what WriteFloat32 and WriteInt64 write, ReadHeader and Value read back
// exactly, with the data on a 64-byte boundary.
func TestRoundTrip(t *testing.T) {
	x := []float32{0, -1.5, 3.25e-30, 7, 1e30, -0}
	var b bytes.Buffer
	if err := npy.WriteFloat32(&b, x, 2, 1, 3); err != nil {
		t.Fatal(err)
	}
	hlen := b.Len() - 4*len(x)
	if hlen%64 != 0 {
		t.Errorf("data start at byte %d, want a multiple of 64", hlen)
	}
	h, err := npy.ReadHeader(&b, "x.npy")
	if err != nil {
		t.Fatal(err)
	}
	if h.Descr != "<f4" || h.ShapeString() != "(2, 1, 3)" || !h.Float() || h.Size() != 4 {
		t.Fatalf("header %+v (%s)", h, h.ShapeString())
	}
	for i, want := range x {
		if got := h.Value(b.Next(4)); float32(got) != want {
			t.Errorf("value %d: %v, want %v", i, got, want)
		}
	}

	y := []int64{0, 9, -3, 1 << 40}
	b.Reset()
	if err := npy.WriteInt64(&b, y); err != nil {
		t.Fatal(err)
	}
	if h, err = npy.ReadHeader(&b, "y.npy"); err != nil {
		t.Fatal(err)
	}
	if h.Descr != "<i8" || h.ShapeString() != "(4,)" || h.Float() || h.Size() != 8 {
		t.Fatalf("header %+v (%s)", h, h.ShapeString())
	}
	for i, want := range y {
		if got := h.Value(b.Next(8)); got != float64(want) {
			t.Errorf("label %d: %v, want %v", i, got, want)
		}
	}
}

// TestValueDtypes decodes one value of each integer dtype, signed ones sign-extended.
func TestValueDtypes(t *testing.T) {
	for _, c := range []struct {
		descr string
		b     []byte
		want  float64
	}{
		{"|i1", []byte{0xfe}, -2}, {"|u1", []byte{0xfe}, 254},
		{"<i2", []byte{0xff, 0xff}, -1}, {"<u2", []byte{0xff, 0xff}, 65535},
		{"<i4", []byte{0, 0, 0, 0x80}, -1 << 31}, {"<u4", []byte{0, 0, 0, 0x80}, 1 << 31},
		{"<f8", []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f}, 1},
	} {
		if got := (npy.Header{Descr: c.descr}).Value(c.b); got != c.want {
			t.Errorf("%s % x: %v, want %v", c.descr, c.b, got, c.want)
		}
	}
	if n := (npy.Header{Descr: ">f4"}).Size(); n != 0 {
		t.Errorf("big-endian float32 has size %d, want 0 (not decoded)", n)
	}
}

// TestLen: the product of the sizes, refused past the bound rather than overflowing.
func TestLen(t *testing.T) {
	if n, ok := (npy.Header{Shape: []int{3, 0, 5}}).Len(10); !ok || n != 0 {
		t.Errorf("(3, 0, 5): %d %v", n, ok)
	}
	if n, ok := (npy.Header{Shape: []int{}}).Len(10); !ok || n != 1 {
		t.Errorf("(): %d %v, want a scalar's 1", n, ok)
	}
	if _, ok := (npy.Header{Shape: []int{1 << 40, 1 << 40}}).Len(1 << 28); ok {
		t.Error("(2⁴⁰, 2⁴⁰) fits 2²⁸")
	}
	if err := npy.WriteFloat32(&bytes.Buffer{}, make([]float32, 5), 2, 3); err == nil {
		t.Error("5 values written as (2, 3)")
	}
}

// TestReadHeaderErrors: each malformed file gets one line naming the file and what is
// wrong with it.
func TestReadHeaderErrors(t *testing.T) {
	file := func(major byte, h string) []byte {
		b := []byte(npy.Magic + string([]byte{major, 0}))
		if major == 1 {
			return append(append(b, byte(len(h)), byte(len(h)>>8)), h...)
		}
		return append(append(b, byte(len(h)), byte(len(h)>>8), 0, 0), h...)
	}
	for _, c := range []struct {
		b    []byte
		want string
	}{
		{[]byte("PK\x03\x04 a zip"), "a.npy: not a .npy file"},
		{file(4, "{}"), "a.npy: .npy format version 4.0, want 1, 2 or 3"},
		{[]byte(npy.Magic + "\x01\x00\x50"), "a.npy: .npy header is truncated"},
		{file(1, "{'descr': '<f4'}"), "lacks descr, fortran_order or shape"},
		{file(2, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }"), "a.npy: .npy array in Fortran order"},
		{file(3, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }"), "a.npy: .npy shape (2, -1) is not a list of sizes"},
		{append([]byte(npy.Magic+"\x02\x00"), 0, 0, 2, 0), "a.npy: .npy header of 131072 bytes, more than 65536"},
	} {
		_, err := npy.ReadHeader(bytes.NewReader(c.b), "a.npy")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("% q: %v, want %q", c.b, err, c.want)
		}
	}
}

// TestNumPyReads: NumPy itself reads what this package writes (skipped where Python
// has no numpy).
func TestNumPyReads(t *testing.T) {
	if runtime.GOOS == "js" {
		t.Skip("no subprocesses under wasm")
	}
	py := "/usr/bin/python3" // Debian's, which has numpy beside python3-torch
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		t.Skipf("%s with numpy not available: %v", py, err)
	}
	dir := t.TempDir()
	var x, y bytes.Buffer
	if err := npy.WriteFloat32(&x, []float32{0.5, -2, 3, 4, 5, 6}, 3, 2); err != nil {
		t.Fatal(err)
	}
	if err := npy.WriteInt64(&y, []int64{7, -8}); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"x.npy": x.Bytes(), "y.npy": y.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(py, "-c", `import numpy as np, sys
x, y = np.load(sys.argv[1] + "/x.npy"), np.load(sys.argv[1] + "/y.npy")
print(x.dtype, x.shape, x.tolist(), y.dtype, y.shape, y.tolist())`, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	want := "float32 (3, 2) [[0.5, -2.0], [3.0, 4.0], [5.0, 6.0]] int64 (2,) [7, -8]"
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("numpy read\n%s\nwant\n%s", got, want)
	}
}
