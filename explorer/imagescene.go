package explorer

import (
	"fmt"
	"math"
)

// ImageGrid is what the Images mode's panel draws: n images of Shape in a grid, each
// with its class label, and, when asked for, their predicted clean images x̂₁ in a
// second grid beside it.
type ImageGrid struct {
	Shape  []int       // one image's [channels, height, width]
	X      [][]float32 // each image's intensities in [0, 1] at the shown step, channel-major
	Clean  [][]float32 // x̂₁ of each image likewise; nil when not shown or not yet known
	Labels []string    // each image's class ("unconditional" for the null class)
	Cells  []Rect      // where image i goes on the canvas
	// CleanCells are where x̂₁ of image i goes; empty unless x̂₁ is shown.
	CleanCells []Rect
	K          int     // the step shown
	T          float64 // its time
}

// ImageStatus is the Images mode's part of [Status].
type ImageStatus struct {
	Model    string   `json:"model"`
	Class    string   `json:"class"` // "all" or a class name
	Guidance float64  `json:"guidance"`
	Images   int      `json:"images"`
	Labels   []string `json:"labels"` // image i's class
	T        float64  `json:"t"`      // the step shown
	Step     int      `json:"step"`
	Steps    int      `json:"steps"`
	Frontier float64  `json:"frontier"`
	Done     bool     `json:"done"`
	// Seconds is how long the last run took from its start to t = 1 (0 until then).
	Seconds   float64 `json:"seconds"`
	Workers   int     `json:"workers"` // the workers that shared the run (0: the page)
	PoolError string  `json:"poolError,omitempty"`
	Clean     bool    `json:"clean"` // x̂₁ is shown beside x_t
	Cells     []Rect  `json:"cells"` // where image i is on the canvas
	// CleanCells are where x̂₁ of image i is, when shown.
	CleanCells []Rect  `json:"cleanCells"`
	Error      string  `json:"error,omitempty"`
	Kernel     string  `json:"kernel"`
	Loading    bool    `json:"loading"`
	Pixels     float64 `json:"pixelMean"` // mean intensity of the shown images (a blank grid: 0)
}

// gridShape is the columns and rows of a near-square grid of n cells.
func gridShape(n int) (cols, rows int) {
	cols = int(math.Ceil(math.Sqrt(float64(n))))
	return cols, (n + cols - 1) / cols
}

// imageCells lays out n images in port: below a line for the title, one near-square
// grid, or two side by side (x_t, x̂₁) with both; the cells are whole pixels.
func imageCells(port Rect, n int, both bool) (cells, clean []Rect) {
	const top, gap, pad = 44.0, 24.0, 6.0
	cols, rows := gridShape(n)
	grids := 1.0
	if both {
		grids = 2
	}
	w := (port.W - gap*(grids+1)) / grids
	h := port.H - top - gap
	side := math.Floor(math.Min(w/float64(cols), h/float64(rows)))
	if side < 2 {
		side = 2
	}
	gw, gh := side*float64(cols), side*float64(rows)
	x0 := port.X + (port.W-grids*gw-(grids-1)*gap)/2
	y0 := port.Y + top + (h-gh)/2
	place := func(ox float64) []Rect {
		out := make([]Rect, n)
		for i := range out {
			c, r := i%cols, i/cols
			out[i] = Rect{X: math.Round(ox + float64(c)*side + pad/2), Y: math.Round(y0 + float64(r)*side + pad/2), W: side - pad, H: side - pad}
		}
		return out
	}
	cells = place(x0)
	if both {
		clean = place(x0 + gw + gap)
	}
	return cells, clean
}

// imgGrid is the grid shown now, rebuilt only when the shown step or the toggle changes.
func (a *App) imgGrid() *ImageGrid {
	g, r := &a.img, a.img.run
	if r == nil {
		return nil
	}
	k := r.FrameAt(a.clock.T)
	clean := a.s.Img.Clean
	sh := &g.shown
	if sh.run == r && sh.k == k && sh.clean == clean && sh.grid != nil {
		return sh.grid
	}
	sl := a.models[g.slot]
	data := sl.model.Data
	e, _ := a.imageEntry(a.s)
	classes := e.Classes
	if len(classes) == 0 {
		classes = data.Classes
	}
	grid := &ImageGrid{Shape: data.Shape, K: k, T: r.Time(k)}
	d := r.Dim()
	pix := func(x []float32) [][]float32 {
		out := make([][]float32, r.N())
		for i := range out {
			out[i] = append([]float32(nil), x[i*d:(i+1)*d]...)
			data.ToPixels(out[i])
		}
		return out
	}
	grid.X = pix(r.Frame(k))
	if c := r.Clean(k); clean && c != nil {
		grid.Clean = pix(c)
	}
	for _, c := range r.Labels() {
		if c < len(classes) {
			grid.Labels = append(grid.Labels, classes[c])
		} else {
			grid.Labels = append(grid.Labels, "unconditional")
		}
	}
	sh.run, sh.k, sh.clean, sh.grid = r, k, clean, grid
	return grid
}

