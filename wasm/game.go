package main

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"time"

	"github.com/flowmatch/flowmatch/explorer"
	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"
)

var (
	background = color.RGBA{11, 14, 20, 255}
	panelBG    = color.RGBA{16, 20, 28, 255}
	textColor  = color.RGBA{225, 230, 240, 255}
	dimText    = color.RGBA{150, 160, 178, 255}
	errColor   = color.RGBA{255, 140, 120, 255}
)

// Game is the Ebiten front end: it forwards input to the explorer app, calls its
// Update once a tick and draws its Scene. All the logic lives in package explorer.
type Game struct {
	app   *explorer.App
	ui    *canvasUI // on-canvas controls (desktop, or ?ui=canvas), or nil
	scale float64   // device pixels per CSS pixel
	w, h  float64

	dots, lines *batch
	text        *textCache
	dens        map[*explorer.DensityGrid]*densityImage
	tiles       imageTiles // the Images mode's pictures (images.go)

	keys    []ebiten.Key
	touches []ebiten.TouchID

	onFrame func(*Game, *ebiten.Image) // called after each Draw (the browser bridge, screenshots)
	// domDrops: the page turns pointer events into drops itself (the browser without the
	// canvas controls), which also catches taps shorter than a frame.
	domDrops bool
	err      error // returned from Update to stop the game

	updateMs, drawMs float64 // eased CPU time of Update and Draw, for the status
	particleCalls    int     // DrawTriangles calls that drew the particles last frame
}

func ease(avg *float64, d time.Duration) {
	ms := float64(d) / 1e6
	if *avg == 0 {
		*avg = ms
	}
	*avg += 0.1 * (ms - *avg)
}

type densityImage struct {
	img  *ebiten.Image
	pix  []byte
	rows int
}

func newGame(app *explorer.App, withUI bool) *Game {
	g := &Game{
		app: app, scale: 1,
		dots: newBatch(dotImage()), lines: newBatch(whiteImage()),
		text: newTextCache(),
		dens: map[*explorer.DensityGrid]*densityImage{},
	}
	if withUI {
		g.ui = &canvasUI{}
	}
	return g
}

// Update handles input and advances the app by one tick.
func (g *Game) Update() error {
	if g.err != nil {
		return g.err
	}
	start := time.Now()
	defer func() { ease(&g.updateMs, time.Since(start)) }()
	shift := ebiten.IsKeyPressed(ebiten.KeyShift)
	g.keys = inpututil.AppendJustPressedKeys(g.keys[:0])
	for _, k := range g.keys {
		g.app.Key(k.String(), shift)
	}
	if inpututil.IsMouseButtonJustPressed(ebiten.MouseButtonLeft) {
		x, y := ebiten.CursorPosition()
		g.press(float64(x), float64(y), 1)
	}
	if inpututil.IsMouseButtonJustPressed(ebiten.MouseButtonRight) {
		x, y := ebiten.CursorPosition()
		g.press(float64(x), float64(y), -1)
	}
	if !g.domDrops && ebiten.IsMouseButtonPressed(ebiten.MouseButtonLeft) && (g.ui == nil || !g.ui.dragging) {
		x, y := ebiten.CursorPosition()
		g.app.DragAt(float64(x), float64(y)) // a stroke of the brush ("Your data")
	}
	if g.ui != nil && g.ui.dragging {
		if ebiten.IsMouseButtonPressed(ebiten.MouseButtonLeft) {
			x, _ := ebiten.CursorPosition()
			g.ui.drag(g, float64(x))
		} else if len(ebiten.AppendTouchIDs(nil)) == 0 {
			g.ui.dragging = false
		}
	}
	g.touches = inpututil.AppendJustPressedTouchIDs(g.touches[:0])
	for _, id := range g.touches {
		x, y := ebiten.TouchPosition(id)
		g.press(float64(x), float64(y), 1)
	}
	if g.ui != nil && g.ui.dragging {
		for _, id := range ebiten.AppendTouchIDs(nil) {
			x, _ := ebiten.TouchPosition(id)
			g.ui.drag(g, float64(x))
		}
	}
	g.app.Update()
	return nil
}

// press handles a click or tap: a control if one is under it, else a drop.
func (g *Game) press(x, y float64, dir int) {
	if g.ui != nil && g.ui.press(g, x, y, dir) {
		return
	}
	if dir > 0 && !g.domDrops {
		g.app.Press(x, y)
	}
}

// Layout renders at the device's pixel density so that dots stay crisp.
func (g *Game) Layout(ow, oh int) (int, int) {
	w, h := g.LayoutF(float64(ow), float64(oh))
	return int(w), int(h)
}

