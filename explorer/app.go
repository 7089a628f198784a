package explorer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/sampler"
)

// Config connects an [App] to the outside world.
type Config struct {
	// Load fetches and decodes one model. The app calls it on a goroutine of its own, so
	// it may block (on a network fetch, say).
	Load func(e Entry) (*Model, error)
	// Data draws n points of a dataset for the faint true-data overlay and the live
	// quality figure. Nil turns both off.
	Data func(dataset string, n int, seed uint64) ([]float32, error)
	// Now is the clock; nil means time.Now. Tests pass a fake one.
	Now func() time.Time
	// Pool, when it has workers, integrates large lanes off the app's thread (Web
	// Workers in the browser); nil computes everything within Update's frame budget.
	Pool Pool
}

// Sizes of the app's samples.
const (
	DataPoints    = 2000 // true-data overlay
	QualityPoints = 256  // particles and data points in the live W2 (LAPJV: ~20 ms in wasm)
	StatusPoints  = 2000 // positions in Status.Sample
	TrailCount    = 600  // particles that draw trails
	DropSize      = 64   // particles in a dropped group
	MaxDrops      = 8
	FieldArrows   = 21 // arrows per side of the vector-field grid
	DensityCells  = 32 // cells per side of the learned-density grid
)

type modelSlot struct {
	entry   Entry
	model   *Model
	err     error
	pending bool
	density *DensityGrid
}

type dataSlot struct {
	pts   []float32 // DataPoints points for the overlay
	ref   []float32 // QualityPoints further points, for the live W2
	floor float64   // W2 between ref and pts[:QualityPoints]: the data-vs-data floor
	ext   float64   // half-width that holds the data
	err   error
}

type laneSpec struct {
	model     string
	solver    string
	nfe       int
	particles int
	seed      uint64
}

type quality struct {
	w2    float64 // −1 when unknown
	t     float64
	at    float64 // wall time of the last computation
	final bool    // computed at the lane's end, with everything done
}

type groupLanes struct {
	back, fwd *Lane
}

type laneState struct {
	spec      laneSpec
	model     *Model
	vf        sampler.Field // the model's field in data space
	lane      *Lane
	colors    []float32 // r, g, b per particle
	half      float64   // the view's half-width, eased
	view      View
	q         quality
	groups    []groupLanes // one per drop, same order
	field     *FieldGrid   // the latest complete grid
	fieldN    *FieldGrid   // the grid being computed
	pos       []float32    // positions at the shown time, refreshed by Scene
	trails    []Trail
	trailBufs [][]float32
	scratch   []float32
}

type drop struct {
	x, y, t float64
	seed    uint64
	r, g, b float32
}

// App is the explorer's whole state: settings, models, the lanes of particles being
// integrated and shown, dropped groups, overlays and the animation clock. It draws
// nothing itself: a front end (the Ebiten game) calls Update once a frame, draws the
// [Scene], and forwards input to Set, Do, Key and DropAt.
//
// An App is not safe for concurrent use; model loads finish on other goroutines but are
// only taken in by Update.
type App struct {
	cfg     Config
	man     *Manifest
	s       Settings
	table   []control // the controls: controlTable, or a test's copy
	clock   Clock
	models  map[string]*modelSlot
	data    map[string]*dataSlot
	results chan loadResult
	lanes   []*laneState
	drops   []drop
	area    Rect // where the panels go on the screen

	fatal    string // nothing can be shown (no manifest)
	notice   string // a passing message, e.g. a rejected key
	noticeAt time.Time
	ShowHelp bool

	start, last time.Time
	frameDt     float64 // eased seconds per Update
	frameTimes  []time.Time
	fps         float64
	frames      int64
	firstFrame  time.Duration // from New to the first frame with particles
	chunk       int           // particle-evaluations in one piece of work (see spend)
	dropSeed    uint64
	nextDropHue float64
	lastJob     int      // the last pool job id handed out
	poolBuf     []Result // reused by drainPool
}

type loadResult struct {
	name  string
	model *Model
	err   error
}

