package report

import (
	"math"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// Grid is a regular grid of values over [X0, X1]×[Y0, Y1], row by row from Y0, each
// value at its cell's centre. It implements gonum/plot's plotter.GridXYZ.
type Grid struct {
	X0, X1, Y0, Y1 float64
	Cols, Rows     int
	V              []float64 // Rows×Cols
}

func newGrid(lim float64, k int) *Grid {
	return &Grid{X0: -lim, X1: lim, Y0: -lim, Y1: lim, Cols: k, Rows: k, V: make([]float64, k*k)}
}

func (g *Grid) Dims() (c, r int)   { return g.Cols, g.Rows }
func (g *Grid) Z(c, r int) float64 { return g.V[r*g.Cols+c] }
func (g *Grid) X(c int) float64    { return g.X0 + (float64(c)+0.5)*(g.X1-g.X0)/float64(g.Cols) }
func (g *Grid) Y(r int) float64    { return g.Y0 + (float64(r)+0.5)*(g.Y1-g.Y0)/float64(g.Rows) }

// Max is the largest value.
func (g *Grid) Max() float64 {
	m := 0.0
	for _, v := range g.V {
		m = math.Max(m, v)
	}
	return m
}

// LearnedDensity evaluates the model's density p_1 at each cell centre of a k×k grid over
// [−lim, lim]², through the continuity equation with steps RK4 steps.
func LearnedDensity(f *weights.File, lim float64, k, steps int) (*Grid, error) {
	mlp, path, err := f.Model()
	if err != nil {
		return nil, err
	}
	g := newGrid(lim, k)
	x := make([]float32, 0, 2*k*k)
	for r := 0; r < k; r++ {
		for c := 0; c < k; c++ {
			x = append(x, float32(g.X(c)), float32(g.Y(r)))
		}
	}
	f.Meta.Data.FromData(x)
	ll, _, err := sampler.LogLikelihood(mlp, path, x, sampler.LikelihoodOptions{
		Solver: sampler.Options{Method: sampler.RK4, Steps: steps, T0: f.Meta.Path.TMax, T1: f.Meta.Path.TMin}})
	if err != nil {
		return nil, err
	}
	for i, v := range ll {
		g.V[i] = math.Exp(v - f.Meta.Data.LogDetToData())
	}
	return g, nil
}

// TrueDensity is a normalised histogram of n fresh data points on the same k×k grid.
func TrueDensity(name string, lim float64, k, n int, seed uint64) (*Grid, error) {
	pts, err := dataset.Sample(name, n, rand.New(rand.NewPCG(seed, 6)))
	if err != nil {
		return nil, err
	}
	g := newGrid(lim, k)
	cell := (2 * lim / float64(k)) * (2 * lim / float64(k))
	for i := 0; i < n; i++ {
		c := int(math.Floor((float64(pts[2*i]) + lim) / (2 * lim) * float64(k)))
		r := int(math.Floor((float64(pts[2*i+1]) + lim) / (2 * lim) * float64(k)))
		if c >= 0 && c < k && r >= 0 && r < k {
			g.V[r*k+c] += 1 / (float64(n) * cell)
		}
	}
	return g, nil
}