// LayoutF implements ebiten.LayoutFer.
func (g *Game) LayoutF(ow, oh float64) (float64, float64) {
	s := ebiten.Monitor().DeviceScaleFactor()
	if s <= 0 {
		s = 1
	}
	g.scale = s
	w, h := math.Ceil(ow*s), math.Ceil(oh*s)
	if w != g.w || h != g.h {
		g.w, g.h = w, h
	}
	area := explorer.Rect{X: 0, Y: 0, W: w, H: h}
	if g.ui != nil {
		area = g.ui.area(g)
	}
	g.app.SetArea(area)
	return w, h
}

// textScale is the scale of the 6×16 debug font.
func (g *Game) textScale() float64 { return math.Max(1, math.Round(g.scale)) }

// Draw draws the app's scene.
func (g *Game) Draw(screen *ebiten.Image) {
	start := time.Now()
	screen.Fill(background)
	sc := g.app.Scene()
	ts := g.textScale()
	g.particleCalls = 0
	for i := range sc.Panels {
		g.drawPanel(screen, &sc.Panels[i])
	}
	if g.ui != nil {
		g.ui.draw(g, screen, sc)
	}
	// The heads-up display, bottom left of the panels.
	hudY := g.h - float64(glyphH)*ts - 6*ts
	if g.ui != nil {
		hudY = g.ui.sliderTop - float64(glyphH)*ts - 6*ts
	}
	g.text.draw(screen, sc.HUD, 8*ts, hudY, ts, textColor, true)
	if sc.Message != "" {
		clr := dimText
		if sc.Fatal {
			clr = errColor
		}
		g.centered(screen, sc.Message, g.w/2, g.h/2, ts*map[bool]float64{true: 1.5, false: 1}[sc.Fatal], clr)
	}
	if sc.Help != nil {
		g.drawHelp(screen, sc.Help, ts)
	}
	g.text.sweep()
	g.app.Frame()
	ease(&g.drawMs, time.Since(start))
	if g.onFrame != nil {
		g.onFrame(g, screen)
	}
}

func (g *Game) centered(dst *ebiten.Image, s string, cx, cy, scale float64, clr color.Color) {
	// Wrap long messages to the width available.
	maxCols := max(20, int(g.w*0.8/(glyphW*scale)))
	s = wrap(s, maxCols)
	w, h := textSize(s)
	g.text.draw(dst, s, cx-float64(w)*scale/2, cy-float64(h)*scale/2, scale, clr, true)
}

func (g *Game) drawHelp(dst *ebiten.Image, help []explorer.Shortcut, ts float64) {
	s := "Keyboard and mouse\n\n"
	for _, h := range help {
		s += fmt.Sprintf("%-12s %s\n", asciiText.Replace(h.Keys), h.What)
	}
	s += "\nH: close this help"
	g.centered(dst, s, g.w/2, g.h/2, ts, textColor)
}

func (g *Game) drawPanel(screen *ebiten.Image, p *explorer.Panel) {
	port := p.View.Port
	r := image.Rect(int(port.X), int(port.Y), int(math.Ceil(port.X+port.W)), int(math.Ceil(port.Y+port.H)))
	dst := screen.SubImage(r).(*ebiten.Image)
	dst.Fill(panelBG)
	v := p.View
	ts := g.textScale()
	// Pos is nil while the model loads, when it failed, and for a model that is not 2-D:
	// then the panel shows its title, figures and message only.
	if p.Pos != nil {
		if p.Density != nil {
			g.drawDensity(dst, v, p.Density)
		}
		g.drawData(dst, v, p.Data)
		g.drawTrails(dst, v, p.Trails)
		g.drawParticles(dst, v, p.Pos, p.Colors)
		if p.Field != nil {
			g.drawField(dst, v, p.Field)
		}
		g.drawGroups(dst, v, p.Groups)
	} else if p.Data != nil {
		g.drawData(dst, v, p.Data) // "Your data" before a model: the points alone
	}
	if p.Images != nil {
		g.drawImages(dst, p.Images)
	}
	if len(p.Loss) > 1 {
		g.drawLoss(dst, port, p.Loss)
	}
	g.text.draw(dst, p.Title, port.X+8*ts, port.Y+6*ts, ts, textColor, true)
	g.text.draw(dst, p.Info, port.X+8*ts, port.Y+6*ts+float64(glyphH+4)*ts, ts, dimText, true)
	if p.Message != "" {
		g.centeredIn(dst, p.Message, port, ts)
	}
}