// New returns an app for the models in man, starting with s (whose Dataset and Path
// default to the manifest's default model). A nil manifest starts an app that shows
// fatalErr.
func New(cfg Config, man *Manifest, s Settings, fatalErr error) *App {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &App{
		cfg: cfg, man: man, s: s, table: controlTable,
		models: map[string]*modelSlot{}, data: map[string]*dataSlot{},
		results: make(chan loadResult, 16),
		area:    Rect{0, 0, 800, 600},
		clock:   Clock{End: 1, Playing: true, Speed: s.Speed},
	}
	a.start = cfg.Now()
	a.last = a.start
	if fatalErr != nil {
		a.fatal = fatalErr.Error()
	}
	if man == nil {
		if a.fatal == "" {
			a.fatal = "no models"
		}
		return a
	}
	if err := man.Validate(); err != nil {
		a.fatal, a.man = err.Error(), nil
		return a
	}
	if a.s.Dataset == "" {
		e := man.DefaultEntry()
		a.s.Dataset, a.s.Path = e.Dataset, e.Path
	}
	if _, ok := man.Find(a.s.Dataset, a.s.Path); !ok {
		if ps := man.Paths(a.s.Dataset); len(ps) > 0 {
			a.s.Path = ps[0]
		} else {
			a.Notify(fmt.Sprintf("no model for dataset %q; showing the default", a.s.Dataset))
			e := man.DefaultEntry()
			a.s.Dataset, a.s.Path = e.Dataset, e.Path
		}
	}
	a.apply(a.s)
	return a
}

// Settings returns the current settings.
func (a *App) Settings() Settings { return a.s }

// Manifest returns the models the app knows (nil if none).
func (a *App) Manifest() *Manifest { return a.man }

// apply takes new settings and rebuilds what they change.
func (a *App) apply(s Settings) error {
	if a.man != nil {
		paths := a.man.Paths(s.Dataset)
		if s.Compare == ComparePaths && len(paths) < 2 {
			s.Compare = CompareOff
		}
		couplings := a.man.Couplings(s.Dataset, s.Path)
		if !slices.Contains(couplings, s.Coupling) && len(couplings) > 0 {
			s.Coupling = couplings[0]
		}
		if s.Compare == CompareCouplings && len(couplings) < 2 {
			s.Compare = CompareOff
		}
		if !slices.Contains(paths, s.PathB) || (s.PathB == s.Path && len(paths) > 1) {
			for _, p := range paths {
				if p != s.Path {
					s.PathB = p
					break
				}
			}
		}
	}
	a.s = s
	a.clock.Speed = s.Speed
	a.sync()
	return nil
}

// specs are the lanes the settings ask for: one, or two side by side.
func (a *App) specs() []laneSpec {
	s := a.s
	// The chosen coupling where the path has it, else the path's usual model.
	name := func(path, coupling string) string {
		if e, ok := a.man.FindCoupling(s.Dataset, path, coupling); ok {
			return e.Name
		}
		e, _ := a.man.Find(s.Dataset, path)
		return e.Name
	}
	out := []laneSpec{{name(s.Path, s.Coupling), s.Solver, s.NFE, s.Particles, s.Seed}}
	switch s.Compare {
	case ComparePaths:
		out = append(out, laneSpec{name(s.PathB, s.Coupling), s.Solver, s.NFE, s.Particles, s.Seed})
	case CompareSolvers:
		out = append(out, laneSpec{name(s.Path, s.Coupling), s.SolverB, s.NFEB, s.Particles, s.Seed})
	case CompareCouplings:
		other := CouplingOT
		if s.Coupling == CouplingOT {
			other = CouplingIndependent
		}
		out = append(out, laneSpec{name(s.Path, other), s.Solver, s.NFE, s.Particles, s.Seed})
	}
	return out
}

// sync makes the lanes match the settings, keeping those that did not change and
// asking for models not yet loaded.
func (a *App) sync() {
	if a.man == nil {
		return
	}
	specs := a.specs()
	var lanes []*laneState
	rebuilt := false
	for i, sp := range specs {
		if i < len(a.lanes) && a.lanes[i].spec == sp {
			lanes = append(lanes, a.lanes[i])
			continue
		}
		rebuilt = true
		lanes = append(lanes, &laneState{spec: sp, q: quality{w2: -1}})
	}
	if len(lanes) != len(a.lanes) {
		rebuilt = true
	}
	for _, old := range a.lanes {
		if old.lane != nil && !slices.Contains(lanes, old) {
			old.lane.Unfarm()
		}
	}
	a.lanes = lanes
	for _, ls := range a.lanes {
		a.build(ls)
	}
	a.dataFor(a.s.Dataset)
	if rebuilt {
		a.clock.Restart()
	}
	a.updateEnd()
}

