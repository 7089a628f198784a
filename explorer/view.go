package explorer

import (
	"math"
	"sort"
)

// Rect is a rectangle on the screen, in pixels.
type Rect struct{ X, Y, W, H float64 }

// Contains reports whether the point is inside r.
func (r Rect) Contains(x, y float64) bool {
	return x >= r.X && x < r.X+r.W && y >= r.Y && y < r.Y+r.H
}

// View maps data coordinates into a viewport: the square [−Half, Half]² around
// (CX, CY) fits the viewport's shorter side, y pointing up.
type View struct {
	Port   Rect
	CX, CY float64
	Half   float64
}

func (v View) scale() float64 {
	return math.Min(v.Port.W, v.Port.H) / (2 * v.Half)
}

// ToScreen maps a data point to pixels.
func (v View) ToScreen(x, y float64) (sx, sy float64) {
	s := v.scale()
	return v.Port.X + v.Port.W/2 + (x-v.CX)*s, v.Port.Y + v.Port.H/2 - (y-v.CY)*s
}

// ToData maps pixels to a data point.
func (v View) ToData(sx, sy float64) (x, y float64) {
	s := v.scale()
	return v.CX + (sx-v.Port.X-v.Port.W/2)/s, v.CY - (sy-v.Port.Y-v.Port.H/2)/s
}

// PixelsPerUnit is the scale of the view.
func (v View) PixelsPerUnit() float64 { return v.scale() }

// Bounds returns the data rectangle the viewport shows: x0, y0 (bottom left), x1, y1.
func (v View) Bounds() (x0, y0, x1, y1 float64) {
	x0, y1 = v.ToData(v.Port.X, v.Port.Y)
	x1, y0 = v.ToData(v.Port.X+v.Port.W, v.Port.Y+v.Port.H)
	return
}

// Split divides the screen into n viewports (1 or 2): side by side on a landscape
// screen, one above the other on a portrait one. A gap of pixels separates them.
func Split(w, h float64, n int, gap float64) []Rect {
	if n <= 1 {
		return []Rect{{0, 0, w, h}}
	}
	if w >= h {
		cw := (w - gap) / 2
		return []Rect{{0, 0, cw, h}, {cw + gap, 0, cw, h}}
	}
	ch := (h - gap) / 2
	return []Rect{{0, 0, w, ch}, {0, ch + gap, w, ch}}
}

// extent is the half-width of a square around the origin that holds nearly all the
// points (d values each, of which the first two are the plane's x and y): the 99th
// percentile of max(|x|, |y|), padded by 10 %. It looks at no more than 1,000 points;
// points of one dimension have none (0).
func extent(pts []float32, d int) float64 {
	n := len(pts) / d
	if n == 0 || d < 2 {
		return 0
	}
	stride := max(1, n/1000)
	var m []float64
	for i := 0; i < n; i += stride {
		a := math.Max(math.Abs(float64(pts[i*d])), math.Abs(float64(pts[i*d+1])))
		if !math.IsNaN(a) && !math.IsInf(a, 0) {
			m = append(m, a)
		}
	}
	if len(m) == 0 {
		return 0
	}
	sort.Float64s(m)
	return 1.1 * m[min(len(m)-1, int(0.99*float64(len(m))))]
}
