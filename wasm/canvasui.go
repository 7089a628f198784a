package main

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"github.com/flowmatch/flowmatch/explorer"
	"github.com/hajimehoshi/ebiten/v2"
)

// canvasUI draws the controls on the canvas, for the desktop build (and the page with
// ?ui=canvas): a bar of buttons at the top, each cycling one control (left click:
// next, right click: previous), and a time slider at the bottom.
type canvasUI struct {
	buttons   []button
	barBottom float64
	sliderTop float64
	track     explorer.Rect
	dragging  bool
}

type button struct {
	r      explorer.Rect
	label  string
	name   string // a control to cycle, or
	action string // an action to do
	on     bool
}

// layoutButtons places the buttons, wrapping them onto rows, and the time slider. It
// reads the app's clock, not its Scene: Draw builds the one Scene of a frame.
func (u *canvasUI) layoutButtons(g *Game) {
	ts := g.textScale()
	var bs []button
	play := "Play"
	if g.app.Clock().Playing {
		play = "Pause"
	}
	for _, a := range []struct{ label, action string }{
		{play, "toggle"}, {"<", "back"}, {">", "step"}, {"Restart", "restart"}, {"Noise", "noise"}, {"Clear", "clear"}, {"?", "help"},
	} {
		bs = append(bs, button{label: a.label, action: a.action})
	}
	if g.app.Settings().Mode == explorer.ModeYours {
		for _, a := range []struct{ label, action string }{{"Train", "train"}, {"Hold", "hold"}, {"Reset", "reset"}, {"Erase all", "erase-all"}} {
			bs = append(bs, button{label: a.label, action: a.action})
		}
	}
	for _, c := range g.app.Controls() {
		if c.Hidden {
			continue
		}
		label := c.Label + ": " + c.Value
		bs = append(bs, button{label: label, name: c.Name, on: c.Kind == "toggle" && c.Value == "on"})
	}
	pad, gap, h := 6*ts, 4*ts, float64(glyphH)*ts+6*ts
	x, y := gap, gap
	for i := range bs {
		w, _ := textSize(bs[i].label)
		bw := float64(w)*ts + 2*pad
		if x+bw > g.w-gap && x > gap {
			x, y = gap, y+h+gap
		}
		bs[i].r = explorer.Rect{X: x, Y: y, W: bw, H: h}
		x += bw + gap
	}
	u.buttons = bs
	u.barBottom = y + h + gap
	sh := 30 * ts
	u.sliderTop = g.h - sh
	u.track = explorer.Rect{X: 16 * ts, Y: u.sliderTop + sh/2 - 3*ts, W: g.w - 32*ts, H: 6 * ts}
}

// area is the part of the screen left for the panels.
func (u *canvasUI) area(g *Game) explorer.Rect {
	u.layoutButtons(g)
	return explorer.Rect{X: 0, Y: u.barBottom, W: g.w, H: math.Max(1, u.sliderTop-u.barBottom)}
}

// press handles a click on a control; it reports whether there was one.
func (u *canvasUI) press(g *Game, x, y float64, dir int) bool {
	for _, b := range u.buttons {
		if !b.r.Contains(x, y) {
			continue
		}
		switch {
		case b.action == "help":
			g.app.ShowHelp = !g.app.ShowHelp
		case b.action != "":
			if dir > 0 {
				g.app.Do(b.action)
			}
		default:
			g.app.Cycle(b.name, dir)
		}
		return true
	}
	if y >= u.sliderTop {
		u.dragging = true
		u.drag(g, x)
		return true
	}
	return false
}

// drag moves the time to the slider's point under x.
func (u *canvasUI) drag(g *Game, x float64) {
	f := math.Max(0, math.Min(1, (x-u.track.X)/u.track.W))
	g.app.Set("t", strconv.FormatFloat(f*g.app.Clock().End, 'f', 6, 64))
}

// draw draws the buttons and the slider at the frame's scene's time.
func (u *canvasUI) draw(g *Game, screen *ebiten.Image, sc explorer.Scene) {
	u.layoutButtons(g)
	ts := g.textScale()
	for _, b := range u.buttons {
		bg := color.RGBA{34, 40, 54, 255}
		if b.on {
			bg = color.RGBA{40, 90, 120, 255}
		}
		fillRect(screen, b.r.X, b.r.Y, b.r.W, b.r.H, bg)
		g.text.draw(screen, b.label, b.r.X+6*ts, b.r.Y+3*ts, ts, textColor, false)
	}
	tr := u.track
	fillRect(screen, 0, u.sliderTop, g.w, g.h-u.sliderTop, color.RGBA{20, 24, 33, 255})
	fillRect(screen, tr.X, tr.Y, tr.W, tr.H, color.RGBA{50, 58, 76, 255})
	f := 0.0
	if sc.End > 0 {
		f = sc.T / sc.End
	}
	fillRect(screen, tr.X, tr.Y, tr.W*f, tr.H, color.RGBA{90, 170, 220, 255})
	kx := tr.X + tr.W*f
	fillRect(screen, kx-5*ts, tr.Y-6*ts, 10*ts, tr.H+12*ts, color.RGBA{230, 235, 245, 255})
	label := fmt.Sprintf("t = %.3f", sc.T)
	w, _ := textSize(label)
	g.text.draw(screen, label, tr.X+tr.W-float64(w)*ts, tr.Y-20*ts, ts, dimText, false)
}
