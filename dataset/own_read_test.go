package dataset_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/dataset"
)

// TestReadCSVErrors holds every way a CSV can be wrong to one message naming the file,
// the line and, for a cell, the column.
func TestReadCSVErrors(t *testing.T) {
	wide := strings.TrimSuffix(strings.Repeat("1,", dataset.MaxDim+1), ",") + "\n"
	wideHeader := strings.TrimSuffix(strings.Repeat("a,", dataset.MaxDim+1), ",") + "\n"
	for _, c := range []struct {
		csv  string
		opt  dataset.ReadOptions
		want string
	}{
		{"x0,x1\n1,2\n3,abc\n", dataset.ReadOptions{}, `p.csv:3: column 2: "abc" is not a number`},
		{"1,2\n,4\n", dataset.ReadOptions{}, "p.csv:2: column 1: empty cell, want a number"},
		{"1,2\n3,4,5\n", dataset.ReadOptions{}, "p.csv:2: 3 columns, but line 1 has 2 (every row must have as many)"},
		{"a,b\n1,2\n\n3\n", dataset.ReadOptions{}, "p.csv:4: 1 column, but line 1 has 2"},
		{"1,2\n3,4,5\n", dataset.ReadOptions{Dim: 2, DimWhat: "the model's dimension"}, "p.csv:2: 3 columns, want 2 (the model's dimension)"},
		{"a,b,c\n1,2\n", dataset.ReadOptions{Dim: 2, DimWhat: "the model's dimension"}, "p.csv:1: the header has 3 columns, want 2 (the model's dimension)"},
		{"1,2\nNaN,4\n", dataset.ReadOptions{}, "p.csv:2: column 1: NaN: every coordinate must be finite"},
		{"1,2\n3,-Inf\n", dataset.ReadOptions{}, "p.csv:2: column 2: -Inf: every coordinate must be finite"},
		{"1,2\n3,+inf\n", dataset.ReadOptions{}, "p.csv:2: column 2: +inf: every coordinate must be finite"},
		{"1,2\n3,1e39\n", dataset.ReadOptions{}, "p.csv:2: column 2: 1e39 is beyond float32's range"},
		{"", dataset.ReadOptions{}, "p.csv holds no points"},
		{"\n\n", dataset.ReadOptions{}, "p.csv holds no points"},
		{"x0,x1\n", dataset.ReadOptions{}, "p.csv holds no points"},
		{"1,2\n3,4\"5\n", dataset.ReadOptions{}, `p.csv:2, byte 4: bare " in non-quoted-field`},
		{"1,2\n" + wide, dataset.ReadOptions{}, "p.csv:2: 1025 columns, more than the 1024 a point may have"},
		{wide, dataset.ReadOptions{}, "p.csv:1: 1025 columns, more than the 1024 a point may have"},
		{wideHeader, dataset.ReadOptions{}, "p.csv:1: the header has 1025 columns, more than the 1024"},
		{"1,2\n3,4\n5,6\n", dataset.ReadOptions{MaxValues: 4}, "p.csv:3: more than 2 rows of 2 columns"},
	} {
		_, _, err := dataset.ReadCSV(strings.NewReader(c.csv), "p.csv", c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("ReadCSV(%.40q): error %v, want one line containing %q", c.csv, err, c.want)
		}
	}
}

func TestReadCSV(t *testing.T) {
	for _, c := range []struct {
		csv string
		d   int
		x   []float32
	}{
		{"x0,x1\n1,2\n3,4\n", 2, []float32{1, 2, 3, 4}},
		{"\ufeffa , b\r\n1, 2.5\r\n\r\n-3e2,4\r\n\n", 2, []float32{1, 2.5, -300, 4}},
		{"7\n8\n9", 1, []float32{7, 8, 9}},
		{"value\n0.1\n", 1, []float32{0.1}},
	} {
		x, d, err := dataset.ReadCSV(strings.NewReader(c.csv), "p.csv", dataset.ReadOptions{})
		if err != nil || d != c.d || fmt.Sprint(x) != fmt.Sprint(c.x) {
			t.Errorf("ReadCSV(%q) = %v, %d, %v; want %v, %d", c.csv, x, d, err, c.x, c.d)
		}
	}
}

// TestReadFile: the file's base name, rows, dimension and SHA-256 of all its bytes,
// CSV or .npy by content, and a folder or missing file refused with its name.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	body := "x0,x1,x2\n1,2,3\n4,5,6\n\n\n"
	p := filepath.Join(dir, "pts.csv")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	own, err := dataset.ReadFile(p, dataset.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	if own.File != "pts.csv" || own.Rows != 2 || own.Dim != 3 || own.SHA256 != hex.EncodeToString(sum[:]) || len(own.Points) != 6 {
		t.Errorf("ReadFile = %+v, want pts.csv, 2 rows of 3, sha256 %x", own, sum)
	}
	var npy bytes.Buffer
	if err := dataset.WriteNPY(&npy, own.Points, 3); err != nil {
		t.Fatal(err)
	}
	q := filepath.Join(dir, "pts.data") // the content decides, not the extension
	if err := os.WriteFile(q, npy.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := dataset.ReadFile(q, dataset.ReadOptions{})
	sum = sha256.Sum256(npy.Bytes())
	if err != nil || back.Rows != 2 || back.Dim != 3 || fmt.Sprint(back.Points) != fmt.Sprint(own.Points) || back.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("ReadFile(.npy) = %+v, %v", back, err)
	}
	if _, err := dataset.ReadFile(dir, dataset.ReadOptions{}); err == nil || !strings.Contains(err.Error(), dir+" is a folder") {
		t.Errorf("a folder: %v", err)
	}
	missing := filepath.Join(dir, "nope.csv")
	if _, err := dataset.ReadFile(missing, dataset.ReadOptions{}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("a missing file: %v", err)
	}
}

// TestWriteCSVRoundTrip: what WriteCSV writes, ReadCSV reads back bit for bit.
func TestWriteCSVRoundTrip(t *testing.T) {
	x := []float32{0.1, -2.5e-30, 3.4e38, 1, 1.0000001, -0}
	var b bytes.Buffer
	if err := dataset.WriteCSV(&b, x, 3); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "x0,x1,x2\n") {
		t.Errorf("header: %q", b.String())
	}
	back, d, err := dataset.ReadCSV(&b, "w.csv", dataset.ReadOptions{})
	if err != nil || d != 3 || fmt.Sprint(back) != fmt.Sprint(x) {
		t.Errorf("read back %v, %d, %v; want %v", back, d, err, x)
	}
	if err := dataset.WriteCSV(&b, x, 4); err == nil {
		t.Error("WriteCSV of ragged rows: no error")
	}
}
