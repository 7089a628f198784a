package explorer

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/flowmatch/flowmatch/sampler"
)

// Scene is what a front end draws for one frame.
type Scene struct {
	Panels  []Panel
	HUD     string // t, NFE so far, particles, frames per second, workers
	Message string // a fatal error, or a passing notice
	Fatal   bool
	Help    []Shortcut // non-nil while the help is shown
	T, End  float64
	Playing bool
}

// Panel is one lane's viewport. Only a 2-D model's panel ([Model.Plottable]) has
// particles, trails, data, overlays and groups; another's has its title, its figures and
// a message saying why it is not drawn.
type Panel struct {
	View    View
	Title   string    // model, path and solver
	Info    string    // time, NFE and the live quality figure
	Message string    // loading, failing or not drawable, in words
	Pos     []float32 // x, y per particle, data coordinates; nil when nothing is drawn
	Colors  []float32 // r, g, b per particle
	Trails  []Trail
	Data    []float32    // the true data, or nil
	Field   *FieldGrid   // the vector field, or nil
	Density *DensityGrid // the learned density, or nil
	Groups  []Group
	Loss    []float32  // the training's loss curve ("Your data"), or nil
	Images  *ImageGrid // the Images mode's grid, or nil
}

// Trail is a polyline in data coordinates with its colour.
type Trail struct {
	Pts     []float32
	R, G, B float32
}

// Group is a dropped group: where its particles are now and their whole computed paths.
type Group struct {
	Pos     []float32
	Paths   [][]float32
	R, G, B float32
}

// NoticeTime is how long a passing notice stays on the screen.
const NoticeTime = 4 * time.Second

// Notify shows a passing message (a refused key, an ignored setting) for NoticeTime.
func (a *App) Notify(msg string) {
	a.msg.notice, a.msg.noticeAt = msg, a.cfg.Now()
}

// Scene builds the frame's scene. The slices in it are reused from frame to frame. It
// computes every particle's position at the shown time: call it once a frame, and
// [App.Clock] for the time alone.
func (a *App) Scene() Scene {
	sc := Scene{T: a.clock.T, End: a.clock.End, Playing: a.clock.Playing}
	if a.ShowHelp {
		sc.Help = Shortcuts()
	}
	if a.msg.fatal != "" {
		sc.Message, sc.Fatal = a.msg.fatal, true
		return sc
	}
	if a.msg.notice != "" && a.cfg.Now().Sub(a.msg.noticeAt) < NoticeTime {
		sc.Message = a.msg.notice
	}
	for _, ls := range a.lanes {
		sc.Panels = append(sc.Panels, a.panel(ls))
	}
	if a.s.Mode == ModeYours {
		a.ownScene(&sc)
	}
	if a.s.Mode == ModeImages {
		a.imgScene(&sc)
	}
	sc.HUD = a.hud()
	return sc
}

// hud is the heads-up line: the first panel's time, NFE and particles, the frame rate,
// the workers and the kernel.
func (a *App) hud() string {
	if a.s.Mode == ModeImages {
		return a.imgHUD()
	}
	st := a.status(false)
	s := fmt.Sprintf("t %.3f   NFE %d   particles %d   %.0f fps", st.T, st.NFE, st.Particles, st.FPS)
	if len(st.Lanes) > 0 {
		switch w := st.Lanes[0].Workers; {
		case w == 1:
			s += "   1 worker"
		case w > 1:
			s += fmt.Sprintf("   %d workers", w)
		}
	}
	s += "   kernel " + Kernel()
	if !a.clock.Playing {
		s += "   (paused)"
	}
	return s
}

