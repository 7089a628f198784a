package cli

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/flowmatch/flowmatch/outfile"
)

// Reading points: encode and loglik take a CSV of points in the data's units, one point
// a row and one coordinate a column, with an optional header (sample's x0,x1,… or any
// row of names). Every way the file can be wrong is the user's, so each is a usage
// error naming the file, and the line and column where a cell is at fault.

// openPoints opens the -in file: "-" is env's stdin. A missing file or a folder is a
// usage error. The name returned is what messages call the input.
func openPoints(env Env, path string) (io.Reader, string, func(), error) {
	if path == "-" {
		r := env.Stdin
		if r == nil {
			r = strings.NewReader("")
		}
		return r, "stdin", func() {}, nil
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, "", nil, Usagef("-in: %s is a folder, not a CSV file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, "", nil, Usagef("-in: %v", err)
	}
	return f, path, func() { f.Close() }, nil
}

// readPoints reads points of dimension d from r (called name in messages) and returns
// them n×d, row-major. The first row is a header when none of its cells is a number;
// it must have d cells too. Blank lines are skipped. At most maxValues values are read
// (maxSampleValues when 0).
func readPoints(r io.Reader, name string, d, maxValues int) ([]float32, error) {
	if maxValues <= 0 {
		maxValues = maxSampleValues
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // the column count is checked here, with a better message
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
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
				return nil, Usagef("%s:%d, byte %d: %v", name, pe.Line, pe.Column, pe.Err)
			}
			return nil, Usagef("reading %s: %v", name, unwrapPath(err))
		}
		line, _ := cr.FieldPos(0)
		if first {
			first = false
			if len(rec) > 0 && strings.HasPrefix(rec[0], "\ufeff") { // a UTF-8 byte-order mark
				rec[0] = strings.TrimPrefix(rec[0], "\ufeff")
			}
			if isHeader(rec) {
				if len(rec) != d {
					return nil, Usagef("%s:%d: the header has %d columns, want %d (the model's dimension)", name, line, len(rec), d)
				}
				continue
			}
		}
		if len(rec) != d {
			return nil, Usagef("%s:%d: %d %s, want %d (the model's dimension)", name, line, len(rec), plural(len(rec), "column", "columns"), d)
		}
		if len(x)+d > maxValues {
			return nil, Usagef("%s: more than %d points of dimension %d, the most one run takes", name, maxValues/d, d)
		}
		for j, cell := range rec {
			v, err := parseCell(cell)
			if err != nil {
				return nil, Usagef("%s:%d: column %d: %v", name, line, j+1, err)
			}
			x = append(x, v)
		}
	}
	if len(x) == 0 {
		return nil, Usagef("%s holds no points (want one row of %d comma-separated numbers a point)", name, d)
	}
	return x, nil
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

// writeOutput writes an output through write: to env's stdout for "-", else through
// the outfile package (atomic for a regular file, written through for a device or FIFO,
// a symlink's target written). flag names the flag in messages.
func writeOutput(env Env, flag, path string, write func(io.Writer) error) error {
	if path == "-" {
		if err := write(env.Stdout); err != nil {
			return fmt.Errorf("writing stdout: %w", err)
		}
		return nil
	}
	w, err := outfile.Create(path)
	if err != nil {
		return Usagef("%s: %v", flag, err)
	}
	defer w.Abort() // keeps an existing file as it was when anything below fails
	if err := write(w); err != nil {
		return fmt.Errorf("writing %s: %w", path, unwrapPath(err))
	}
	return w.Commit()
}

// checkOutput refuses, before any work, an output path that cannot be written: empty,
// a folder, a missing folder or one that takes no new files. "-" (stdout) passes.
func checkOutput(flag, path string) error {
	if path == "" {
		return Usagef("%s is empty (use - for stdout)", flag)
	}
	if path == "-" {
		return nil
	}
	if err := outfile.Check(path); err != nil {
		return Usagef("%s: %v", flag, err)
	}
	return nil
}

// finiteRows returns an error naming the first row of x (n×d, counted from 0 as sample
// counts them) with a value that is not finite, or nil.
func finiteRows(x []float32, d int, what string) error {
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%s %d, coordinate %d is %v: the solve diverged (try more steps or another solver)", what, i/d, i%d, v)
		}
	}
	return nil
}
