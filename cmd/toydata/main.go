// Command toydata writes points of a built-in 2-D dataset to a CSV or .npy file, as a
// user's own data for `flowmatch train -data FILE`:
//
//	go run ./cmd/toydata -data moons -n 20000 -o moons.csv
//	go run ./cmd/toydata -data moons -n 20000 -dim 16 -o moons16.npy
//
// With -dim D above 2 each point is the 2-D point followed by D−2 coordinates of
// N(0, 0.5²) noise, turned by one random rotation of R^D (seeded), so that every
// coordinate mixes the shape and the noise: data with a 2-D structure in D dimensions.
package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/outfile"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "toydata:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("toydata", flag.ContinueOnError)
	name := fs.String("data", "moons", "dataset: "+strings.Join(dataset.Names(), ", "))
	n := fs.Int("n", 20000, "points")
	dim := fs.Int("dim", 2, "dimension (2: the dataset itself; more: rotated into that many with noise)")
	seed := fs.Uint64("seed", 1, "random seed")
	out := fs.String("o", "", "output file: .npy for NumPy's format, else CSV")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *out == "":
		return fmt.Errorf("-o is required")
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case *n < 1 || *n > dataset.MaxRows:
		return fmt.Errorf("-n must be in [1, %d] (got %d)", dataset.MaxRows, *n)
	case *dim < 2 || *dim > dataset.MaxDim || *n > dataset.MaxValues / *dim:
		return fmt.Errorf("-dim must be in [2, %d], with -n × -dim at most %d (got %d)", dataset.MaxDim, dataset.MaxValues, *dim)
	}
	rng := rand.New(rand.NewPCG(*seed, 0x746f7964617461)) // "toydata"
	x, err := dataset.Sample(*name, *n, rng)
	if err != nil {
		return err
	}
	if *dim > 2 {
		x = embed(x, *dim, rng)
	}
	w, err := outfile.Create(*out)
	if err != nil {
		return err
	}
	defer w.Abort()
	write := dataset.WriteCSV
	if strings.EqualFold(filepath.Ext(*out), ".npy") {
		write = dataset.WriteNPY
	}
	if err := write(w, x, *dim); err != nil {
		return err
	}
	return w.Commit()
}

// embed returns the 2-D points x followed by d−2 coordinates of N(0, 0.5²), turned by
// a random rotation (Gram–Schmidt on a Gaussian matrix).
func embed(x []float32, d int, rng *rand.Rand) []float32 {
	q := rotation(d, rng)
	n := len(x) / 2
	out := make([]float32, n*d)
	p := make([]float64, d)
	for i := 0; i < n; i++ {
		p[0], p[1] = float64(x[2*i]), float64(x[2*i+1])
		for j := 2; j < d; j++ {
			p[j] = 0.5 * rng.NormFloat64()
		}
		for r := 0; r < d; r++ {
			s := 0.0
			for c := 0; c < d; c++ {
				s += q[r*d+c] * p[c]
			}
			out[i*d+r] = float32(s)
		}
	}
	return out
}

// rotation returns a random d×d orthogonal matrix, row-major.
func rotation(d int, rng *rand.Rand) []float64 {
	q := make([]float64, d*d)
	for i := range q {
		q[i] = rng.NormFloat64()
	}
	for r := 0; r < d; r++ {
		row := q[r*d : (r+1)*d]
		for k := 0; k < r; k++ {
			prev := q[k*d : (k+1)*d]
			dot := 0.0
			for c := range row {
				dot += row[c] * prev[c]
			}
			for c := range row {
				row[c] -= dot * prev[c]
			}
		}
		norm := 0.0
		for _, v := range row {
			norm += v * v
		}
		norm = math.Sqrt(norm)
		for c := range row {
			row[c] /= norm
		}
	}
	return q
}