// slot returns the model slot for name, starting its load if needed.
func (a *App) slot(name string) *modelSlot {
	if sl := a.models[name]; sl != nil {
		return sl
	}
	var e Entry
	for _, m := range a.man.Models {
		if m.Name == name {
			e = m
		}
	}
	sl := &modelSlot{entry: e, pending: true}
	a.models[name] = sl
	go func() {
		m, err := a.cfg.Load(e)
		if err == nil && m == nil {
			err = fmt.Errorf("the loader returned no model")
		}
		a.results <- loadResult{name, m, err}
	}()
	return sl
}

// build creates a lane's particles once its model is loaded.
func (a *App) build(ls *laneState) {
	if ls.lane != nil {
		return
	}
	sl := a.slot(ls.spec.model)
	if sl.model == nil {
		return
	}
	m := sl.model
	ls.model = m
	ls.vf = m.dataSpaceField()
	n, d := ls.spec.particles, m.Field.Dim()
	z := Noise(ls.spec.seed, n, d)
	s0 := m.Path.SourceStd()
	x0 := make([]float32, len(z))
	ls.colors = make([]float32, 3*n)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			v := s0 * float64(z[i*d+j])
			if m.Mean != nil {
				v = m.Mean[j] + m.Std[j]*v
			}
			x0[i*d+j] = float32(v)
		}
		if d >= 2 {
			ang := math.Atan2(float64(z[i*d+1]), float64(z[i*d]))
			rad := math.Hypot(float64(z[i*d]), float64(z[i*d+1]))
			ls.colors[3*i], ls.colors[3*i+1], ls.colors[3*i+2] = Hue(ang, 0.35+0.5*math.Min(rad/2.5, 1))
		}
	}
	steps := StepsFor(ls.spec.solver, ls.spec.nfe)
	t0, t1 := m.tRange()
	lane, err := NewLane(ls.vf, ls.spec.solver, steps, t0, t1, x0)
	if err != nil {
		a.Notify(err.Error())
		return
	}
	if a.cfg.Pool != nil {
		lane.Farm(a.cfg.Pool, m.Name, func() int { a.lastJob++; return a.lastJob })
	}
	ls.lane = lane
	ls.half = 0
	ls.q = quality{w2: -1}
	ls.field, ls.fieldN = nil, nil
	ls.groups = nil
	for _, dr := range a.drops {
		ls.groups = append(ls.groups, a.groupFor(ls, dr))
	}
	a.updateEnd()
}

func (a *App) updateEnd() {
	end := 0.0
	for _, ls := range a.lanes {
		if ls.lane != nil {
			end = math.Max(end, ls.lane.T1())
		}
	}
	if end > 0 {
		a.clock.End = end
		a.clock.Seek(a.clock.T)
	}
}

// Noise draws n standard normal points in d dimensions from seed: the same seed gives
// the same first points whatever n is, so lanes side by side start from the same noise.
func Noise(seed uint64, n, d int) []float32 {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	z := make([]float32, n*d)
	for i := range z {
		z[i] = float32(rng.NormFloat64())
	}
	return z
}

// dataFor returns the true-data sample of a dataset, drawing it the first time.
func (a *App) dataFor(name string) *dataSlot {
	if ds := a.data[name]; ds != nil {
		return ds
	}
	ds := &dataSlot{floor: -1}
	a.data[name] = ds
	if a.cfg.Data == nil {
		ds.err = fmt.Errorf("no data source")
		return ds
	}
	pts, err := a.cfg.Data(name, DataPoints, 7)
	if err == nil {
		ds.ref, err = a.cfg.Data(name, QualityPoints, 8)
	}
	if err != nil {
		ds.err = err
		return ds
	}
	ds.pts = pts
	ds.ext = extent(pts, 2)
	if w, err := metrics.W2(ds.ref, pts[:2*QualityPoints], 2); err == nil {
		ds.floor = w
	}
	return ds
}

// drainLoads takes in finished model loads; with wait it blocks until none is pending.
func (a *App) drainLoads(wait bool) {
	for {
		pending := false
		for _, sl := range a.models {
			pending = pending || sl.pending
		}
		if !pending {
			return
		}
		var r loadResult
		if wait {
			r = <-a.results
		} else {
			select {
			case r = <-a.results:
			default:
				return
			}
		}
		sl := a.models[r.name]
		sl.pending = false
		if r.err == nil {
			r.err = r.model.Check()
		}
		sl.model, sl.err = r.model, r.err
		if r.err == nil {
			if r.model.Name == "" {
				r.model.Name = r.name
			}
			for _, ls := range a.lanes {
				a.build(ls)
			}
		}
	}
}

