package main

import (
	"image/color"
	"strings"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/ebitenutil"
)

// Ebiten's debug font: ASCII glyphs in 6×16 cells.
const (
	glyphW = 6
	glyphH = 16
)

// asciiText replaces the few non-ASCII characters the app's strings use.
var asciiText = strings.NewReplacer("x̂₁", "x1", "x̂", "x^", "₁", "1", "·", "|", "↔", "<->", "…", "...", "−", "-", "→", "->", "←", "<-", "↑", "up", "↓", "down", "σ", "s", "≥", ">=", "×", "x")

// textCache keeps one image per string drawn recently, so that text costs a DrawImage
// per frame instead of re-rendering glyphs.
type textCache struct {
	imgs map[string]*ebiten.Image
	used map[string]bool
}

func newTextCache() *textCache {
	return &textCache{imgs: map[string]*ebiten.Image{}, used: map[string]bool{}}
}

// size is the size of s in pixels at scale 1.
func textSize(s string) (w, h int) {
	lines := strings.Split(asciiText.Replace(s), "\n")
	for _, l := range lines {
		w = max(w, len(l)*glyphW)
	}
	return w, len(lines) * glyphH
}

// draw writes s at (x, y) scaled by scale, over a translucent backing when bg.
func (tc *textCache) draw(dst *ebiten.Image, s string, x, y, scale float64, clr color.Color, bg bool) {
	if s == "" {
		return
	}
	img := tc.imgs[s]
	if img == nil {
		w, h := textSize(s)
		img = ebiten.NewImage(w+4, h)
		ebitenutil.DebugPrintAt(img, asciiText.Replace(s), 2, 0)
		tc.imgs[s] = img
	}
	tc.used[s] = true
	if bg {
		b := img.Bounds()
		fillRect(dst, x-2*scale, y-1*scale, float64(b.Dx())*scale+4*scale, float64(b.Dy())*scale+2*scale, color.RGBA{8, 10, 16, 170})
	}
	op := &ebiten.DrawImageOptions{}
	op.GeoM.Scale(scale, scale)
	op.GeoM.Translate(x, y)
	op.ColorScale.ScaleWithColor(clr)
	dst.DrawImage(img, op)
}

// sweep frees the images of strings not drawn since the last sweep.
func (tc *textCache) sweep() {
	if len(tc.imgs) < 64 {
		return
	}
	for s, img := range tc.imgs {
		if !tc.used[s] {
			img.Deallocate()
			delete(tc.imgs, s)
		}
	}
	clear(tc.used)
}

var pixel = func() *ebiten.Image {
	img := ebiten.NewImage(1, 1)
	img.Fill(color.White)
	return img
}()

// fillRect fills a rectangle (premultiplied colours blend as usual).
func fillRect(dst *ebiten.Image, x, y, w, h float64, clr color.Color) {
	op := &ebiten.DrawImageOptions{}
	op.GeoM.Scale(w, h)
	op.GeoM.Translate(x, y)
	op.ColorScale.ScaleWithColor(clr)
	dst.DrawImage(pixel, op)
}