// imgScene puts the mode's panel in the scene: the grid, or why there is none.
func (a *App) imgScene(sc *Scene) {
	ports := Split(a.area.W, a.area.H, 1, 6)
	port := Rect{X: a.area.X + ports[0].X, Y: a.area.Y + ports[0].Y, W: ports[0].W, H: ports[0].H}
	p := Panel{View: View{Port: port}}
	s := a.s
	cls := s.Img.Class
	if cls == ClassAll {
		cls = "all classes (image i: class i mod 10)"
	}
	p.Title = fmt.Sprintf("images · %s · guidance %g · %s", cls, s.Img.Guidance, s.Solver)
	if r := a.img.run; r != nil {
		p.Title = fmt.Sprintf("%s · %s", a.img.slot, p.Title)
	}
	r := a.img.run
	if r == nil {
		p.Message = a.img.msg
		sc.Panels = append(sc.Panels, p)
		return
	}
	grid := a.imgGrid()
	grid.Cells, grid.CleanCells = imageCells(port, r.N(), s.Img.Clean)
	p.Images = grid
	p.Info = fmt.Sprintf("t %.3f   NFE %d/%d   step %d of %d", grid.T, grid.K*r.EvalsPerStep(), r.Steps()*r.EvalsPerStep(), grid.K, r.Steps())
	if s.Img.Clean {
		p.Info += "   left: x_t   right: the predicted clean image x̂₁ = x_t + (1 − t) v"
	}
	if err := r.Err(); err != nil {
		p.Message = err.Error()
	}
	sc.Panels = append(sc.Panels, p)
}

// imgHUD is the heads-up line in the mode.
func (a *App) imgHUD() string {
	st := a.imgStatus()
	s := fmt.Sprintf("t %.3f   NFE %d   images %d   %.0f fps", st.T, st.Step*max(1, a.imgEvals()), st.Images, a.timing.fps)
	switch {
	case st.Workers == 1:
		s += "   1 worker"
	case st.Workers > 1:
		s += fmt.Sprintf("   %d workers", st.Workers)
	}
	if st.Seconds > 0 {
		s += fmt.Sprintf("   t = 1 after %.2f s", st.Seconds)
	}
	return s + "   kernel " + Kernel()
}

func (a *App) imgEvals() int {
	if a.img.run == nil {
		return 0
	}
	return a.img.run.EvalsPerStep()
}

// imgStatus is the mode's status.
func (a *App) imgStatus() *ImageStatus {
	g, s := &a.img, a.s
	e, _ := a.imageEntry(s)
	st := &ImageStatus{Model: e.Name, Class: s.Img.Class, Guidance: s.Img.Guidance, Images: s.Img.Count, Clean: s.Img.Clean,
		Seconds: math.Round(g.seconds*1000) / 1000, Kernel: Kernel(), Labels: []string{}, Cells: []Rect{}, CleanCells: []Rect{}, Error: g.msg}
	if sl := a.models[g.slot]; sl != nil && sl.pending {
		st.Loading = true
		st.Error = ""
	}
	r := g.run
	if r == nil {
		return st
	}
	grid := a.imgGrid()
	ports := Split(a.area.W, a.area.H, 1, 6)
	port := Rect{X: a.area.X + ports[0].X, Y: a.area.Y + ports[0].Y, W: ports[0].W, H: ports[0].H}
	st.Cells, st.CleanCells = imageCells(port, r.N(), s.Img.Clean)
	if st.CleanCells == nil {
		st.CleanCells = []Rect{}
	}
	st.Labels, st.T, st.Step, st.Steps = grid.Labels, grid.T, grid.K, r.Steps()
	st.Frontier, st.Done, st.Workers, st.PoolError = r.Frontier(), r.Done(), r.Workers(), r.PoolErr()
	if err := r.Err(); err != nil {
		st.Error = err.Error()
	}
	sum, cnt := 0.0, 0
	for _, x := range grid.X {
		for _, v := range x {
			sum += float64(v)
			cnt++
		}
	}
	st.Pixels = math.Round(sum/float64(max(cnt, 1))*1e4) / 1e4
	return st
}

// imgStatusInto fills the app's status from the mode's, in the mode.
func (a *App) imgStatusInto(st *Status) {
	is := a.imgStatus()
	st.Image = is
	st.Model, st.Dataset, st.Path = is.Model, "", ""
	if e, ok := a.imageEntry(a.s); ok {
		st.Dataset, st.Path = e.Dataset, e.Path
	}
	st.Particles, st.T, st.Steps, st.Done, st.Loading = is.Images, is.T, is.Steps, is.Done, is.Loading
	if r := a.img.run; r != nil {
		st.TMax, st.NFE, st.NFETotal = r.T1(), is.Step*r.EvalsPerStep(), r.Steps()*r.EvalsPerStep()
	}
	if st.Error == "" {
		st.Error = is.Error
	}
}