func (g *Game) centeredIn(dst *ebiten.Image, s string, port explorer.Rect, ts float64) {
	maxCols := max(20, int(port.W*0.85/(glyphW*ts)))
	s = wrap(s, maxCols)
	w, h := textSize(s)
	g.text.draw(dst, s, port.X+port.W/2-float64(w)*ts/2, port.Y+port.H/2-float64(h)*ts/2, ts, errColor, true)
}

// dotSize is the particles' half-size in pixels: smaller when there are many.
func (g *Game) dotSize(n int) float32 {
	s := 2.6 - 0.35*math.Log10(math.Max(float64(n), 100)/1000)
	return float32(math.Max(1.1, s) * g.scale)
}

func (g *Game) drawParticles(dst *ebiten.Image, v explorer.View, pos, colors []float32) {
	n := len(pos) / explorer.PlotDim
	h := g.dotSize(n)
	b := g.dots
	b.begin(dst, ebiten.BlendSourceOver)
	sx, sy := v.ToScreen(0, 0)
	k := float32(v.PixelsPerUnit())
	ox, oy := float32(sx), float32(sy)
	calls := b.calls
	for i := 0; i < n; i++ {
		x, y := ox+pos[2*i]*k, oy-pos[2*i+1]*k
		b.square(x, y, h, colors[3*i], colors[3*i+1], colors[3*i+2], 0.9)
	}
	b.flush()
	g.particleCalls += b.calls - calls
}

func (g *Game) drawData(dst *ebiten.Image, v explorer.View, pts []float32) {
	if len(pts) == 0 {
		return
	}
	b := g.dots
	b.begin(dst, ebiten.BlendSourceOver)
	h := float32(1.6 * g.scale)
	for i := 0; i+1 < len(pts); i += 2 {
		x, y := v.ToScreen(float64(pts[i]), float64(pts[i+1]))
		b.square(float32(x), float32(y), h, 0.85, 0.88, 0.95, 0.28)
	}
	b.flush()
}

func (g *Game) drawTrails(dst *ebiten.Image, v explorer.View, trails []explorer.Trail) {
	if len(trails) == 0 {
		return
	}
	b := g.lines
	b.begin(dst, ebiten.BlendSourceOver)
	w := float32(0.8 * g.scale)
	for _, tr := range trails {
		n := len(tr.Pts) / 2
		for j := 1; j < n; j++ {
			x0, y0 := v.ToScreen(float64(tr.Pts[2*j-2]), float64(tr.Pts[2*j-1]))
			x1, y1 := v.ToScreen(float64(tr.Pts[2*j]), float64(tr.Pts[2*j+1]))
			a := 0.1 + 0.35*float32(j)/float32(n)
			b.line(float32(x0), float32(y0), float32(x1), float32(y1), w, tr.R, tr.G, tr.B, a)
		}
	}
	b.flush()
}

func (g *Game) drawField(dst *ebiten.Image, v explorer.View, f *explorer.FieldGrid) {
	maxV := f.MaxSpeed()
	if maxV == 0 {
		return
	}
	cell := (f.Box.X1 - f.Box.X0) / float64(f.N) * v.PixelsPerUnit()
	b := g.lines
	b.begin(dst, ebiten.BlendSourceOver)
	w := float32(1.2 * g.scale)
	for i := 0; i < f.N*f.N; i++ {
		x, y := float64(f.Pos[2*i]), float64(f.Pos[2*i+1])
		vx, vy := float64(f.Vel[2*i]), float64(f.Vel[2*i+1])
		sp := math.Hypot(vx, vy)
		if sp == 0 {
			continue
		}
		// Length grows with speed (square root, so slow regions still show a direction).
		l := 0.85 * cell * math.Sqrt(sp/maxV)
		ux, uy := vx/sp, -vy/sp // screen y points down
		sx, sy := v.ToScreen(x, y)
		x0, y0 := sx-ux*l/2, sy-uy*l/2
		x1, y1 := sx+ux*l/2, sy+uy*l/2
		c := float32(0.55 + 0.45*sp/maxV)
		b.line(float32(x0), float32(y0), float32(x1), float32(y1), w, 0.6*c, 0.9*c, c, 0.8)
		hl := math.Min(l*0.35, 7*g.scale)
		for _, s := range []float64{1, -1} {
			hx := x1 - hl*(ux*0.87-s*uy*0.5)
			hy := y1 - hl*(uy*0.87+s*ux*0.5)
			b.line(float32(x1), float32(y1), float32(hx), float32(hy), w, 0.6*c, 0.9*c, c, 0.8)
		}
	}
	b.flush()
}

