package dataset

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"strings"
	"testing"
)

// gzipIDX builds a gzip'd idx file of unsigned bytes: the magic number for len(dims)
// dimensions, the dimensions, then data.
func gzipIDX(t *testing.T, magic []byte, dims []uint32, data []byte) []byte {
	t.Helper()
	var raw bytes.Buffer
	raw.Write(magic)
	for _, d := range dims {
		binary.Write(&raw, binary.BigEndian, d)
	}
	raw.Write(data)
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(raw.Bytes())
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return z.Bytes()
}

func TestReadIDX(t *testing.T) {
	data := []byte{0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255}
	b := gzipIDX(t, []byte{0, 0, 8, 3}, []uint32{2, 2, 3}, data)
	got, err := ReadIDX(bytes.NewReader(b), "x.gz")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Dims) != 3 || got.Dims[0] != 2 || got.Dims[1] != 2 || got.Dims[2] != 3 || !bytes.Equal(got.Data, data) {
		t.Fatalf("got dims %v data %v", got.Dims, got.Data)
	}
}

// TestReadIDXHostile: every malformed file is one error naming the file and what is
// wrong, before any allocation its header could make absurd.
func TestReadIDXHostile(t *testing.T) {
	good := []byte{0, 0, 8, 1}
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"not gzip", []byte("\x00\x00\x08\x01\x00\x00\x00\x02ab"), "not gzip"},
		{"empty", gzipIDX(t, nil, nil, nil), "no idx magic"},
		{"float magic", gzipIDX(t, []byte{0, 0, 0x0d, 1}, []uint32{1}, make([]byte, 4)), "not an idx file of unsigned bytes"},
		{"nonzero lead", gzipIDX(t, []byte{1, 0, 8, 1}, []uint32{1}, []byte{0}), "magic number"},
		{"no dims", gzipIDX(t, []byte{0, 0, 8, 0}, nil, nil), "0 dimensions"},
		{"five dims", gzipIDX(t, []byte{0, 0, 8, 5}, []uint32{1, 1, 1, 1, 1}, []byte{0}), "5 dimensions"},
		{"cut dims", gzipIDX(t, []byte{0, 0, 8, 3}, []uint32{1}, nil), "header cut short"},
		{"zero dim", gzipIDX(t, good, []uint32{0}, nil), "dimension 0 is 0"},
		{"huge items", gzipIDX(t, good, []uint32{1 << 31}, nil), "dimension 0 is 2147483648"},
		{"huge side", gzipIDX(t, []byte{0, 0, 8, 2}, []uint32{1, 1 << 20}, nil), "dimension 1 is 1048576"},
		{"huge product", gzipIDX(t, []byte{0, 0, 8, 4}, []uint32{1 << 20, 1024, 1024, 1024}, nil), "hold more than"},
		{"truncated", gzipIDX(t, good, []uint32{5}, []byte{1, 2, 3}), "data shorter"},
		{"trailing", gzipIDX(t, good, []uint32{2}, []byte{1, 2, 3}), "bytes after"},
	}
	for _, c := range cases {
		_, err := ReadIDX(bytes.NewReader(c.file), "bad.gz")
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, c.want) || !strings.Contains(msg, "bad.gz") || strings.Contains(msg, "\n") {
			t.Errorf("%s: error %q, want one line naming bad.gz and saying %q", c.name, msg, c.want)
		}
	}
	// A gzip stream cut in the middle: an error, whatever the cut.
	full := gzipIDX(t, good, []uint32{100}, make([]byte, 100))
	for cut := 0; cut < len(full)-1; cut++ {
		if _, err := ReadIDX(bytes.NewReader(full[:cut]), "cut.gz"); err == nil {
			t.Fatalf("cut at %d of %d bytes: accepted", cut, len(full))
		}
	}
}