// panel is one lane's panel: its title and figures, and, for a 2-D model, its particles
// and overlays.
func (a *App) panel(ls *laneState) Panel {
	p := Panel{View: ls.view}
	sl := a.models[ls.spec.model]
	e := sl.entry
	p.Title = fmt.Sprintf("%s · %s · %s", e.Dataset, strings.ToUpper(e.Path), ls.spec.solver)
	if e.CouplingName() == CouplingOT {
		p.Title = fmt.Sprintf("%s · %s, OT-CFM · %s", e.Dataset, strings.ToUpper(e.Path), ls.spec.solver)
	}
	switch {
	case sl.err != nil:
		p.Message = fmt.Sprintf("Could not load the model %s (models/%s): %v", e.Name, e.File, sl.err)
		return p
	case ls.lane == nil:
		p.Message = fmt.Sprintf("Loading the model %s…", e.Name)
		return p
	}
	l := ls.lane
	t := a.shownT(ls)
	p.Info = a.panelInfo(ls, t)
	if err := l.Err(); err != nil {
		p.Message = err.Error()
	}
	if !ls.twoD() {
		p.Message = ls.model.PlotError().Error()
		return p
	}
	a.drawn(ls, t, &p)
	return p
}

// panelInfo is a panel's line of figures: time, NFE and the live quality.
func (a *App) panelInfo(ls *laneState, t float64) string {
	l := ls.lane
	s := fmt.Sprintf("t %.3f   NFE %d/%d", t, l.NFEAt(t), l.Steps()*l.EvalsPerStep())
	if ls.q.w2 >= 0 {
		s += fmt.Sprintf("   W2 %.3f", ls.q.w2)
		if ds := a.data[ls.model.Dataset]; ds != nil && ds.floor > 0 {
			s += fmt.Sprintf(" (data↔data %.3f)", ds.floor)
		}
	}
	return s
}

// drawn fills in what a 2-D panel draws at time t: particles, trails, the true data,
// the vector field, the learned density and the dropped groups.
func (a *App) drawn(ls *laneState, t float64, p *Panel) {
	l := ls.lane
	n, d := l.N(), l.Dim()
	if cap(ls.buf.pos) < n*d {
		ls.buf.pos = make([]float32, n*d)
	}
	ls.buf.pos = ls.buf.pos[:n*d]
	l.At(t, ls.buf.pos, 0, n)
	p.Pos, p.Colors = ls.buf.pos, ls.colors
	if a.s.Trails {
		p.Trails = a.trails(ls, t)
	}
	if a.s.Data {
		if ds := a.dataOf(ls); ds != nil {
			p.Data = ds.pts
		}
	}
	if a.s.Field && ls.ov.field != nil {
		p.Field = ls.ov.field
	}
	if a.s.Density {
		if g := a.models[ls.spec.model].density; g != nil {
			p.Density = g
			if g.Err() != nil {
				p.Message = "learned density: " + g.Err().Error()
			}
		}
	}
	for i, g := range ls.groups {
		p.Groups = append(p.Groups, groupView(g, a.drops.list[i], a.clock.T))
	}
}

// trails are the paths up to time t of up to about TrailCount of the lane's particles,
// evenly spread over them.
func (a *App) trails(ls *laneState, t float64) []Trail {
	l, ov := ls.lane, &ls.ov
	n := l.N()
	stride := max(1, n/TrailCount)
	ov.trails = ov.trails[:0]
	for i, k := 0, 0; i < n; i, k = i+stride, k+1 {
		if k == len(ov.trailBufs) {
			ov.trailBufs = append(ov.trailBufs, nil)
		}
		ov.trailBufs[k] = l.Path(i, t, ov.trailBufs[k])
		ov.trails = append(ov.trails, Trail{Pts: ov.trailBufs[k], R: ls.colors[3*i], G: ls.colors[3*i+1], B: ls.colors[3*i+2]})
	}
	return ov.trails
}

