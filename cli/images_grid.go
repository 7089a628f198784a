package cli

import (
	"image"
	"image/color"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// gridLayout places n one-channel images on a grey PNG: for all classes a row per class
// (image i in row i mod classes, column i / classes) with the class names in a left
// margin; for one class a near-square grid, filled row by row. Images are scale×scale
// pixels per image pixel, with gap pixels between and around them.
type gridLayout struct {
	n, rows, cols int
	byClass       bool
	names         []string // a row's name, byClass only
	h, w, scale   int      // an image's height and width, the zoom
	margin        int      // the names' width, 0 without names
}

// Colours of the grid: intensity 0 is black and 1 white, as Fashion-MNIST shows.
var (
	gridBackground = color.Gray{Y: 64}
	gridText       = color.Gray{Y: 235}
)

const (
	gridPad = 6 // pixels either side of the names
)

func newGridLayout(r imageRun, names []string, h, w, scale int) gridLayout {
	g := gridLayout{n: r.n, h: h, w: w, scale: scale}
	if r.labels == nil {
		k := len(names)
		g.byClass, g.rows, g.cols = true, min(r.n, k), (r.n+k-1)/k
		g.names = names[:g.rows]
		face := basicfont.Face7x13
		for _, name := range g.names {
			g.margin = max(g.margin, font.MeasureString(face, name).Ceil()+2*gridPad)
		}
		return g
	}
	g.cols = int(math.Ceil(math.Sqrt(float64(r.n))))
	g.rows = (r.n + g.cols - 1) / g.cols
	return g
}

// gap is the space between images: one image pixel.
func (g gridLayout) gap() int { return g.scale }

// size is the picture's width and height in pixels.
func (g gridLayout) size() (width, height int) {
	return g.margin + g.cols*g.w*g.scale + (g.cols+1)*g.gap(), g.rows*g.h*g.scale + (g.rows+1)*g.gap()
}

// cell is image i's row and column.
func (g gridLayout) cell(i int) (row, col int) {
	if g.byClass {
		return i % g.rows, i / g.rows
	}
	return i / g.cols, i % g.cols
}

// origin is the top left pixel of the image in row r, column c.
func (g gridLayout) origin(r, c int) (x, y int) {
	return g.margin + g.gap() + c*(g.w*g.scale+g.gap()), g.gap() + r*(g.h*g.scale+g.gap())
}

// draw makes the picture of px, n images of h×w intensities in [0, 1].
func (g gridLayout) draw(px []float32) *image.Gray {
	width, height := g.size()
	img := image.NewGray(image.Rect(0, 0, width, height))
	for i := range img.Pix {
		img.Pix[i] = gridBackground.Y
	}
	d := g.h * g.w
	for i := range g.n {
		r, c := g.cell(i)
		x0, y0 := g.origin(r, c)
		for y := range g.h * g.scale {
			row := img.Pix[(y0+y)*img.Stride+x0:]
			src := px[i*d+(y/g.scale)*g.w:]
			for x := range g.w * g.scale {
				row[x] = uint8(math.Round(255 * float64(min(1, max(0, src[x/g.scale])))))
			}
		}
	}
	if g.byClass {
		dr := font.Drawer{Dst: img, Src: image.NewUniform(gridText), Face: basicfont.Face7x13}
		m := basicfont.Face7x13.Metrics()
		for r, name := range g.names {
			_, y0 := g.origin(r, 0)
			mid := y0 + g.h*g.scale/2
			baseline := mid + (m.Ascent.Ceil()-m.Descent.Ceil())/2
			dr.Dot = fixed.P(gridPad, baseline)
			dr.DrawString(name)
		}
	}
	return img
}

// encode writes the grid of px as a PNG.
func (g gridLayout) encode(w io.Writer, px []float32) error {
	return png.Encode(w, g.draw(px))
}
