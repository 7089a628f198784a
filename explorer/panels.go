package explorer

import (
	"math"

	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/sampler"
)

// laneSpec is what the settings ask of one panel; a lane is rebuilt when it changes.
type laneSpec struct {
	model     string
	solver    string
	nfe       int
	particles int
	seed      uint64
}

// quality is a lane's live W2 against the true data.
type quality struct {
	w2    float64 // −1 when unknown
	t     float64
	at    float64 // wall time of the last computation
	final bool    // computed at the lane's end, with everything done
}

// laneState is one panel: its lane of particles (in the model's dimension), how it is
// viewed, its quality figure, its overlays and the dropped groups integrated with its
// model.
type laneState struct {
	spec   laneSpec
	model  *Model        // nil until loaded
	vf     sampler.Field // the model's field in data space
	lane   *Lane         // nil until the model is loaded
	colors []float32     // r, g, b per particle
	groups []groupLanes  // one per drop, same order as App.drops

	view View    // the viewport (2-D models only; see twoD)
	half float64 // the view's half-width, eased
	q    quality
	ov   laneOverlays
	buf  laneBuffers
}

// laneOverlays are what a panel draws over its particles, besides the true data and the
// learned density (shared by the model's panels, in its modelSlot).
type laneOverlays struct {
	field     *FieldGrid // the latest complete grid of arrows
	fieldN    *FieldGrid // the grid being computed
	trails    []Trail
	trailBufs [][]float32
}

// laneBuffers are reused from frame to frame.
type laneBuffers struct {
	pos     []float32 // positions at the shown time, refreshed by Scene
	scratch []float32 // a sample of positions, for easing the view
}

// twoD reports whether the panel's model is loaded and the 2-D views (the scatter plot,
// trails, vector field, learned density and drops) can draw it: the one test every 2-D
// view makes. A lane of another dimension is integrated all the same; its panel and
// the status say why it is not drawn.
func (ls *laneState) twoD() bool { return ls.model != nil && ls.model.Plottable() }

// shownT is the time the lane shows for the clock's time.
func (a *App) shownT(ls *laneState) float64 {
	return ls.lane.ShownTime(math.Min(a.clock.T, ls.lane.T1()))
}

// viewBox is the data rectangle a lane's viewport shows, rounded so that small eases
// of the view do not restart the vector field.
func (a *App) viewBox(ls *laneState) Box {
	if ls.view.Port.W <= 0 || ls.view.Port.H <= 0 || !(ls.view.Half > 0) {
		return Box{-4, -4, 4, 4}
	}
	x0, y0, x1, y1 := ls.view.Bounds()
	// Snap to a grid of a size that only changes in steps of about 20 %.
	step := math.Pow(1.2, math.Round(math.Log(math.Max(ls.half, 1e-3))/math.Log(1.2))) / 8
	q := func(v float64) float64 { return math.Round(v/step) * step }
	return Box{q(x0), q(y0), q(x1), q(y1)}
}

// ease moves each 2-D view towards a half-width that holds the data and the particles.
func (a *App) ease(dt float64) {
	a.layout()
	for _, ls := range a.lanes {
		if ls.lane == nil || !ls.twoD() {
			continue
		}
		target := a.viewTarget(ls)
		switch {
		case ls.half == 0 || dt <= 0 || math.Abs(target-ls.half) < 0.002*target:
			// Settle exactly, so that the view (and the vector field's grid) stops moving.
			ls.half = target
		default:
			ls.half += (target - ls.half) * math.Min(1, 4*dt)
		}
		ls.view.Half = ls.half
	}
}

// viewTarget is the half-width a 2-D lane's view eases towards: enough for the true
// data and for up to 1,000 particles at the clock's time, with room for the label.
func (a *App) viewTarget(ls *laneState) float64 {
	target := 1.0
	if ds := a.data[ls.model.Dataset]; ds != nil {
		target = math.Max(target, ds.ext)
	}
	t := math.Min(a.clock.T, ls.lane.T1())
	n, d := min(ls.lane.N(), 1000), ls.lane.Dim()
	if cap(ls.buf.scratch) < d*n {
		ls.buf.scratch = make([]float32, d*n)
	}
	buf := ls.buf.scratch[:d*n]
	ls.lane.At(t, buf, 0, n)
	target = math.Max(target, extent(buf, d))
	// Leave room for the panel's label at the top.
	return target * 1.08
}

// dataOf is the true-data sample of the lane's dataset when it is ready and of the
// lane's dimension, else nil.
func (a *App) dataOf(ls *laneState) *dataSlot {
	ds := a.data[ls.model.Dataset]
	if ds == nil || ds.err != nil || ds.dim != ls.lane.Dim() {
		return nil
	}
	return ds
}

// updateQuality recomputes each lane's W2 against the data at the shown time, at most
// once a second (force: now), and once more when the run is complete.
func (a *App) updateQuality(force bool) {
	now := a.seconds()
	for _, ls := range a.lanes {
		if ls.lane == nil {
			continue
		}
		ds := a.dataOf(ls)
		if ds == nil {
			continue
		}
		t := a.shownT(ls)
		final := ls.lane.Done() && t == ls.lane.T1()
		if ls.q.w2 >= 0 && ls.q.t == t && ls.q.final == final {
			continue
		}
		if !force && !final && now-ls.q.at < 1 {
			continue
		}
		ls.q = quality{w2: w2At(ls.lane, t, ds), t: t, at: now, final: final}
	}
}

// w2At is W2 between the lane's first QualityPoints particles at time t and as many
// reference points of the data, −1 if it cannot be computed.
func w2At(l *Lane, t float64, ds *dataSlot) float64 {
	m, d := min(QualityPoints, l.N()), l.Dim()
	pts := make([]float32, d*m)
	l.At(t, pts, 0, m)
	w, err := metrics.W2(pts, ds.ref[:d*m], d)
	if err != nil {
		return -1
	}
	return w
}