// groupView is a dropped group as a 2-D panel draws it at time t.
func groupView(g groupLanes, dr drop, t float64) Group {
	const d = PlotDim
	out := Group{R: dr.r, G: dr.g, B: dr.b, Pos: make([]float32, d*DropSize)}
	switch {
	case g.back != nil && (t < dr.t || g.fwd == nil):
		g.back.At(t, out.Pos, 0, DropSize)
	case g.fwd != nil:
		g.fwd.At(t, out.Pos, 0, DropSize)
	}
	for i := 0; i < DropSize; i++ {
		var pts []float32
		if g.back != nil {
			for k := g.back.Computed() - 1; k >= 0; k-- {
				pts = append(pts, g.back.Frame(k)[d*i:d*i+d]...)
			}
		}
		if g.fwd != nil {
			for k := 0; k < g.fwd.Computed(); k++ {
				pts = append(pts, g.fwd.Frame(k)[d*i:d*i+d]...)
			}
		}
		out.Paths = append(out.Paths, pts)
	}
	return out
}

// LaneStatus describes one panel in [Status].
type LaneStatus struct {
	Model    string  `json:"model"`
	Dim      int     `json:"dim,omitempty"` // the model's dimension (0 while it loads); only 2-D models are drawn
	Path     string  `json:"path"`
	Coupling string  `json:"coupling"` // "independent" (I-CFM) or "ot" (OT-CFM)
	Solver   string  `json:"solver"`
	T        float64 `json:"t"`
	TMax     float64 `json:"tMax"`
	NFE      int     `json:"nfe"`
	NFETotal int     `json:"nfeTotal"`
	Steps    int     `json:"steps"`
	Frontier float64 `json:"frontier"`
	Done     bool    `json:"done"`
	W2       float64 `json:"w2"`                  // live W2 against the data, −1 when not known
	W2Floor  float64 `json:"w2Floor"`             // W2 between two data draws of the same size, −1 when not known
	Workers  int     `json:"workers"`             // Web Workers sharing the lane's particles (0: the page itself)
	PoolErr  string  `json:"poolError,omitempty"` // why the workers gave the lane back, if they did
}

// Status is a plain snapshot for scripts and tests: window.flowmatch.status() returns it.
// The top-level fields describe the first (or only) panel.
type Status struct {
	T         float64      `json:"t"`
	NFE       int          `json:"nfe"`
	Particles int          `json:"particles"`
	FPS       float64      `json:"fps"`
	Model     string       `json:"model"`
	Dataset   string       `json:"dataset"`
	Path      string       `json:"path"`
	Solver    string       `json:"solver"`
	Sample    [][2]float32 `json:"sample"` // up to StatusPoints positions at t, data coordinates (none for a model that is not 2-D)

	TMax         float64      `json:"tMax"`
	Steps        int          `json:"steps"`
	NFETotal     int          `json:"nfeTotal"`
	Done         bool         `json:"done"` // every step computed
	Playing      bool         `json:"playing"`
	Speed        float64      `json:"speed"`
	Compare      string       `json:"compare"`
	Lanes        []LaneStatus `json:"lanes"`
	Drops        int          `json:"drops"`
	Frames       int64        `json:"frames"`
	FirstFrameMs float64      `json:"firstFrameMs"` // from start to the first frame with particles (images in the Images mode); 0 before
	Loading      bool         `json:"loading"`
	Workers      int          `json:"workers"` // Web Workers the app may share lanes among (0: none)
	Kernel       string       `json:"kernel"`  // the network's gemm kernel: [Kernel]
	Error        string       `json:"error,omitempty"`
	Mode         string       `json:"mode"`            // ModeModels or ModeYours
	Train        *TrainStatus `json:"train"`           // the "Your data" mode's points and training
	Image        *ImageStatus `json:"image,omitempty"` // the Images mode's grid (images.go), in that mode
}

// Error is what [App.Status] reports as its error: a fatal problem, a model that did
// not load, a model the pictures cannot draw (not 2-D), or a solution that stopped being
// finite ("" when all is well).
func (a *App) Error() string {
	if a.msg.fatal != "" {
		return a.msg.fatal
	}
	for _, ls := range a.lanes {
		sl := a.models[ls.spec.model]
		if sl.err != nil {
			return fmt.Sprintf("could not load the model %s (models/%s): %v", sl.entry.Name, sl.entry.File, sl.err)
		}
		if ls.lane != nil && ls.lane.Err() != nil {
			return ls.lane.Err().Error()
		}
		if ls.lane != nil && !ls.twoD() {
			return ls.model.PlotError().Error()
		}
	}
	return ""
}

