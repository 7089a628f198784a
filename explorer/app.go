package explorer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/flowmatch/flowmatch/metrics"
)

// Config connects an [App] to the outside world.
type Config struct {
	// Load fetches and decodes one model. The app calls it on a goroutine of its own, so
	// it may block (on a network fetch, say).
	Load func(e Entry) (*Model, error)
	// Data draws n points of a dataset (n×d values, in the dataset's dimension d) for
	// the faint true-data overlay and the live quality figure. Nil turns both off.
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

// modelSlot is one model of the manifest: loading, loaded or failed, with its learned
// density once asked for (shared by every panel that shows the model).
type modelSlot struct {
	entry   Entry
	model   *Model
	err     error
	pending bool
	density *DensityGrid
	local   bool // trained here ("Your data"): the pool's workers do not have its file
}

// dataSlot is a dataset's true-data sample, drawn once.
type dataSlot struct {
	pts   []float32 // DataPoints points for the overlay
	ref   []float32 // QualityPoints further points, for the live W2
	dim   int       // values per point
	floor float64   // W2 between ref and pts[:QualityPoints]: the data-vs-data floor
	ext   float64   // half-width that holds the data
	err   error
}

type loadResult struct {
	name  string
	model *Model
	err   error
}

// App is the explorer's whole state: settings, models, the lanes of particles being
// integrated and shown, dropped groups, overlays and the animation clock. It draws
// nothing itself: a front end (the Ebiten game) calls Update once a frame, draws the
// [Scene], and forwards input to Set, Do, Key and DropAt.
//
// An App is not safe for concurrent use; model loads finish on other goroutines but are
// only taken in by Update.
type App struct {
	cfg   Config
	man   *Manifest
	s     Settings
	table []control // the controls: controlTable, or a test's copy
	clock Clock     // the animation's schedule

	// What has been loaded, kept for the app's life: models by manifest name, true-data
	// samples by dataset. Loads finish on goroutines of their own and arrive on results.
	models  map[string]*modelSlot
	data    map[string]*dataSlot
	results chan loadResult

	lanes []*laneState // one per panel, as specs lists them
	pool  poolLink     // the lanes' share-out over cfg.Pool
	drops dropState    // groups dropped by clicks, one group per panel each
	area  Rect         // where the panels go on the screen
	msg   messages     // what the screen says besides the panels

	ShowHelp bool // the keyboard help is shown over the panels

	own ownState // the "Your data" mode (ownmode.go)
	img imgState // the Images mode (images.go)

	timing timing // frame times and the size of a piece of work
}

// poolLink is what the app keeps for the pool its lanes are farmed out to.
type poolLink struct {
	lastJob int      // the last job id handed out
	buf     []Result // reused by drainPool
}

// messages are the words the screen shows besides the panels.
type messages struct {
	fatal    string // nothing can be shown (no manifest)
	notice   string // a passing message, e.g. a rejected key
	noticeAt time.Time
}

// timing is the app's record of time: frames, their rate, and how much work fits in one.
type timing struct {
	start, last time.Time
	frameDt     float64 // eased seconds per Update
	frameTimes  []time.Time
	fps         float64
	frames      int64
	firstFrame  time.Duration // from New to the first frame with particles or images
	chunk       int           // particle-evaluations in one piece of work (see spend)
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
	a.timing.start = cfg.Now()
	a.timing.last = a.timing.start
	if fatalErr != nil {
		a.msg.fatal = fatalErr.Error()
	}
	if man == nil {
		if a.msg.fatal == "" {
			a.msg.fatal = "no models"
		}
		return a
	}
	if err := man.Validate(); err != nil {
		a.msg.fatal, a.man = err.Error(), nil
		return a
	}
	a.pickModel()
	a.apply(a.s)
	return a
}

// pickModel makes the settings' dataset and path name a model of the manifest: the
// default model when no dataset is asked for or the dataset has none.
func (a *App) pickModel() {
	man := a.man
	if len(man.Datasets()) == 0 {
		a.s.Mode = ModeImages // image models only
		return
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
}

// Settings returns the current settings.
func (a *App) Settings() Settings { return a.s }

// Manifest returns the models the app knows (nil if none).
func (a *App) Manifest() *Manifest { return a.man }

// Clock returns the animation's schedule: the time shown, the end, whether it plays and
// how fast. It is a copy, and cheap: a front end reads it for a play button or a time
// slider without building a [Scene].
func (a *App) Clock() Clock { return a.clock }

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
	prev := a.s
	a.s = s
	a.clock.Speed = s.Speed
	a.ownSettings(prev)
	a.sync()
	a.imgSync()
	return nil
}

// specs are the lanes the settings ask for: one, or two side by side.
func (a *App) specs() []laneSpec {
	s := a.s
	if s.Mode == ModeYours {
		return a.ownSpecs()
	}
	if s.Mode == ModeImages || len(a.man.Datasets()) == 0 {
		return nil // the Images mode has a run of its own (images.go)
	}
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
	x0, colors := startingPoints(m, ls.spec.seed, ls.spec.particles)
	ls.colors = colors
	steps := StepsFor(ls.spec.solver, ls.spec.nfe)
	t0, t1 := m.tRange()
	lane, err := NewLane(ls.vf, ls.spec.solver, steps, t0, t1, x0)
	if err != nil {
		a.Notify(err.Error())
		return
	}
	if a.cfg.Pool != nil && !sl.local {
		lane.Farm(a.cfg.Pool, m.Name, func() int { a.pool.lastJob++; return a.pool.lastJob })
	}
	ls.lane = lane
	ls.half = 0
	ls.q = quality{w2: -1}
	ls.ov.field, ls.ov.fieldN = nil, nil
	ls.groups = nil
	for _, dr := range a.drops.list {
		ls.groups = append(ls.groups, a.groupFor(ls, dr))
	}
	a.updateEnd()
}

// startingPoints are n particles of model m at the start of its path, in data space,
// drawn from seed's noise, and their colours (r, g, b per particle): the direction and
// size of each particle's first two noise coordinates, black in one dimension.
func startingPoints(m *Model, seed uint64, n int) (x0, colors []float32) {
	d := m.Dim()
	z := Noise(seed, n, d)
	s0 := m.Path.SourceStd()
	x0 = make([]float32, len(z))
	colors = make([]float32, 3*n)
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
			colors[3*i], colors[3*i+1], colors[3*i+2] = Hue(ang, 0.35+0.5*math.Min(rad/2.5, 1))
		}
	}
	return x0, colors
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