func (g *Game) drawDensity(dst *ebiten.Image, v explorer.View, d *explorer.DensityGrid) {
	di := g.dens[d]
	if di == nil {
		for k, old := range g.dens {
			old.img.Deallocate()
			delete(g.dens, k)
		}
		di = &densityImage{img: ebiten.NewImage(d.N, d.N), pix: make([]byte, 4*d.N*d.N), rows: -1}
		g.dens[d] = di
	}
	if di.rows != d.Done() {
		d.RGBA(di.pix)
		di.img.WritePixels(di.pix)
		di.rows = d.Done()
	}
	x0, y0 := v.ToScreen(d.Box.X0, d.Box.Y1)
	x1, _ := v.ToScreen(d.Box.X1, d.Box.Y0)
	op := &ebiten.DrawImageOptions{Filter: ebiten.FilterLinear}
	op.GeoM.Scale((x1-x0)/float64(d.N), (x1-x0)/float64(d.N))
	op.GeoM.Translate(x0, y0)
	dst.DrawImage(di.img, op)
}

func (g *Game) drawGroups(dst *ebiten.Image, v explorer.View, groups []explorer.Group) {
	if len(groups) == 0 {
		return
	}
	b := g.lines
	b.begin(dst, ebiten.BlendSourceOver)
	w := float32(1.0 * g.scale)
	for _, gr := range groups {
		for _, p := range gr.Paths {
			for j := 2; j+1 < len(p); j += 2 {
				x0, y0 := v.ToScreen(float64(p[j-2]), float64(p[j-1]))
				x1, y1 := v.ToScreen(float64(p[j]), float64(p[j+1]))
				b.line(float32(x0), float32(y0), float32(x1), float32(y1), w, gr.R, gr.G, gr.B, 0.45)
			}
		}
	}
	b.flush()
	d := g.dots
	d.begin(dst, ebiten.BlendSourceOver)
	h := float32(3.6 * g.scale)
	for _, gr := range groups {
		for i := 0; i+1 < len(gr.Pos); i += 2 {
			x, y := v.ToScreen(float64(gr.Pos[i]), float64(gr.Pos[i+1]))
			d.square(float32(x), float32(y), h+1.2*float32(g.scale), 1, 1, 1, 0.9)
			d.square(float32(x), float32(y), h, gr.R, gr.G, gr.B, 1)
		}
	}
	d.flush()
}

// wrap breaks s into lines of at most cols characters at spaces.
func wrap(s string, cols int) string {
	var out []byte
	line := 0
	word := []byte{}
	flush := func() {
		if len(word) == 0 {
			return
		}
		if line > 0 && line+1+len(word) > cols {
			out = append(out, '\n')
			line = 0
		} else if line > 0 {
			out = append(out, ' ')
			line++
		}
		out = append(out, word...)
		line += len(word)
		word = word[:0]
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ':
			flush()
		case '\n':
			flush()
			out = append(out, '\n')
			line = 0
		default:
			word = append(word, s[i])
		}
	}
	flush()
	return string(out)
}

// drawLoss draws the training's loss curve ("Your data") in the panel's bottom right
// corner, on a log scale.
func (g *Game) drawLoss(dst *ebiten.Image, port explorer.Rect, loss []float32) {
	w, h := math.Min(port.W*0.35, 320*g.scale), math.Min(port.H*0.2, 110*g.scale)
	x0, y0 := port.X+port.W-w-10*g.scale, port.Y+port.H-h-10*g.scale
	fillRect(dst, x0, y0, w, h, color.RGBA{8, 10, 16, 200})
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range loss {
		if v > 0 {
			lo, hi = math.Min(lo, math.Log(float64(v))), math.Max(hi, math.Log(float64(v)))
		}
	}
	if !(hi > lo) {
		return
	}
	b := g.lines
	b.begin(dst, ebiten.BlendSourceOver)
	pt := func(i int) (float32, float32) {
		v := math.Max(float64(loss[i]), math.Exp(lo))
		return float32(x0 + 4 + (w-8)*float64(i)/float64(len(loss)-1)), float32(y0 + h - 4 - (h-8)*(math.Log(v)-lo)/(hi-lo))
	}
	for i := 1; i < len(loss); i++ {
		xa, ya := pt(i - 1)
		xb, yb := pt(i)
		b.line(xa, ya, xb, yb, float32(1.2*g.scale), 0.95, 0.75, 0.35, 0.95)
	}
	b.flush()
	ts := g.textScale()
	g.text.draw(dst, fmt.Sprintf("loss %.4f", loss[len(loss)-1]), x0+6*ts, y0+4*ts, ts, dimText, false)
}
