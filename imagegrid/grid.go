package imagegrid

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Layout places n images of H×W intensities in [0, 1] on a grey picture, Scale screen
// pixels per image pixel, with one image pixel of gap between and around them.
type Layout struct {
	N, Rows, Cols int
	H, W, Scale   int
	// ByClass: image i is in row i mod Rows, column i / Rows, its row named Names[row]
	// in a left margin Margin pixels wide. Otherwise the grid fills row by row and
	// Margin is 0.
	ByClass bool
	Names   []string
	Margin  int
}

// Colours of the grid: intensity 0 is black and 1 white, as Fashion-MNIST shows.
var (
	background = color.Gray{Y: 64}
	text       = color.Gray{Y: 235}
)

const pad = 6 // pixels either side of the names

// New lays out n images of h×w pixels at scale. With names, image i belongs to class
// i mod len(names) and the grid has a row per class (as many as n fills), named in the
// margin; without, it is near-square.
func New(n int, names []string, h, w, scale int) Layout {
	g := Layout{N: n, H: h, W: w, Scale: scale}
	if len(names) > 0 {
		k := len(names)
		g.ByClass, g.Rows, g.Cols = true, min(n, k), (n+k-1)/k
		g.Names = names[:g.Rows]
		face := basicfont.Face7x13
		for _, name := range g.Names {
			g.Margin = max(g.Margin, font.MeasureString(face, name).Ceil()+2*pad)
		}
		return g
	}
	g.Cols = int(math.Ceil(math.Sqrt(float64(n))))
	g.Rows = (n + g.Cols - 1) / g.Cols
	return g
}

// gap is the space between images: one image pixel.
func (g Layout) gap() int { return g.Scale }

// Size is the picture's width and height in pixels.
func (g Layout) Size() (width, height int) {
	return g.Margin + g.Cols*g.W*g.Scale + (g.Cols+1)*g.gap(), g.Rows*g.H*g.Scale + (g.Rows+1)*g.gap()
}

// Cell is image i's row and column.
func (g Layout) Cell(i int) (row, col int) {
	if g.ByClass {
		return i % g.Rows, i / g.Rows
	}
	return i / g.Cols, i % g.Cols
}

// Origin is the top left pixel of the image in row r, column c.
func (g Layout) Origin(r, c int) (x, y int) {
	return g.Margin + g.gap() + c*(g.W*g.Scale+g.gap()), g.gap() + r*(g.H*g.Scale+g.gap())
}

// Draw makes the picture of px, N images of H×W intensities in [0, 1] (clamped); px
// must hold N·H·W values.
func (g Layout) Draw(px []float32) *image.Gray {
	width, height := g.Size()
	img := image.NewGray(image.Rect(0, 0, width, height))
	for i := range img.Pix {
		img.Pix[i] = background.Y
	}
	d := g.H * g.W
	for i := range g.N {
		r, c := g.Cell(i)
		x0, y0 := g.Origin(r, c)
		for y := range g.H * g.Scale {
			row := img.Pix[(y0+y)*img.Stride+x0:]
			src := px[i*d+(y/g.Scale)*g.W:]
			for x := range g.W * g.Scale {
				row[x] = uint8(math.Round(255 * float64(min(1, max(0, src[x/g.Scale])))))
			}
		}
	}
	if g.ByClass {
		dr := font.Drawer{Dst: img, Src: image.NewUniform(text), Face: basicfont.Face7x13}
		m := basicfont.Face7x13.Metrics()
		for r, name := range g.Names {
			_, y0 := g.Origin(r, 0)
			mid := y0 + g.H*g.Scale/2
			baseline := mid + (m.Ascent.Ceil()-m.Descent.Ceil())/2
			dr.Dot = fixed.P(pad, baseline)
			dr.DrawString(name)
		}
	}
	return img
}

// Encode writes the picture of px as a PNG.
func (g Layout) Encode(w io.Writer, px []float32) error {
	if len(px) < g.N*g.H*g.W {
		return fmt.Errorf("imagegrid: %d values for %d images of %d×%d", len(px), g.N, g.H, g.W)
	}
	return png.Encode(w, g.Draw(px))
}
