package report

import (
	"fmt"
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/flowmatch/flowmatch/outfile"
)

// Colours for the paths and dash patterns for the solvers, the same in every figure.
var (
	pathColor = map[string]color.Color{
		"ot": color.RGBA{31, 119, 180, 255},
		"vp": color.RGBA{255, 127, 14, 255},
		"ve": color.RGBA{44, 160, 44, 255},
		// The OT path trained with the OT coupling (the model's Label).
		"ot OT-CFM": color.RGBA{148, 103, 189, 255},
	}
	solverDash = map[string][]vg.Length{
		"euler":    {vg.Points(1), vg.Points(2)},
		"midpoint": nil,
		"heun":     {vg.Points(6), vg.Points(2)},
		"rk4":      {vg.Points(6), vg.Points(2), vg.Points(1), vg.Points(2)},
		"dopri5":   {vg.Points(2), vg.Points(2)},
	}
	solverGlyph = map[string]draw.GlyphDrawer{
		"euler": draw.CircleGlyph{}, "midpoint": draw.BoxGlyph{}, "heun": draw.TriangleGlyph{},
		"rk4": draw.PlusGlyph{}, "dopri5": draw.CrossGlyph{},
	}
)

// savePNG draws a grid of plots (rows × cols) into one PNG through outfile: a regular
// file is replaced atomically (0644 when new), a symlink's target is written, a device
// or FIFO written through.
func savePNG(file string, plots [][]*plot.Plot, w, h vg.Length) error {
	img := vgimg.New(w, h)
	dc := draw.New(img)
	t := draw.Tiles{Rows: len(plots), Cols: len(plots[0]), PadX: vg.Millimeter * 2, PadY: vg.Millimeter * 2,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(plots, t, dc)
	for i := range plots {
		for j, p := range plots[i] {
			if p != nil {
				p.Draw(canvases[i][j])
			}
		}
	}
	out, err := outfile.Create(file)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer out.Abort()
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(out); err != nil {
		return fmt.Errorf("report: writing %s: %w", file, err)
	}
	if err := out.Commit(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// PlotW2vsNFE draws W2 / floor against NFE for every path and solver of one dataset.
func PlotW2vsNFE(file, name string, floor float64, sweeps map[string][]Point) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: W2 / data floor against NFE (n = 1,000)", name)
	p.X.Label.Text = "network evaluations (NFE)"
	p.Y.Label.Text = "W2 / floor (1 = data vs data)"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	for _, path := range sortedKeys(sweeps) {
		for _, solver := range []string{"euler", "midpoint", "heun", "rk4", "dopri5"} {
			var xy plotter.XYs
			for _, pt := range sweeps[path] {
				if pt.Solver == solver {
					xy = append(xy, plotter.XY{X: float64(pt.NFE), Y: pt.W2 / floor})
				}
			}
			if len(xy) == 0 {
				continue
			}
			sort.Slice(xy, func(i, j int) bool { return xy[i].X < xy[j].X })
			l, s, err := plotter.NewLinePoints(xy)
			if err != nil {
				return err
			}
			l.Color, l.Dashes, l.Width = pathColor[path], solverDash[solver], vg.Points(1.2)
			s.Color, s.Shape = pathColor[path], solverGlyph[solver]
			p.Add(l, s)
			p.Legend.Add(path+" "+solver, l, s)
		}
	}
	ref := plotter.NewFunction(func(float64) float64 { return 1 })
	ref.Color, ref.Dashes = color.Gray{150}, []vg.Length{vg.Points(3), vg.Points(3)}
	p.Add(ref)
	p.Y.Min = math.Min(p.Y.Min, 0.8)
	p.Add(plotter.NewGrid())
	return savePNG(file, [][]*plot.Plot{{p}}, 20*vg.Centimeter, 14*vg.Centimeter)
}

// PlotTrajectories draws one panel per path: trajectories from the same noise, with
// their starts in grey and their ends in the path's colour.
func PlotTrajectories(file, name string, states map[string][][]float32, straight map[string]float64, lim float64) error {
	var row []*plot.Plot
	for _, path := range sortedKeys(states) {
		st := states[path]
		p := plot.New()
		p.Title.Text = fmt.Sprintf("%s, %s path: straightness %.3f", name, path, straight[path])
		n := len(st[0]) / 2
		for i := 0; i < n; i++ {
			xy := make(plotter.XYs, len(st))
			for s := range st {
				xy[s] = plotter.XY{X: float64(st[s][2*i]), Y: float64(st[s][2*i+1])}
			}
			l, err := plotter.NewLine(xy)
			if err != nil {
				return err
			}
			l.Color, l.Width = color.RGBA{90, 90, 90, 60}, vg.Points(0.4)
			p.Add(l)
		}
		// Starts, then ends on top of them, in that order every time (a map here once
		// made the overlaps, and so the PNG, differ from run to run).
		for _, e := range []struct {
			k int
			c color.Color
		}{{0, color.Gray{170}}, {len(st) - 1, pathColor[path]}} {
			xy := make(plotter.XYs, n)
			for i := range xy {
				xy[i] = plotter.XY{X: float64(st[e.k][2*i]), Y: float64(st[e.k][2*i+1])}
			}
			sc, err := plotter.NewScatter(xy)
			if err != nil {
				return err
			}
			sc.Color, sc.Radius = e.c, vg.Points(1)
			p.Add(sc)
		}
		// After the Adds, which widen the axes to the data: every panel shows the same
		// square, so VE's far-away starts leave the frame instead of shrinking the data.
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = -lim, lim, -lim, lim
		row = append(row, p)
	}
	return savePNG(file, [][]*plot.Plot{row}, vg.Length(len(row))*10*vg.Centimeter, 10*vg.Centimeter)
}

// DensityPair is one row of the density figure.
type DensityPair struct {
	Name          string
	True, Learned *Grid
}

// PlotDensities draws, for each dataset, the true density beside the learned one on
// the same colour scale.
func PlotDensities(file string, pairs []DensityPair) error {
	var rows [][]*plot.Plot
	for _, dp := range pairs {
		top := math.Max(dp.True.Max(), dp.Learned.Max())
		var row []*plot.Plot
		for _, side := range []struct {
			title string
			g     *Grid
		}{{"data (histogram)", dp.True}, {"model (continuity equation)", dp.Learned}} {
			pal := moreland.ExtendedBlackBody()
			pal.SetMin(0)
			pal.SetMax(top)
			hm := plotter.NewHeatMap(side.g, pal.Palette(255))
			hm.Min, hm.Max = 0, top
			p := plot.New()
			p.Title.Text = dp.Name + ": " + side.title
			p.Add(hm)
			p.HideAxes()
			row = append(row, p)
		}
		rows = append(rows, row)
	}
	return savePNG(file, rows, 14*vg.Centimeter, vg.Length(len(rows))*7*vg.Centimeter)
}

func sortedKeys[V any](m map[string]V) []string {
	order := map[string]int{"ot": 0, "vp": 1, "ve": 2}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		oi, iok := order[keys[i]]
		oj, jok := order[keys[j]]
		if iok && jok {
			return oi < oj
		}
		return keys[i] < keys[j]
	})
	return keys
}