// dataFor returns the true-data sample of a dataset, drawing it the first time. Its
// dimension is what the data source gives: values per point.
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
	d := len(pts) / DataPoints
	if err == nil && (d < 1 || len(pts) != d*DataPoints || len(ds.ref) != d*QualityPoints) {
		err = fmt.Errorf("the data source gave %d and %d values for %d and %d points", len(pts), len(ds.ref), DataPoints, QualityPoints)
	}
	if err != nil {
		ds.err = err
		return ds
	}
	ds.pts, ds.dim = pts, d
	ds.ext = extent(pts, d)
	if w, err := metrics.W2(ds.ref, pts[:d*QualityPoints], d); err == nil {
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
		a.takeLoad(r)
	}
}

// takeLoad keeps a finished load in its slot and builds the lanes waiting for it.
func (a *App) takeLoad(r loadResult) {
	sl := a.models[r.name]
	sl.pending = false
	if r.err == nil {
		r.err = r.model.Check()
	}
	if r.err == nil {
		r.err = kindMismatch(sl.entry, r.model)
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

// drainPool hands the pool's results to the lanes they belong to; results of lanes that
// are gone are dropped.
func (a *App) drainPool() {
	if a.cfg.Pool == nil {
		return
	}
	a.pool.buf = a.cfg.Pool.Poll(a.pool.buf[:0])
	for _, r := range a.pool.buf {
		if a.ownTake(r) || a.imgTake(r) {
			continue
		}
		for _, ls := range a.lanes {
			if ls.lane != nil && ls.lane.Deliver(r) {
				break
			}
		}
	}
	clear(a.pool.buf) // let the positions go
}

func (a *App) seconds() float64 { return a.cfg.Now().Sub(a.timing.start).Seconds() }

// Update advances the app by one frame: takes in loaded models, moves the clock and
// spends part of the frame integrating. Call it once per frame.
func (a *App) Update() {
	now := a.cfg.Now()
	dt := now.Sub(a.timing.last).Seconds()
	a.timing.last = now
	if dt < 0 || dt > 0.25 {
		dt = 0.25 // a tab in the background, or a slow frame: do not jump
	}
	if a.timing.frameDt == 0 {
		a.timing.frameDt = 1.0 / 60
	} else if dt > 0 {
		a.timing.frameDt += 0.1 * (dt - a.timing.frameDt)
	}
	a.drainLoads(false)
	if a.man == nil {
		return
	}
	a.drainPool()
	a.ownUpdate()
	a.imgUpdate()
	a.clock.Tick(dt, a.limit())
	// Spend about half the frame computing, so the page stays responsive at any size: 8 ms
	// of a 60 Hz frame; more where frames are slow anyway (software rendering).
	budget := math.Min(math.Max(0.5*a.timing.frameDt, 0.004), 0.06)
	a.work(budget)
	a.ease(dt)
	a.updateQuality(false)
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
		if a.s.Mode == ModeImages && a.imgSteps() > 0 {
			steps = a.imgSteps()
		}
		a.clock.StepTo(dir, steps)
	case "restart":
		a.clock.Restart()
	case "noise":
		s := a.s
		s.Seed++
		return a.apply(s)
	case "clear":
		a.clearDrops()
	default:
		if ok, err := a.ownDo(action); ok {
			return err
		}
		return fmt.Errorf("no action named %q (want play, pause, toggle, step, back, restart, noise, clear, train, hold, reset or erase-all)", action)
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

// Settle takes in every pending model load and finishes all the work: for tests and for
// the desktop build's screenshot mode.
func (a *App) Settle() {
	a.imgSettle()
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
	tm := &a.timing
	now := a.cfg.Now()
	tm.frames++
	if tm.firstFrame == 0 && a.showing() {
		tm.firstFrame = max(now.Sub(tm.start), time.Nanosecond)
	}
	tm.frameTimes = append(tm.frameTimes, now)
	for len(tm.frameTimes) > 1 && now.Sub(tm.frameTimes[0]) > time.Second {
		tm.frameTimes = tm.frameTimes[1:]
	}
	if n := len(tm.frameTimes); n > 1 {
		if span := tm.frameTimes[n-1].Sub(tm.frameTimes[0]).Seconds(); span > 0 {
			tm.fps = float64(n-1) / span
		}
	}
}

// showing reports whether a frame drawn now shows the model's work: particles in the
// 2-D views, the grid of images (its noise at t = 0 first) in the Images mode.
func (a *App) showing() bool {
	if a.s.Mode == ModeImages {
		return a.img.run != nil
	}
	return len(a.lanes) > 0 && a.lanes[0].lane != nil
}

// FirstFrame is the time from New to the first frame that showed particles, or images
// in the Images mode (0 before).
func (a *App) FirstFrame() time.Duration { return a.timing.firstFrame }