// Kernel names the gemm kernel the network runs on in this build, as the status and the
// HUD report it: sampler.KernelName, except that the scalar WebAssembly kernel ("wasm")
// is "scalar", beside "simd" for the WebAssembly SIMD one (the page loads one build or
// the other, see www/README.md); natively "avx2", "go" or one of the Go SIMD kernels'
// names ("neon-simd" on arm64, "avx2-simd" or "avx512-simd" with the tag gosimd).
func Kernel() string {
	if k := sampler.KernelName(); k != "wasm" {
		return k
	}
	return "scalar"
}

// Status returns the current snapshot.
func (a *App) Status() Status { return a.status(true) }

func (a *App) status(withSample bool) Status {
	tm := &a.timing
	st := Status{
		FPS: math.Round(tm.fps*10) / 10, Playing: a.clock.Playing, Speed: a.s.Speed, Compare: a.s.Compare,
		Dataset: a.s.Dataset, Path: a.s.Path, Solver: a.s.Solver, Drops: len(a.drops.list), Frames: tm.frames,
		FirstFrameMs: float64(tm.firstFrame) / 1e6, Lanes: []LaneStatus{},
		Workers: a.poolWorkers(), Kernel: Kernel(),
		Sample: [][2]float32{}, Mode: a.s.Mode, Train: a.ownStatus(),
	}
	if a.msg.fatal != "" {
		st.Error = a.msg.fatal
		return st
	}
	for i, ls := range a.lanes {
		sl := a.models[ls.spec.model]
		st.Lanes = append(st.Lanes, a.laneStatus(ls))
		if ls.lane == nil {
			st.Loading = st.Loading || sl.pending
			continue
		}
		if i == 0 {
			st.Particles = ls.lane.N()
		}
		if i == 0 && withSample && ls.twoD() {
			st.Sample = statusSample(ls.lane, a.shownT(ls))
		}
	}
	st.Error = a.Error()
	if len(st.Lanes) > 0 {
		l0 := st.Lanes[0]
		st.T, st.NFE, st.TMax, st.Steps, st.NFETotal, st.Done = l0.T, l0.NFE, l0.TMax, l0.Steps, l0.NFETotal, l0.Done
		st.Model = l0.Model
	}
	if a.s.Mode == ModeImages {
		a.imgStatusInto(&st)
	}
	return st
}

// laneStatus describes one panel.
func (a *App) laneStatus(ls *laneState) LaneStatus {
	sl := a.models[ls.spec.model]
	lst := LaneStatus{Model: ls.spec.model, Path: sl.entry.Path, Coupling: sl.entry.CouplingName(), Solver: ls.spec.solver, W2: ls.q.w2, W2Floor: -1}
	if ls.lane == nil {
		return lst
	}
	l := ls.lane
	t := a.shownT(ls)
	lst.Dim = l.Dim()
	lst.T, lst.TMax, lst.Steps, lst.Done = t, l.T1(), l.Steps(), l.Done()
	lst.NFE, lst.NFETotal, lst.Frontier = l.NFEAt(t), l.Steps()*l.EvalsPerStep(), l.Frontier()
	lst.Workers, lst.PoolErr = l.Workers(), l.PoolErr()
	if ds := a.dataOf(ls); ds != nil && ds.floor > 0 {
		lst.W2Floor = ds.floor
	}
	return lst
}

// statusSample is the positions of a 2-D lane's first StatusPoints particles at time t.
func statusSample(l *Lane, t float64) [][2]float32 {
	const d = PlotDim
	m := min(StatusPoints, l.N())
	buf := make([]float32, d*m)
	l.At(t, buf, 0, m)
	out := make([][2]float32, m)
	for k := range out {
		out[k] = [2]float32{buf[d*k], buf[d*k+1]}
	}
	return out
}