// drainPool hands the pool's results to the lanes they belong to; results of lanes that
// are gone are dropped.
func (a *App) drainPool() {
	if a.cfg.Pool == nil {
		return
	}
	a.poolBuf = a.cfg.Pool.Poll(a.poolBuf[:0])
	for _, r := range a.poolBuf {
		for _, ls := range a.lanes {
			if ls.lane != nil && ls.lane.Deliver(r) {
				break
			}
		}
	}
	clear(a.poolBuf) // let the positions go
}

func (a *App) seconds() float64 { return a.cfg.Now().Sub(a.start).Seconds() }

// Update advances the app by one frame: takes in loaded models, moves the clock and
// spends part of the frame integrating. Call it once per frame.
func (a *App) Update() {
	now := a.cfg.Now()
	dt := now.Sub(a.last).Seconds()
	a.last = now
	if dt < 0 || dt > 0.25 {
		dt = 0.25 // a tab in the background, or a slow frame: do not jump
	}
	if a.frameDt == 0 {
		a.frameDt = 1.0 / 60
	} else if dt > 0 {
		a.frameDt += 0.1 * (dt - a.frameDt)
	}
	a.drainLoads(false)
	if a.man == nil {
		return
	}
	a.drainPool()
	a.clock.Tick(dt, a.limit())
	// Spend about half the frame computing, so the page stays responsive at any size: 8 ms
	// of a 60 Hz frame; more where frames are slow anyway (software rendering).
	budget := math.Min(math.Max(0.5*a.frameDt, 0.004), 0.06)
	a.work(budget)
	a.ease(dt)
	a.updateQuality(false)
}

// limit is how far the clock may run: the earliest frontier of a lane still computing.
func (a *App) limit() float64 {
	lim := math.Inf(1)
	for _, ls := range a.lanes {
		if ls.lane == nil {
			return 0
		}
		if !ls.lane.Done() {
			lim = math.Min(lim, ls.lane.Frontier())
		}
	}
	return lim
}

// chunkTarget is how long one piece of work should take: short enough that a frame's
// budget is never overshot by much, long enough that timing it is meaningful (browsers
// round their clocks to 0.1 ms).
const chunkTarget = 0.002

// spend runs f in pieces of about chunkTarget seconds until sec seconds have passed, f
// has nothing left to do, or 64 pieces are done. f takes a number of
// particle-evaluations to do and returns how many it did. The piece size adapts to the
// measured cost, so that the work fits the frame whatever the model's size.
func (a *App) spend(sec float64, f func(units int) int) {
	if a.chunk == 0 {
		a.chunk = 64
	}
	t0 := a.seconds()
	for i := 0; i < 64; i++ {
		t1 := a.seconds()
		n := f(a.chunk)
		if n == 0 {
			return
		}
		t2 := a.seconds()
		if el := t2 - t1; el < chunkTarget/4 {
			a.chunk = min(2*a.chunk, 1<<20)
		} else {
			want := int(float64(n) * chunkTarget / el)
			a.chunk = min(max(want, a.chunk/2, 1), 2*a.chunk, 1<<20)
		}
		if t2-t0 >= sec {
			return
		}
	}
}

// work spends up to budget seconds: dropped groups first (small), then the lanes,
// with overlays (vector field, density) taking about a third when they have work.
func (a *App) work(budget float64) {
	t0 := a.seconds()
	left := func() float64 { return budget - (a.seconds() - t0) }
	for _, ls := range a.lanes {
		for _, g := range ls.groups {
			for _, l := range []*Lane{g.back, g.fwd} {
				if l != nil && !l.Done() && left() > 0 {
					a.spend(left(), l.Advance)
				}
			}
		}
	}
	overlays := a.overlayTasks()
	share := 1.0
	if len(overlays) > 0 {
		share = 0.65
	}
	var active []*laneState
	for _, ls := range a.lanes {
		if ls.lane != nil && !ls.lane.Done() {
			active = append(active, ls)
		}
	}
	for _, ls := range active {
		if l := left(); l > 0 {
			a.spend(l*share/float64(len(active)), ls.lane.Advance)
		}
	}
	for i, f := range overlays {
		if l := left(); l > 0 {
			a.spend(l/float64(len(overlays)-i), f)
		}
	}
}

