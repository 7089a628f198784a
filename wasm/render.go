package main

import (
	"image"
	"image/color"
	"math"

	"github.com/hajimehoshi/ebiten/v2"
)

// maxVertices is how many vertices one DrawTriangles call takes: Ebiten's indices are
// 16-bit, so a batch is flushed every 65,536 vertices (16,384 quads).
const maxVertices = 1 << 16

// batch collects quads in one reused vertex slice and draws them in as few calls as
// Ebiten allows.
type batch struct {
	verts []ebiten.Vertex
	idx   []uint16
	src   *ebiten.Image
	sw    float32 // source width and height in texels
	sh    float32
	blend ebiten.Blend
	dst   *ebiten.Image
	calls int // DrawTriangles calls this frame, for tests
}

func newBatch(src *ebiten.Image) *batch {
	b := src.Bounds()
	return &batch{
		src: src, sw: float32(b.Dx()), sh: float32(b.Dy()),
		verts: make([]ebiten.Vertex, 0, maxVertices),
		idx:   make([]uint16, 0, maxVertices/4*6),
	}
}

// begin starts drawing onto dst.
func (b *batch) begin(dst *ebiten.Image, blend ebiten.Blend) {
	b.flush()
	b.dst, b.blend = dst, blend
}

// quad adds a quadrilateral with corners p0..p3 (in order around it) in one colour.
func (b *batch) quad(x0, y0, x1, y1, x2, y2, x3, y3 float32, r, g, bl, a float32) {
	if len(b.verts)+4 > maxVertices {
		b.flush()
	}
	sx, sy := float32(b.src.Bounds().Min.X), float32(b.src.Bounds().Min.Y)
	n := uint16(len(b.verts))
	b.verts = append(b.verts,
		ebiten.Vertex{DstX: x0, DstY: y0, SrcX: sx, SrcY: sy, ColorR: r, ColorG: g, ColorB: bl, ColorA: a},
		ebiten.Vertex{DstX: x1, DstY: y1, SrcX: sx + b.sw, SrcY: sy, ColorR: r, ColorG: g, ColorB: bl, ColorA: a},
		ebiten.Vertex{DstX: x2, DstY: y2, SrcX: sx + b.sw, SrcY: sy + b.sh, ColorR: r, ColorG: g, ColorB: bl, ColorA: a},
		ebiten.Vertex{DstX: x3, DstY: y3, SrcX: sx, SrcY: sy + b.sh, ColorR: r, ColorG: g, ColorB: bl, ColorA: a},
	)
	b.idx = append(b.idx, n, n+1, n+2, n, n+2, n+3)
}

// square adds an axis-aligned square of half-size h centred on (x, y).
func (b *batch) square(x, y, h float32, r, g, bl, a float32) {
	b.quad(x-h, y-h, x+h, y-h, x+h, y+h, x-h, y+h, r, g, bl, a)
}

// line adds a segment of width w.
func (b *batch) line(x0, y0, x1, y1, w float32, r, g, bl, a float32) {
	dx, dy := x1-x0, y1-y0
	l := float32(math.Hypot(float64(dx), float64(dy)))
	if l == 0 {
		return
	}
	nx, ny := -dy/l*w/2, dx/l*w/2
	b.quad(x0+nx, y0+ny, x1+nx, y1+ny, x1-nx, y1-ny, x0-nx, y0-ny, r, g, bl, a)
}

// flush draws what has been collected.
func (b *batch) flush() {
	if len(b.verts) == 0 || b.dst == nil {
		b.verts, b.idx = b.verts[:0], b.idx[:0]
		return
	}
	op := &ebiten.DrawTrianglesOptions{Blend: b.blend, Filter: ebiten.FilterLinear}
	b.dst.DrawTriangles(b.verts, b.idx, b.src, op)
	b.calls++
	b.verts, b.idx = b.verts[:0], b.idx[:0]
}

// dotImage is a soft round dot, for particles.
func dotImage() *ebiten.Image {
	const n = 16
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			dx, dy := (float64(x)+0.5)/n*2-1, (float64(y)+0.5)/n*2-1
			r := math.Hypot(dx, dy)
			a := math.Max(0, math.Min(1, (1-r)*3))
			v := uint8(255 * a)
			img.SetRGBA(x, y, color.RGBA{v, v, v, v})
		}
	}
	return ebiten.NewImageFromImage(img)
}

// whiteImage is a solid white texture, inset so that linear filtering never samples
// outside it.
func whiteImage() *ebiten.Image {
	img := ebiten.NewImage(5, 5)
	img.Fill(color.White)
	return img.SubImage(image.Rect(2, 2, 3, 3)).(*ebiten.Image)
}
