package explorer

import (
	"fmt"
	"math"
	"strings"
	"time"
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

// Panel is one lane's viewport.
type Panel struct {
	View    View
	Title   string // model, path and solver
	Info    string // time, NFE and the live quality figure
	Message string // loading or failing, in words
	Pos     []float32
	Colors  []float32 // r, g, b per particle
	Trails  []Trail
	Data    []float32    // the true data, or nil
	Field   *FieldGrid   // the vector field, or nil
	Density *DensityGrid // the learned density, or nil
	Groups  []Group
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

func (a *App) shownT(ls *laneState) float64 {
	return ls.lane.ShownTime(math.Min(a.clock.T, ls.lane.T1()))
}

// NoticeTime is how long a passing notice stays on the screen.
const NoticeTime = 4 * time.Second

// Notify shows a passing message (a refused key, an ignored setting) for NoticeTime.
func (a *App) Notify(msg string) {
	a.notice, a.noticeAt = msg, a.cfg.Now()
}

// Scene builds the frame's scene. The slices in it are reused from frame to frame.
func (a *App) Scene() Scene {
	sc := Scene{T: a.clock.T, End: a.clock.End, Playing: a.clock.Playing}
	if a.ShowHelp {
		sc.Help = Shortcuts()
	}
	if a.fatal != "" {
		sc.Message, sc.Fatal = a.fatal, true
		return sc
	}
	if a.notice != "" && a.cfg.Now().Sub(a.noticeAt) < NoticeTime {
		sc.Message = a.notice
	}
	for _, ls := range a.lanes {
		sc.Panels = append(sc.Panels, a.panel(ls))
	}
	st := a.status(false)
	sc.HUD = fmt.Sprintf("t %.3f   NFE %d   particles %d   %.0f fps", st.T, st.NFE, st.Particles, st.FPS)
	if len(st.Lanes) > 0 {
		switch w := st.Lanes[0].Workers; {
		case w == 1:
			sc.HUD += "   1 worker"
		case w > 1:
			sc.HUD += fmt.Sprintf("   %d workers", w)
		}
	}
	if !a.clock.Playing {
		sc.HUD += "   (paused)"
	}
	return sc
}

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
	n, d := l.N(), l.Dim()
	if cap(ls.pos) < n*d {
		ls.pos = make([]float32, n*d)
	}
	ls.pos = ls.pos[:n*d]
	l.At(t, ls.pos, 0, n)
	p.Pos, p.Colors = ls.pos, ls.colors
	p.Info = fmt.Sprintf("t %.3f   NFE %d/%d", t, l.NFEAt(t), l.Steps()*l.EvalsPerStep())
	if ls.q.w2 >= 0 {
		p.Info += fmt.Sprintf("   W2 %.3f", ls.q.w2)
		if ds := a.data[ls.model.Dataset]; ds != nil && ds.floor > 0 {
			p.Info += fmt.Sprintf(" (data↔data %.3f)", ds.floor)
		}
	}
	if err := l.Err(); err != nil {
		p.Message = err.Error()
	}
	if a.s.Trails {
		stride := max(1, n/TrailCount)
		ls.trails = ls.trails[:0]
		for i, k := 0, 0; i < n; i, k = i+stride, k+1 {
			if k == len(ls.trailBufs) {
				ls.trailBufs = append(ls.trailBufs, nil)
			}
			ls.trailBufs[k] = l.Path(i, t, ls.trailBufs[k])
			ls.trails = append(ls.trails, Trail{Pts: ls.trailBufs[k], R: ls.colors[3*i], G: ls.colors[3*i+1], B: ls.colors[3*i+2]})
		}
		p.Trails = ls.trails
	}
	if a.s.Data {
		if ds := a.data[ls.model.Dataset]; ds != nil && ds.err == nil {
			p.Data = ds.pts
		}
	}
	if a.s.Field && ls.field != nil {
		p.Field = ls.field
	}
	if a.s.Density {
		if g := sl.density; g != nil {
			p.Density = g
			if g.Err() != nil {
				p.Message = "learned density: " + g.Err().Error()
			}
		}
	}
	for i, g := range ls.groups {
		dr := a.drops[i]
		p.Groups = append(p.Groups, groupView(g, dr, a.clock.T))
	}
	return p
}

func groupView(g groupLanes, dr drop, t float64) Group {
	out := Group{R: dr.r, G: dr.g, B: dr.b, Pos: make([]float32, 2*DropSize)}
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
				pts = append(pts, g.back.Frame(k)[2*i:2*i+2]...)
			}
		}
		if g.fwd != nil {
			for k := 0; k < g.fwd.Computed(); k++ {
				pts = append(pts, g.fwd.Frame(k)[2*i:2*i+2]...)
			}
		}
		out.Paths = append(out.Paths, pts)
	}
	return out
}

