package cli

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/flowmatch/flowmatch/dataset"
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
// them n×d, row-major: a CSV (the first row is a header when none of its cells is a
// number; it must have d cells too; blank lines are skipped) or a NumPy .npy file, by
// package dataset's reader, which train -data shares. At most maxValues values are read
// (maxSampleValues when 0).
func readPoints(r io.Reader, name string, d, maxValues int) ([]float32, error) {
	if maxValues <= 0 {
		maxValues = maxSampleValues
	}
	x, _, err := dataset.Read(r, name, dataset.ReadOptions{Dim: d, DimWhat: "the model's dimension", MaxValues: maxValues})
	if err != nil {
		return nil, Usagef("%v", unwrapPath(err))
	}
	return x, nil
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
