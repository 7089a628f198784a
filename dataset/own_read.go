package dataset

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/flowmatch/flowmatch/npy"
)

// Limits on a user's data.
const (
	MaxDim  = 1024       // the most columns a point may have
	MaxRows = 10_000_000 // the most rows a file may hold
	// MaxValues is the most values read by default (1 GiB of float32), which keeps
	// 10⁷ rows of 1,024 columns (40 GB) from being tried.
	MaxValues = 1 << 28
)

// ReadOptions says what a reader accepts. The zero value takes points of any
// dimension up to MaxDim, set by the first row, at most MaxRows rows and MaxValues values.
type ReadOptions struct {
	// Dim, if not 0, is the dimension every row must have; DimWhat says where it comes
	// from in messages ("the model's dimension").
	Dim     int
	DimWhat string
	// MaxValues, if not 0, lowers the most values read.
	MaxValues int
}

func (o ReadOptions) maxValues() int {
	if o.MaxValues > 0 && o.MaxValues < MaxValues {
		return o.MaxValues
	}
	return MaxValues
}

// Own is a user's data set, as read from a file.
type Own struct {
	File   string    // the file's base name (no folders), "stdin" for standard input
	Rows   int       // points
	Dim    int       // coordinates per point
	Points []float32 // Rows×Dim, row-major, in the file's units
	SHA256 string    // of the file's bytes, lower-case hex
}

// ReadFile reads a user's data from path: a NumPy .npy file (by its magic bytes, see
// [ReadNPY]) or else a CSV file ([ReadCSV]), hashing its bytes as it goes. Every error
// names the file (as the caller wrote its path), and for a bad cell the line and
// column.
func ReadFile(path string, opt ReadOptions) (*Own, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s is a folder, not a data file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	x, d, err := Read(io.TeeReader(f, h), path, opt)
	if err != nil {
		return nil, err
	}
	// The readers may stop before the end of a file they have all of (a CSV's trailing
	// blank lines), so the hash takes the rest.
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return &Own{
		File: filepath.Base(path), Rows: len(x) / d, Dim: d, Points: x,
		SHA256: hex.EncodeToString(h.Sum(nil)),
	}, nil
}

// Read reads points from r, called name in messages: a .npy file when r starts with
// NumPy's magic bytes, else CSV. It returns the points, n×d row-major, and d.
func Read(r io.Reader, name string, opt ReadOptions) ([]float32, int, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if magic, _ := br.Peek(len(npy.Magic)); bytes.Equal(magic, []byte(npy.Magic)) {
		return ReadNPY(br, name, opt)
	}
	return ReadCSV(br, name, opt)
}

// ReadCSV reads points from a CSV file: one point a row, one coordinate a column,
// comma-separated, an optional header (the first row, when none of its cells is a
// number; it must have as many cells as the rows). Blank lines are skipped. Every cell
// must be a finite number within float32's range. It returns the points, n×d
// row-major, and d.
func ReadCSV(r io.Reader, name string, opt ReadOptions) ([]float32, int, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // the column count is checked here, with a better message
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	d, dimLine := opt.Dim, 0
	var x []float32
	first := true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, 0, fmt.Errorf("%s:%d, byte %d: %v", name, pe.Line, pe.Column, pe.Err)
			}
			return nil, 0, fmt.Errorf("reading %s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if first {
			first = false
			rec[0] = strings.TrimPrefix(rec[0], "\ufeff") // a UTF-8 byte-order mark
			if isHeader(rec) {
				if d == 0 {
					d, dimLine = len(rec), line
					if d > MaxDim {
						return nil, 0, fmt.Errorf("%s:%d: the header has %d columns, more than the %d a point may have", name, line, d, MaxDim)
					}
				} else if len(rec) != d {
					return nil, 0, fmt.Errorf("%s:%d: the header has %d columns, want %d (%s)", name, line, len(rec), d, opt.DimWhat)
				}
				continue
			}
		}
		if d == 0 {
			d, dimLine = len(rec), line
		}
		if err := checkColumns(name, line, len(rec), d, dimLine, opt.DimWhat); err != nil {
			return nil, 0, err
		}
		if len(x)/d >= MaxRows || len(x)+d > opt.maxValues() {
			return nil, 0, fmt.Errorf("%s:%d: more than %d rows of %d columns, the most read at once", name, line, min(MaxRows, opt.maxValues()/d), d)
		}
		for j, cell := range rec {
			v, err := parseCell(cell)
			if err != nil {
				return nil, 0, fmt.Errorf("%s:%d: column %d: %v", name, line, j+1, err)
			}
			x = append(x, v)
		}
	}
	if len(x) == 0 {
		return nil, 0, emptyError(name, d)
	}
	return x, d, nil
}

// checkColumns checks a row's column count n against d, which line dimLine set (0 when
// the caller's option did, what saying where it comes from).
func checkColumns(name string, line, n, d, dimLine int, what string) error {
	switch {
	case n == d && d <= MaxDim:
		return nil
	case n > MaxDim:
		return fmt.Errorf("%s:%d: %d columns, more than the %d a point may have", name, line, n, MaxDim)
	case dimLine > 0:
		return fmt.Errorf("%s:%d: %d %s, but line %d has %d (every row must have as many)", name, line, n, plural(n, "column", "columns"), dimLine, d)
	}
	return fmt.Errorf("%s:%d: %d %s, want %d (%s)", name, line, n, plural(n, "column", "columns"), d, what)
}

func emptyError(name string, d int) error {
	if d > 0 {
		return fmt.Errorf("%s holds no points (want one row of %d comma-separated numbers a point)", name, d)
	}
	return fmt.Errorf("%s holds no points (want one row of comma-separated numbers a point)", name)
}

// isHeader reports whether no cell of rec is a number.
func isHeader(rec []string) bool {
	for _, c := range rec {
		if _, err := strconv.ParseFloat(strings.TrimSpace(c), 64); err == nil {
			return false
		}
	}
	return true
}

// parseCell reads one coordinate: a finite number within float32's range.
func parseCell(cell string) (float32, error) {
	s := strings.TrimSpace(cell)
	if s == "" {
		return 0, errors.New("empty cell, want a number")
	}
	v, err := strconv.ParseFloat(s, 32)
	var ne *strconv.NumError
	switch {
	case errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange):
		return 0, fmt.Errorf("%s is beyond float32's range (±3.4e38)", shorten(s))
	case err != nil:
		return 0, fmt.Errorf("%q is not a number", shorten(s))
	case math.IsNaN(v) || math.IsInf(v, 0):
		return 0, fmt.Errorf("%s: every coordinate must be finite", s)
	}
	return float32(v), nil
}

// shorten cuts a cell for a message.
func shorten(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
