package cli

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/outfile"
	"github.com/flowmatch/flowmatch/weights"
)

// Pictures: sample -o X.png draws the samples, -trajectories X.png their paths, with
// gonum/plot. A picture is square, -size pixels a side, and looks the same at every size
// (the resolution changes, not the layout).

// Limits and defaults of the picture flags.
const (
	defaultPictureSize = 800
	minPictureSize     = 100
	maxPictureSize     = 4096
	// maxDrawnPoints bounds the points of a scatter (gonum draws about 50,000 a second):
	// beyond it the first maxDrawnPoints samples, a fair subsample of i.i.d. draws, are
	// drawn and the title says so.
	maxDrawnPoints = 100_000
	// densityPoints are the fresh data points behind -density's histogram, densityCells
	// its cells a side.
	densityPoints = 200_000
	densityCells  = 120
	// maxTrajectoryValues bounds the values -trajectories records (128 MiB of float32).
	maxTrajectoryValues = 1 << 25
)

// isPNG reports whether an output path names a picture.
func isPNG(path string) bool { return strings.EqualFold(filepath.Ext(path), ".png") }

// pictureStyle is what every picture of one run shares.
type pictureStyle struct {
	size    int         // pixels a side
	density *densityMap // the data's density shaded behind, or nil
	caption string      // second title line: model, path, solver
}

// densityMap is a normalized 2-D histogram of fresh data points; it implements
// plotter.GridXYZ.
type densityMap struct {
	x0, x1, y0, y1 float64
	k              int
	v              []float64 // k×k, row by row from y0
	pts            []float32 // the data points (n×2), for the plot's range
}

func (g *densityMap) Dims() (c, r int)   { return g.k, g.k }
func (g *densityMap) Z(c, r int) float64 { return g.v[r*g.k+c] }
func (g *densityMap) X(c int) float64    { return g.x0 + (float64(c)+0.5)*(g.x1-g.x0)/float64(g.k) }
func (g *densityMap) Y(r int) float64    { return g.y0 + (float64(r)+0.5)*(g.y1-g.y0)/float64(g.k) }

// newDensityMap draws densityPoints fresh points of the named toy dataset (a fixed
// seed: the same picture every run); the histogram itself is made by fit, once the
// plot's range is known.
func newDensityMap(name string) (*densityMap, error) {
	pts, err := dataset.Sample(name, densityPoints, rand.New(rand.NewPCG(1, 0x64656e73)))
	if err != nil {
		return nil, err
	}
	return &densityMap{pts: pts}, nil
}

// fit bins the data points on a k×k grid over the range r.
func (g *densityMap) fit(r box, k int) {
	g.x0, g.x1, g.y0, g.y1, g.k = r.x0, r.x1, r.y0, r.y1, k
	g.v = make([]float64, k*k)
	for i := 0; i+1 < len(g.pts); i += 2 {
		c := int(math.Floor((float64(g.pts[i]) - r.x0) / (r.x1 - r.x0) * float64(k)))
		rr := int(math.Floor((float64(g.pts[i+1]) - r.y0) / (r.y1 - r.y0) * float64(k)))
		if c >= 0 && c < k && rr >= 0 && rr < k {
			g.v[rr*k+c]++
		}
	}
}

// checkDensity says whether -density can draw the model's data: a toy dataset of the
// dataset package, and a two-dimensional model.
func checkDensity(f *weights.File) error {
	name := f.Meta.Data.Name
	if dataset.Dim(name) == 0 {
		what := fmt.Sprintf("%q", name)
		if name == "" {
			what = "unnamed"
		}
		return Usagef("-density: the model's data is %s, not one of the toy datasets (%s)", what, strings.Join(dataset.Names(), ", "))
	}
	if d := f.Meta.Data.Dim; d != dataset.Dim(name) {
		return Usagef("-density: the model's dimension is %d, but %s is %d-dimensional", d, name, dataset.Dim(name))
	}
	return nil
}

// box is a plot's range.
type box struct{ x0, x1, y0, y1 float64 }

func emptyBox() box { return box{math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)} }

func (b *box) add(x, y float64) {
	b.x0, b.x1 = math.Min(b.x0, x), math.Max(b.x1, x)
	b.y0, b.y1 = math.Min(b.y0, y), math.Max(b.y1, y)
}

// square returns a square range around b, 5% wider than its longer side, so that both
// axes have one scale and nothing sits on the frame.
func (b box) square() box {
	if b.x0 > b.x1 { // nothing added
		return box{-1, 1, -1, 1}
	}
	cx, cy := (b.x0+b.x1)/2, (b.y0+b.y1)/2
	h := 0.525 * math.Max(b.x1-b.x0, b.y1-b.y0)
	if !(h > 1e-9*math.Max(math.Abs(cx), math.Abs(cy))) || h < 1e-30 {
		h = math.Max(1, math.Max(math.Abs(cx), math.Abs(cy))*1e-3) // one point, or all alike
	}
	return box{cx - h, cx + h, cy - h, cy + h}
}

