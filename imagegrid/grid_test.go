package imagegrid

import (
	"bytes"
	"image/png"
	"testing"
)

// TestLayout: a row per class places image i at row i mod classes, column i / classes,
// after a margin of names; without names the grid is near-square, row by row; each
// cell holds its image's intensities, scaled and clamped.
func TestLayout(t *testing.T) {
	names := []string{"a", "bb", "ccc"}
	for _, c := range []struct {
		n          int
		names      []string
		rows, cols int
	}{{7, names, 3, 3}, {2, names, 2, 1}, {5, nil, 2, 3}, {9, nil, 3, 3}} {
		const h, w, s = 3, 2, 2
		g := New(c.n, c.names, h, w, s)
		if g.Rows != c.rows || g.Cols != c.cols || (c.names == nil) != (g.Margin == 0) {
			t.Fatalf("%d images, names %v: %d×%d, margin %d; want %d×%d", c.n, c.names, g.Rows, g.Cols, g.Margin, c.rows, c.cols)
		}
		px := make([]float32, c.n*h*w)
		for i := range px {
			px[i] = float32(i%5)/4*1.5 - 0.25 // some below 0 and above 1
		}
		var buf bytes.Buffer
		if err := g.Encode(&buf, px); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(&buf)
		if err != nil {
			t.Fatal(err)
		}
		wd, ht := g.Size()
		if b := img.Bounds(); b.Dx() != wd || b.Dy() != ht || ht != c.rows*h*s+(c.rows+1)*s || wd != g.Margin+c.cols*w*s+(c.cols+1)*s {
			t.Fatalf("picture %v, size %d×%d", b, wd, ht)
		}
		for i := range c.n {
			r, col := i/c.cols, i%c.cols
			if c.names != nil {
				r, col = i%c.rows, i/c.rows
			}
			x0, y0 := g.Margin+s+col*(w*s+s), s+r*(h*s+s)
			for p := range h * w {
				v := min(1, max(0, px[i*h*w+p]))
				want := uint32(v*255+0.5) * 0x101
				gy, _, _, _ := img.At(x0+(p%w)*s+1, y0+(p/w)*s+1).RGBA()
				if gy != want {
					t.Fatalf("image %d pixel %d: %d, want %d", i, p, gy>>8, want>>8)
				}
			}
		}
	}
	if err := New(4, nil, 2, 2, 1).Encode(&bytes.Buffer{}, make([]float32, 15)); err == nil {
		t.Error("15 values for 4 images of 2×2: no error")
	}
}
