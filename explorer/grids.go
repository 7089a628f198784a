package explorer

import (
	"fmt"
	"math"
	"slices"

	"github.com/flowmatch/flowmatch/sampler"
)

// Box is a rectangle in data coordinates (of a 2-D model: see [PlotDim]).
type Box struct{ X0, Y0, X1, Y1 float64 }

// gridPoints returns the n×n cell centres of box, row-major from the top row down.
func gridPoints(b Box, n int) []float32 {
	pts := make([]float32, 0, PlotDim*n*n)
	for r := 0; r < n; r++ {
		y := b.Y1 - (float64(r)+0.5)*(b.Y1-b.Y0)/float64(n)
		for c := 0; c < n; c++ {
			x := b.X0 + (float64(c)+0.5)*(b.X1-b.X0)/float64(n)
			pts = append(pts, float32(x), float32(y))
		}
	}
	return pts
}

// FieldGrid is the velocity field at one time on an n×n grid of points, evaluated a
// few points at a time, for drawing arrows. Its field is 2-D: the app makes grids only
// for the lanes whose model is [Model.Plottable].
type FieldGrid struct {
	N    int
	T    float64
	Box  Box
	Pos  []float32 // n·n points, row-major from the top row
	Vel  []float32 // their velocities, valid for the first Done() points
	done int
	f    sampler.Field
}

// NewFieldGrid prepares the grid; nothing is evaluated yet.
func NewFieldGrid(f sampler.Field, n int, t float64, b Box) *FieldGrid {
	pos := gridPoints(b, n)
	return &FieldGrid{N: n, T: t, Box: b, Pos: pos, Vel: make([]float32, len(pos)), f: f}
}

// Ready reports whether every point has been evaluated.
func (g *FieldGrid) Ready() bool { return g.done == g.N*g.N }

// Advance evaluates up to maxUnits points (at least one) and returns how many.
func (g *FieldGrid) Advance(maxUnits int) int {
	k := min(max(1, maxUnits), g.N*g.N-g.done)
	if k <= 0 {
		return 0
	}
	a, b := 2*g.done, 2*(g.done+k)
	g.f.Velocity(g.Vel[a:b], g.Pos[a:b], g.T)
	g.done += k
	return k
}

// MaxSpeed is the largest |v| on the grid.
func (g *FieldGrid) MaxSpeed() float64 {
	m := 0.0
	for i := 0; i < g.done; i++ {
		m = math.Max(m, math.Hypot(float64(g.Vel[2*i]), float64(g.Vel[2*i+1])))
	}
	return m
}

// DensitySteps is the number of midpoint steps the learned density takes per point.
const DensitySteps = 12

// DensityGrid is the learned log-density log p_1(x) on an n×n grid, computed by
// [sampler.LogLikelihood] a few points at a time so that the page stays smooth.
type DensityGrid struct {
	N    int
	Box  Box
	LogP []float64 // row-major from the top row; valid for the first Done() points
	done int
	pts  []float32
	m    *Model
	err  error
}

// NewDensityGrid prepares the grid of model m's density over box (data coordinates);
// nothing is computed yet. For a model that is not 2-D the grid is born failed, with
// [Model.PlotError] as its error.
func NewDensityGrid(m *Model, n int, b Box) *DensityGrid {
	return &DensityGrid{N: n, Box: b, LogP: make([]float64, n*n), m: m, pts: gridPoints(b, n), err: m.PlotError()}
}

// Done is the number of points computed, row by row from the top.
func (g *DensityGrid) Done() int { return g.done }

// Ready reports whether the grid is complete (or failed).
func (g *DensityGrid) Ready() bool { return g.done == g.N*g.N || g.err != nil }

// Err is the likelihood's error, if it failed.
func (g *DensityGrid) Err() error { return g.err }

// UnitsPerPoint is the work of one point in particle-evaluations (forward passes):
// DensitySteps midpoint steps of two evaluations, each with d tangent passes.
func (g *DensityGrid) UnitsPerPoint() int {
	return DensitySteps * 2 * (g.m.Field.Dim() + 1)
}