// LaneStatus describes one panel in [Status].
type LaneStatus struct {
	Model    string  `json:"model"`
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
	Sample    [][2]float32 `json:"sample"` // up to StatusPoints positions at t, data coordinates

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
	FirstFrameMs float64      `json:"firstFrameMs"` // from start to the first frame with particles; 0 before
	Loading      bool         `json:"loading"`
	Workers      int          `json:"workers"` // Web Workers the app may share lanes among (0: none)
	Error        string       `json:"error,omitempty"`
}

// Error is what [App.Status] reports as its error: a fatal problem, a model that did
// not load, or a solution that stopped being finite ("" when all is well).
func (a *App) Error() string {
	if a.fatal != "" {
		return a.fatal
	}
	for _, ls := range a.lanes {
		sl := a.models[ls.spec.model]
		if sl.err != nil {
			return fmt.Sprintf("could not load the model %s (models/%s): %v", sl.entry.Name, sl.entry.File, sl.err)
		}
		if ls.lane != nil && ls.lane.Err() != nil {
			return ls.lane.Err().Error()
		}
	}
	return ""
}

// Status returns the current snapshot.
func (a *App) Status() Status { return a.status(true) }

func (a *App) status(withSample bool) Status {
	st := Status{
		FPS: math.Round(a.fps*10) / 10, Playing: a.clock.Playing, Speed: a.s.Speed, Compare: a.s.Compare,
		Dataset: a.s.Dataset, Path: a.s.Path, Solver: a.s.Solver, Drops: len(a.drops), Frames: a.frames,
		FirstFrameMs: float64(a.firstFrame) / 1e6, Lanes: []LaneStatus{},
		Workers: a.poolWorkers(),
		Sample:  [][2]float32{},
	}
	if a.fatal != "" {
		st.Error = a.fatal
		return st
	}
	for i, ls := range a.lanes {
		sl := a.models[ls.spec.model]
		lst := LaneStatus{Model: ls.spec.model, Path: sl.entry.Path, Coupling: sl.entry.CouplingName(), Solver: ls.spec.solver, W2: ls.q.w2, W2Floor: -1}
		if ls.lane == nil {
			st.Loading = st.Loading || sl.pending
		} else {
			l := ls.lane
			t := a.shownT(ls)
			lst.T, lst.TMax, lst.Steps, lst.Done = t, l.T1(), l.Steps(), l.Done()
			lst.NFE, lst.NFETotal, lst.Frontier = l.NFEAt(t), l.Steps()*l.EvalsPerStep(), l.Frontier()
			lst.Workers, lst.PoolErr = l.Workers(), l.PoolErr()
			if ds := a.data[ls.model.Dataset]; ds != nil && ds.floor > 0 {
				lst.W2Floor = ds.floor
			}
			if i == 0 {
				st.Particles = l.N()
			}
			if i == 0 && withSample {
				m := min(StatusPoints, l.N())
				buf := make([]float32, 2*m)
				l.At(t, buf, 0, m)
				st.Sample = make([][2]float32, m)
				for k := range st.Sample {
					st.Sample[k] = [2]float32{buf[2*k], buf[2*k+1]}
				}
			}
		}
		st.Lanes = append(st.Lanes, lst)
	}
	st.Error = a.Error()
	if len(st.Lanes) > 0 {
		l0 := st.Lanes[0]
		st.T, st.NFE, st.TMax, st.Steps, st.NFETotal, st.Done = l0.T, l0.NFE, l0.TMax, l0.Steps, l0.NFETotal, l0.Done
		st.Model = l0.Model
	}
	return st
}