// overlayTasks lists the pending overlay work as functions of a unit budget.
func (a *App) overlayTasks() []func(int) int {
	var out []func(int) int
	for _, ls := range a.lanes {
		if ls.lane == nil {
			continue
		}
		if a.s.Field {
			t := ls.lane.ShownTime(math.Min(a.clock.T, ls.lane.T1()))
			box := a.viewBox(ls)
			if ls.fieldN == nil && (ls.field == nil || ls.field.T != t || ls.field.Box != box) {
				ls.fieldN = NewFieldGrid(ls.vf, FieldArrows, t, box)
			}
			if g := ls.fieldN; g != nil {
				out = append(out, func(u int) int {
					n := g.Advance(u)
					if g.Ready() {
						ls.field, ls.fieldN = g, nil
					}
					return n
				})
			}
		}
		if a.s.Density {
			sl := a.models[ls.spec.model]
			if sl.density == nil {
				ext := 4.0
				if ds := a.data[ls.model.Dataset]; ds != nil && ds.ext > 0 {
					ext = 1.3 * ds.ext // a margin, so that the box edge falls where the density is ~0
				}
				sl.density = NewDensityGrid(ls.model, DensityCells, Box{-ext, -ext, ext, ext})
			}
			if g := sl.density; !g.Ready() {
				out = append(out, g.Advance)
			}
		}
	}
	return out
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

// ease moves each view towards a half-width that holds the data and the particles.
func (a *App) ease(dt float64) {
	a.layout()
	for _, ls := range a.lanes {
		if ls.lane == nil {
			continue
		}
		target := 1.0
		if ds := a.data[ls.model.Dataset]; ds != nil {
			target = math.Max(target, ds.ext)
		}
		t := math.Min(a.clock.T, ls.lane.T1())
		n := min(ls.lane.N(), 1000)
		if cap(ls.scratch) < 2*n {
			ls.scratch = make([]float32, 2*n)
		}
		buf := ls.scratch[:2*n]
		ls.lane.At(t, buf, 0, n)
		target = math.Max(target, extent(buf, 2))
		// Leave room for the panel's label at the top.
		target *= 1.08
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

// updateQuality recomputes each lane's W2 against the data at the shown time, at most
// once a second (force: now), and once more when the run is complete.
func (a *App) updateQuality(force bool) {
	now := a.seconds()
	for _, ls := range a.lanes {
		if ls.lane == nil {
			continue
		}
		ds := a.data[ls.model.Dataset]
		if ds == nil || ds.err != nil {
			continue
		}
		t := ls.lane.ShownTime(math.Min(a.clock.T, ls.lane.T1()))
		final := ls.lane.Done() && t == ls.lane.T1()
		if ls.q.w2 >= 0 && ls.q.t == t && ls.q.final == final {
			continue
		}
		if !force && !final && now-ls.q.at < 1 {
			continue
		}
		m := min(QualityPoints, ls.lane.N())
		pts := make([]float32, 2*m)
		ls.lane.At(t, pts, 0, m)
		w, err := metrics.W2(pts, ds.ref[:2*m], 2)
		if err != nil {
			w = -1
		}
		ls.q = quality{w2: w, t: t, at: now, final: final}
	}
}

// Do performs an action: "play", "pause", "toggle", "step", "back", "restart",
// "noise" (new noise, restart) or "clear" (remove dropped groups).
func (a *App) Do(action string) error {
	switch action {
	case "play":
		if !a.clock.Playing {
			a.clock.Toggle()
		}
	case "pause":
		a.clock.Playing = false
	case "toggle":
		a.clock.Toggle()
	case "step", "back":
		dir := 1
		if action == "back" {
			dir = -1
		}
		steps := 100
		if len(a.lanes) > 0 && a.lanes[0].lane != nil {
			steps = a.lanes[0].lane.Steps()
		}
		a.clock.StepTo(dir, steps)
	case "restart":
		a.clock.Restart()
	case "noise":
		s := a.s
		s.Seed++
		return a.apply(s)
	case "clear":
		a.drops = nil
		for _, ls := range a.lanes {
			ls.groups = nil
		}
	default:
		return fmt.Errorf("no action named %q (want play, pause, toggle, step, back, restart, noise or clear)", action)
	}
	return nil
}

// SetScreen tells the app the size of its canvas in pixels; the panels fill it.
func (a *App) SetScreen(w, h float64) { a.SetArea(Rect{0, 0, w, h}) }

// SetArea tells the app the part of the canvas the panels fill (the rest holds
// controls drawn by the front end).
func (a *App) SetArea(r Rect) {
	if r.W > 0 && r.H > 0 {
		a.area = r
	}
	a.layout()
}

func (a *App) layout() {
	ports := Split(a.area.W, a.area.H, len(a.lanes), 6)
	for i, ls := range a.lanes {
		p := ports[i]
		p.X += a.area.X
		p.Y += a.area.Y
		ls.view.Port = p
	}
}

// DropAt drops a group of particles at a screen point (a click or a tap), in whichever
// panel holds it. It reports whether the point was in a panel.
func (a *App) DropAt(sx, sy float64) bool {
	for _, ls := range a.lanes {
		if ls.lane != nil && ls.view.Port.Contains(sx, sy) && ls.view.Half > 0 {
			x, y := ls.view.ToData(sx, sy)
			a.Drop(x, y)
			return true
		}
	}
	return false
}

// Drop adds a group of DropSize particles around the data point (x, y) at the time
// shown, to every panel. Each group is integrated backwards to t = 0 and forwards to
// the end, so it shows where those particles came from and where they go.
func (a *App) Drop(x, y float64) {
	if len(a.drops) >= MaxDrops {
		a.drops = a.drops[1:]
		for _, ls := range a.lanes {
			if len(ls.groups) > 0 {
				ls.groups = ls.groups[1:]
			}
		}
	}
	a.dropSeed++
	a.nextDropHue += 2.39996 // the golden angle: well-separated colours
	r, g, b := Hue(a.nextDropHue, 0.85)
	t := 0.0
	if len(a.lanes) > 0 && a.lanes[0].lane != nil {
		t = a.lanes[0].lane.ShownTime(math.Min(a.clock.T, a.lanes[0].lane.T1()))
	}
	dr := drop{x: x, y: y, t: t, seed: a.dropSeed, r: r, g: g, b: b}
	a.drops = append(a.drops, dr)
	for _, ls := range a.lanes {
		if ls.lane != nil {
			ls.groups = append(ls.groups, a.groupFor(ls, dr))
		}
	}
}

func (a *App) groupFor(ls *laneState, dr drop) groupLanes {
	rng := rand.New(rand.NewPCG(dr.seed, 0xd809))
	spread := 0.035 * math.Max(ls.half, 1)
	x0 := make([]float32, 2*DropSize)
	for i := 0; i < DropSize; i++ {
		x0[2*i] = float32(dr.x + spread*rng.NormFloat64())
		x0[2*i+1] = float32(dr.y + spread*rng.NormFloat64())
	}
	l := ls.lane
	end := l.T1()
	t := math.Min(dr.t, end)
	var g groupLanes
	stepsFor := func(span float64) int {
		return max(1, int(math.Round(float64(l.Steps())*span/(end-l.T0()))))
	}
	if t-l.T0() > 1e-9 {
		g.back, _ = NewLane(ls.vf, l.Method(), stepsFor(t-l.T0()), t, l.T0(), x0)
	}
	if end-t > 1e-9 {
		g.fwd, _ = NewLane(ls.vf, l.Method(), stepsFor(end-t), t, end, x0)
	}
	return g
}

// Settle takes in every pending model load and finishes all the work: for tests and for
// the desktop build's screenshot mode.
func (a *App) Settle() {
	a.drainLoads(true)
	a.ease(0)
	for _, ls := range a.lanes {
		if ls.lane == nil {
			continue
		}
		ls.lane.Finish()
		for _, g := range ls.groups {
			for _, l := range []*Lane{g.back, g.fwd} {
				if l != nil {
					l.Finish()
				}
			}
		}
	}
	for tasks := a.overlayTasks(); len(tasks) > 0; tasks = a.overlayTasks() {
		for _, f := range tasks {
			f(1 << 20)
		}
	}
	a.ease(0)
	a.updateQuality(true)
}

// Frame records that a frame was drawn, for the frame rate and the time to first frame.
func (a *App) Frame() {
	now := a.cfg.Now()
	a.frames++
	if a.firstFrame == 0 && len(a.lanes) > 0 && a.lanes[0].lane != nil {
		a.firstFrame = max(now.Sub(a.start), time.Nanosecond)
	}
	a.frameTimes = append(a.frameTimes, now)
	for len(a.frameTimes) > 1 && now.Sub(a.frameTimes[0]) > time.Second {
		a.frameTimes = a.frameTimes[1:]
	}
	if n := len(a.frameTimes); n > 1 {
		if span := a.frameTimes[n-1].Sub(a.frameTimes[0]).Seconds(); span > 0 {
			a.fps = float64(n-1) / span
		}
	}
}

// FirstFrame is the time from New to the first frame that showed particles (0 before).
func (a *App) FirstFrame() time.Duration { return a.firstFrame }