// Advance computes at least one point, as many as fit in maxUnits, and returns the units.
func (g *DensityGrid) Advance(maxUnits int) int {
	if g.Ready() {
		return 0
	}
	m := g.m
	if _, ok := m.Field.(sampler.DivField); !ok {
		g.err = fmt.Errorf("this model's field has no exact divergence")
		return 0
	}
	k := min(max(1, maxUnits/g.UnitsPerPoint()), g.N*g.N-g.done)
	const d = PlotDim
	pts := append([]float32(nil), g.pts[d*g.done:d*(g.done+k)]...)
	// The likelihood runs in the network's space; the change of variables to data
	// space subtracts log σ per coordinate.
	shift := 0.0
	if slices.Contains(m.Std, 0) {
		g.err = fmt.Errorf("this model keeps a coordinate constant: its density is not a function of the plane")
		return 0
	}
	if m.Mean != nil {
		for i := range pts {
			pts[i] = float32((float64(pts[i]) - m.Mean[i%d]) / m.Std[i%d])
		}
		for _, s := range m.Std {
			shift -= math.Log(s)
		}
	}
	t0, t1 := m.tRange()
	lp, _, err := sampler.LogLikelihood(m.Field, m.Path, pts, sampler.LikelihoodOptions{
		Solver: sampler.Options{Method: sampler.Midpoint, Steps: DensitySteps, T0: t1, T1: t0},
	})
	if err != nil {
		g.err = err
		return k * g.UnitsPerPoint()
	}
	for i, v := range lp {
		g.LogP[g.done+i] = v + shift
	}
	g.done += k
	return k * g.UnitsPerPoint()
}

// RGBA writes the grid as an n×n RGBA image (4 bytes a pixel, top row first) into pix,
// coloured by log-density over the top Range nats of the computed values; points not
// yet computed are transparent.
func (g *DensityGrid) RGBA(pix []byte) {
	const Range = 7.0
	hi := math.Inf(-1)
	for _, v := range g.LogP[:g.done] {
		hi = math.Max(hi, v)
	}
	for i := range pix[:4*g.N*g.N] {
		pix[i] = 0
	}
	for i, v := range g.LogP[:g.done] {
		s := (v - (hi - Range)) / Range
		if s <= 0 || math.IsNaN(s) {
			continue
		}
		r, gg, b := heat(math.Min(s, 1))
		a := 0.25 + 0.6*math.Min(s, 1)
		// Premultiplied alpha, as Ebiten expects.
		pix[4*i+0] = byte(255 * r * a)
		pix[4*i+1] = byte(255 * gg * a)
		pix[4*i+2] = byte(255 * b * a)
		pix[4*i+3] = byte(255 * a)
	}
}

// heat is a dark-blue → magenta → orange → pale-yellow colour map for s ∈ [0, 1].
func heat(s float64) (r, g, b float64) {
	stops := [][3]float64{{0.05, 0.03, 0.25}, {0.45, 0.07, 0.55}, {0.85, 0.3, 0.35}, {0.98, 0.65, 0.2}, {1, 0.97, 0.75}}
	x := s * float64(len(stops)-1)
	i := min(int(x), len(stops)-2)
	w := x - float64(i)
	a, c := stops[i], stops[i+1]
	return a[0] + w*(c[0]-a[0]), a[1] + w*(c[1]-a[1]), a[2] + w*(c[2]-a[2])
}

// Hue returns an RGB colour for an angle (radians) and a saturation in [0, 1], used to
// colour each particle by the direction of its starting noise.
func Hue(angle, sat float64) (r, g, b float32) {
	h := math.Mod(angle/(2*math.Pi)+1, 1) * 6
	i := int(h) % 6
	f := h - math.Floor(h)
	p, q, t := 1-sat, 1-sat*f, 1-sat*(1-f)
	var rr, gg, bb float64
	switch i {
	case 0:
		rr, gg, bb = 1, t, p
	case 1:
		rr, gg, bb = q, 1, p
	case 2:
		rr, gg, bb = p, 1, t
	case 3:
		rr, gg, bb = p, q, 1
	case 4:
		rr, gg, bb = t, p, 1
	default:
		rr, gg, bb = 1, p, q
	}
	return float32(rr), float32(gg), float32(bb)
}
