package main

import (
	"github.com/flowmatch/flowmatch/explorer"
	"github.com/hajimehoshi/ebiten/v2"
)

// imageTiles are the Images mode's pictures as Ebiten images, one per image and one per
// x̂₁, rewritten only when the app hands over a new grid (a new step shown).
type imageTiles struct {
	grid     *explorer.ImageGrid
	x, clean []*ebiten.Image
	w, h     int
	pix      []byte
}

// drawImages draws the Images mode's grid: each image scaled to its cell with
// nearest-neighbour filtering (the pixels stay square), its class over its corner where
// the cell is large enough, and x̂₁ in the second grid when it is shown.
func (g *Game) drawImages(dst *ebiten.Image, grid *explorer.ImageGrid) {
	tl := &g.tiles
	if tl.grid != grid {
		tl.update(grid)
	}
	ts := g.textScale()
	draw := func(imgs []*ebiten.Image, cells []explorer.Rect, labels bool) {
		for i, c := range cells {
			if i >= len(imgs) || imgs[i] == nil {
				continue
			}
			op := &ebiten.DrawImageOptions{Filter: ebiten.FilterNearest}
			op.GeoM.Scale(c.W/float64(tl.w), c.H/float64(tl.h))
			op.GeoM.Translate(c.X, c.Y)
			dst.DrawImage(imgs[i], op)
			if labels && i < len(grid.Labels) && c.W >= 56*ts {
				s := grid.Labels[i]
				if maxCols := int(c.W / (glyphW * ts)); len(s) > maxCols {
					s = s[:maxCols]
				}
				g.text.draw(dst, s, c.X+2*ts, c.Y+2*ts, ts, dimText, true)
			}
		}
	}
	draw(tl.x, grid.Cells, true)
	if grid.Clean != nil {
		draw(tl.clean, grid.CleanCells, false)
	}
}

// update writes a new grid's intensities into the tiles: grey for one channel, RGB for
// three (the first channel's grey otherwise).
func (tl *imageTiles) update(grid *explorer.ImageGrid) {
	tl.grid = grid
	if len(grid.Shape) != 3 {
		return
	}
	ch, h, w := grid.Shape[0], grid.Shape[1], grid.Shape[2]
	if w != tl.w || h != tl.h {
		for _, im := range append(tl.x, tl.clean...) {
			im.Deallocate()
		}
		tl.x, tl.clean, tl.w, tl.h = nil, nil, w, h
		tl.pix = make([]byte, 4*w*h)
	}
	write := func(imgs []*ebiten.Image, src [][]float32) []*ebiten.Image {
		for len(imgs) < len(src) {
			imgs = append(imgs, ebiten.NewImage(w, h))
		}
		for i, x := range src {
			for p := 0; p < w*h; p++ {
				r, gr, b := x[p], x[p], x[p]
				if ch == 3 {
					gr, b = x[w*h+p], x[2*w*h+p]
				}
				tl.pix[4*p], tl.pix[4*p+1], tl.pix[4*p+2], tl.pix[4*p+3] = byte(255*r+0.5), byte(255*gr+0.5), byte(255*b+0.5), 255
			}
			imgs[i].WritePixels(tl.pix)
		}
		return imgs
	}
	tl.x = write(tl.x, grid.X)
	if grid.Clean != nil {
		tl.clean = write(tl.clean, grid.Clean)
	}
}