// Colours of the pictures.
var (
	sampleColor = color.NRGBA{31, 90, 180, 255}
	startColor  = color.NRGBA{150, 150, 150, 255}
	pathColor   = color.NRGBA{80, 80, 80, 255}
)

// densityPalette shades the data's density from white to a light orange, under the
// blue samples.
type densityPalette struct{}

func (densityPalette) Colors() []color.Color {
	cs := make([]color.Color, 64)
	for i := range cs {
		f := float64(i) / float64(len(cs)-1)
		cs[i] = color.NRGBA{255, uint8(255 - f*(255-160)), uint8(255 - f*(255-70)), 255}
	}
	return cs
}

// newPlot makes a plot with the picture's title, the axes and, when asked and the data
// are two-dimensional, the data's density behind, over the range r (which it fixes).
func newPlot(st pictureStyle, title, xLabel, yLabel string, r box) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	if st.caption != "" {
		p.Title.Text += "\n" + st.caption
	}
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	if st.density != nil {
		st.density.fit(r, densityCells)
		hm := plotter.NewHeatMap(st.density, densityPalette{})
		hm.Rasterized = true
		hm.Min = 0
		if hm.Max <= 0 {
			hm.Max = 1
		}
		p.Add(hm)
	}
	return p
}

// fixRange sets the plot's axes to r, after the Adds that would widen them.
func fixRange(p *plot.Plot, r box) {
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = r.x0, r.x1, r.y0, r.y1
}

// glyphRadius is a scatter's point size for n points.
func glyphRadius(n int) vg.Length {
	switch {
	case n <= 2_000:
		return vg.Points(1.6)
	case n <= 20_000:
		return vg.Points(1)
	}
	return vg.Points(0.6)
}

// thousands writes n with thousands separators: 100,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// drawSamples draws samples x (n×d, the data's units) as a scatter of their first two
// coordinates, or a histogram when d = 1, into a PNG at path. name is the dataset's.
func drawSamples(path string, x []float32, d int, name string, st pictureStyle) error {
	n := len(x) / d
	shown := min(n, maxDrawnPoints)
	what := fmt.Sprintf("%s: %s samples", name, thousands(n))
	if shown < n {
		what += fmt.Sprintf(" (the first %s drawn)", thousands(shown))
	}
	if d == 1 {
		vals := make(plotter.Values, shown)
		for i := range vals {
			vals[i] = float64(x[i])
		}
		p := newPlot(pictureStyle{size: st.size, caption: st.caption}, what, "x0", "samples per unit", box{})
		h, err := plotter.NewHist(vals, 60)
		if err != nil {
			return err
		}
		h.Normalize(1)
		h.FillColor, h.LineStyle.Width = sampleColor, 0
		p.Add(h)
		p.Y.Label.Text = "density"
		return savePicture(path, p, st.size)
	}
	if d > 2 {
		what += fmt.Sprintf(", coordinates x0 and x1 of %d", d)
	}
	r := emptyBox()
	xy := make(plotter.XYs, shown)
	for i := range xy {
		xy[i] = plotter.XY{X: float64(x[i*d]), Y: float64(x[i*d+1])}
		r.add(xy[i].X, xy[i].Y)
	}
	if st.density != nil {
		for i := 0; i+1 < len(st.density.pts); i += 2 {
			r.add(float64(st.density.pts[i]), float64(st.density.pts[i+1]))
		}
		what += "; data density shaded"
	}
	r = r.square()
	p := newPlot(st, what, "x0", "x1", r)
	sc, err := plotter.NewScatter(xy)
	if err != nil {
		return err
	}
	sc.Shape = draw.CircleGlyph{}
	sc.Radius = glyphRadius(shown)
	c := sampleColor
	if shown > 2_000 {
		c.A = 140 // let overlaps show where the samples crowd
	}
	sc.Color = c
	p.Add(sc)
	fixRange(p, r)
	return savePicture(path, p, st.size)
}

// trajectories are the states of the first k particles at every solver step, in the
// data's units.
type trajectories struct {
	k, d int
	t    []float64
	x    [][]float32 // one k×d slice a state
	data weights.DataInfo
}

// onStep records a state; it is the solver's OnStep (x is the whole batch, in the
// network's space).
func (tr *trajectories) onStep(t float64, x []float32) {
	s := append([]float32(nil), x[:tr.k*tr.d]...)
	tr.data.ToData(s)
	tr.t = append(tr.t, t)
	tr.x = append(tr.x, s)
}

