package report

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// guidanceColor is a guidance weight's line colour in the image figures.
func guidanceColor(w float64) color.Color {
	switch w {
	case 0:
		return color.RGBA{31, 119, 180, 255}
	case 1:
		return color.RGBA{255, 127, 14, 255}
	case 2:
		return color.RGBA{44, 160, 44, 255}
	}
	return color.RGBA{148, 103, 189, 255}
}

// nfeTicks marks the NFE swept, on a log axis.
type nfeTicks struct{}

func (nfeTicks) Ticks(lo, hi float64) []plot.Tick {
	var t []plot.Tick
	for _, k := range ImageNFE {
		if v := float64(k); v >= lo && v <= hi {
			t = append(t, plot.Tick{Value: v, Label: strconv.Itoa(k)})
		}
	}
	return t
}

// PlotImageSweep draws an image model's sweep: the classifier's accuracy against NFE
// into accFile and the Fréchet distance against NFE into fdFile, a line per guidance
// weight, the real-data floor (and, for accuracy, the test images' score) as lines.
func PlotImageSweep(accFile, fdFile, model string, sw ImageSweep, testAcc float64) error {
	for _, fig := range []struct {
		file, title, y string
		value          func(ImagePoint) float64
		refs           []float64
		refNames       []string
		log            bool // a log axis where every value is positive
		unit           bool // a fraction: the axis stays within [0, 1]
	}{
		{accFile, "classifier accuracy against NFE", "accuracy (intended class)",
			func(p ImagePoint) float64 { return p.Accuracy },
			[]float64{sw.FloorAccuracy, testAcc}, []string{fmt.Sprintf("%d real training images", sw.N), "real test images"}, false, true},
		{fdFile, "Fréchet distance to the test set against NFE", "FD in the classifier's features",
			func(p ImagePoint) float64 { return p.FD },
			[]float64{sw.FloorFD}, []string{fmt.Sprintf("floor: %d real training images", sw.N)}, true, false},
	} {
		// A log axis needs every value positive: a degenerate judge (features that do
		// not vary) gives FD 0, and rounding can take one a hair below.
		if fig.log && !allPositive(sw, fig.value, fig.refs) {
			fig.log = false
		}
		p := plot.New()
		p.Title.Text = fmt.Sprintf("%s: %s (midpoint, n = %d)", model, fig.title, sw.N)
		p.X.Label.Text, p.Y.Label.Text = "network evaluations (NFE)", fig.y
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, nfeTicks{}
		if fig.log {
			p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
		}
		p.Legend.Top = fig.log // FD falls with NFE and accuracy rises: the legend goes where the lines are not
		if err := addGuidanceLines(p, sw, fig.value); err != nil {
			return err
		}
		for i, v := range fig.refs {
			ref := plotter.NewFunction(func(float64) float64 { return v })
			ref.Color, ref.Dashes = color.Gray{Y: uint8(150 - 60*i)}, []vg.Length{vg.Points(3), vg.Points(3)}
			p.Add(ref)
			p.Legend.Add(fig.refNames[i], ref)
			p.Y.Min, p.Y.Max = math.Min(p.Y.Min, v), math.Max(p.Y.Max, v)
		}
		switch pad := 0.05 * (p.Y.Max - p.Y.Min); {
		case fig.log:
			p.Y.Min, p.Y.Max = p.Y.Min/1.3, p.Y.Max*1.3
		case fig.unit:
			p.Y.Min, p.Y.Max = math.Max(0, p.Y.Min-0.02), math.Min(1, p.Y.Max+0.02)
		default:
			p.Y.Min, p.Y.Max = p.Y.Min-pad-1e-9, p.Y.Max+pad+1e-9
		}
		p.Add(plotter.NewGrid())
		if err := savePNG(fig.file, [][]*plot.Plot{{p}}, 16*vg.Centimeter, 11*vg.Centimeter); err != nil {
			return err
		}
	}
	return nil
}

// addGuidanceLines adds a line with markers per guidance weight of the sweep.
func addGuidanceLines(p *plot.Plot, sw ImageSweep, value func(ImagePoint) float64) error {
	for _, w := range ImageGuidance {
		var xy plotter.XYs
		for _, pt := range sw.Points {
			if pt.Guidance == w {
				xy = append(xy, plotter.XY{X: float64(pt.NFE), Y: value(pt)})
			}
		}
		if len(xy) == 0 {
			continue
		}
		l, s, err := plotter.NewLinePoints(xy)
		if err != nil {
			return err
		}
		l.Color, l.Width = guidanceColor(w), vg.Points(1.5)
		s.Color, s.Shape = guidanceColor(w), draw.CircleGlyph{}
		p.Add(l, s)
		p.Legend.Add(fmt.Sprintf("guidance w = %g", w), l, s)
	}
	return nil
}

// allPositive reports whether every point's value and every reference is above 0.
func allPositive(sw ImageSweep, value func(ImagePoint) float64, refs []float64) bool {
	for _, pt := range sw.Points {
		if !(value(pt) > 0) {
			return false
		}
	}
	for _, v := range refs {
		if !(v > 0) {
			return false
		}
	}
	return true
}