// writeTrajectoriesCSV writes the header t,id,x0,x1,… and a row for each particle at
// each recorded time, time by time; id i is the i-th sample.
func writeTrajectoriesCSV(w io.Writer, tr *trajectories) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString("t,id")
	for j := 0; j < tr.d; j++ {
		bw.WriteString(",x" + strconv.Itoa(j))
	}
	bw.WriteByte('\n')
	var buf []byte
	for s, x := range tr.x {
		for i := 0; i < tr.k; i++ {
			buf = strconv.AppendFloat(buf[:0], tr.t[s], 'g', -1, 64)
			buf = append(buf, ',')
			buf = strconv.AppendInt(buf, int64(i), 10)
			for _, v := range x[i*tr.d : (i+1)*tr.d] {
				buf = append(buf, ',')
				buf = strconv.AppendFloat(buf, float64(v), 'g', -1, 32)
			}
			buf = append(buf, '\n')
			if _, err := bw.Write(buf); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

// drawTrajectories draws the recorded paths into a PNG at path: each particle's path in
// its first two coordinates (x0 against t when d = 1), starts in grey, ends in blue.
func drawTrajectories(path string, tr *trajectories, name string, st pictureStyle) error {
	if len(tr.x) == 0 {
		return fmt.Errorf("no states recorded")
	}
	what := fmt.Sprintf("%s: %s %s, %d states each", name, thousands(tr.k), plural(tr.k, "trajectory", "trajectories"), len(tr.x))
	// coord gives particle i's point at state s.
	coord := func(s, i int) (float64, float64) {
		if tr.d == 1 {
			return tr.t[s], float64(tr.x[s][i])
		}
		return float64(tr.x[s][i*tr.d]), float64(tr.x[s][i*tr.d+1])
	}
	xLabel, yLabel := "x0", "x1"
	if tr.d == 1 {
		xLabel, yLabel = "t", "x0"
		st.density = nil
	} else if tr.d > 2 {
		what += fmt.Sprintf(", coordinates x0 and x1 of %d", tr.d)
	}
	r := emptyBox()
	for s := range tr.x {
		for i := 0; i < tr.k; i++ {
			r.add(coord(s, i))
		}
	}
	if tr.d == 1 {
		// Time and space have their own scales.
		pad := 0.05 * math.Max(r.y1-r.y0, 1e-9)
		r.y0, r.y1 = r.y0-pad, r.y1+pad
		if r.x0 == r.x1 {
			r.x1 = r.x0 + 1
		}
	} else {
		if st.density != nil {
			for i := 0; i+1 < len(st.density.pts); i += 2 {
				r.add(float64(st.density.pts[i]), float64(st.density.pts[i+1]))
			}
			what += "; data density shaded"
		}
		r = r.square()
	}
	p := newPlot(st, what, xLabel, yLabel, r)
	line := pathColor
	line.A = 90
	if tr.k <= 20 {
		line.A = 160
	}
	for i := 0; i < tr.k; i++ {
		xy := make(plotter.XYs, len(tr.x))
		for s := range xy {
			xy[s].X, xy[s].Y = coord(s, i)
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return err
		}
		l.Color, l.Width = line, vg.Points(0.6)
		p.Add(l)
	}
	for _, e := range []struct {
		s int
		c color.Color
	}{{0, startColor}, {len(tr.x) - 1, sampleColor}} {
		xy := make(plotter.XYs, tr.k)
		for i := range xy {
			xy[i].X, xy[i].Y = coord(e.s, i)
		}
		sc, err := plotter.NewScatter(xy)
		if err != nil {
			return err
		}
		sc.Shape, sc.Color, sc.Radius = draw.CircleGlyph{}, e.c, vg.Points(1.6)
		p.Add(sc)
	}
	fixRange(p, r)
	return savePicture(path, p, st.size)
}

// savePicture draws p on a size×size PNG and writes it through outfile (atomic for a
// regular file, written through for a device or FIFO, a symlink's target written).
// The canvas keeps its layout at every size: the resolution scales with it.
func savePicture(path string, p *plot.Plot, size int) error {
	dpi := max(1, int(math.Round(float64(size)*96/defaultPictureSize)))
	img := vgimg.NewWith(vgimg.UseImage(image.NewRGBA(image.Rect(0, 0, size, size))), vgimg.UseDPI(dpi))
	p.Draw(draw.New(img))
	out, err := outfile.Create(path)
	if err != nil {
		return err
	}
	defer out.Abort()
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(out); err != nil {
		return fmt.Errorf("writing %s: %w", path, unwrapPath(err))
	}
	return out.Commit()
}
