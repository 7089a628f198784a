package explorer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/sampler"
)

// The "Your data" mode: a person draws points (or drops a CSV, or starts from a toy),
// trains a network on them in a worker (a [KindTrain] job, see trainjob.go) and watches
// the particles flow with the weights as they train. Its settings are rows of the
// control table shown in that mode only; the app reaches it through a few hooks (specs,
// drainPool, Scene, status, DropAt, Do, apply).

// Modes of the app.
const (
	ModeModels = "models" // the manifest's trained models
	ModeYours  = "yours"  // your data: draw, train, watch
)

// ownDataset is the dataset name of the trained model and of the points in the app.
const ownDataset = "yours"

// ToyPoints is how many points a toy starts the drawing with.
const ToyPoints = 2000

// OwnSettings are the "Your data" mode's settings.
type OwnSettings struct {
	Tool     string  // "draw" or "erase"
	Spread   float64 // the brush's standard deviation, data units
	Density  int     // points per dab
	Toy      string  // "none" or the toy the points started from
	Steps    int     // training steps
	Coupling string  // CouplingIndependent or CouplingOT
	Net      string  // hidden layers as "3x64"
}

// DefaultOwnSettings are the mode's settings at start.
func DefaultOwnSettings() OwnSettings {
	return OwnSettings{Tool: "draw", Spread: 0.1, Density: 4, Toy: "none", Steps: DefaultTrainSteps, Coupling: CouplingIndependent, Net: "3x64"}
}

var (
	spreadOptions    = []float64{0.02, 0.05, 0.1, 0.2, 0.4}
	densityOptions   = []int{1, 2, 4, 8, 16, 32}
	trainStepOptions = []int{500, 1000, 2000, 3000, 5000, 10000, 20000}
	netOptions       = []string{"2x32", "3x64", "3x128", "3x256"}
)

// Training states, as the status reports them.
const (
	TrainIdle     = "idle"     // no model yet
	TrainRunning  = "training" // the worker is training
	TrainPaused   = "paused"   // held; resume with Do("train")
	TrainDone     = "done"     // all steps taken
	TrainFailed   = "failed"   // the worker said why (Error)
	maxLossPoints = 1000       // the loss curve's points, thinned by halves
)

// ownState is the mode's state in the app.
type ownState struct {
	pts    []float32 // data coordinates, n×2
	name   string    // what they are: "drawn", a CSV's name, a toy's name
	source string    // "drawn", "csv", "url", "toy" or "link"
	sha    string    // the SHA-256 of the CSV the points were read from ("": PointsCSV's)
	rng    *rand.Rand
	view   View // the drawing's view: fixed while drawing, so the brush stays under the pointer
	msg    string
	loads  chan ownLoad // points read on other goroutines (?data=URL), taken in by Update

	job     int  // the training job's id (0: none)
	private Pool // a pool of its own when the app has none
	state   string
	spec    TrainSpec
	step    int
	loss    float64
	seconds float64
	losses  []float32
	every   int    // reports per loss point
	count   int    // reports since the last loss point
	file    []byte // the latest model file
	pending []byte // a model file not yet shown
	shown   int    // model files shown
	model   string // the model slot shown ("yours#k")
	err     string
}

// ownLoad is a set of points read elsewhere, or why not.
type ownLoad struct {
	name, source string
	pts          []float32
	err          error
}

func (o *ownState) init() {
	if o.rng == nil {
		o.rng = rand.New(rand.NewPCG(1, 0xd7a3))
		o.loads = make(chan ownLoad, 4)
		o.state = TrainIdle
		o.view.Half = 3
		o.every = 1
	}
}

// Points returns a copy of the mode's points (n×2, data coordinates).
func (a *App) Points() []float32 { return slices.Clone(a.own.pts) }

// ModelFile returns the latest model file trained in the mode and a file name for it
// (nil when there is none).
func (a *App) ModelFile() ([]byte, string) {
	if a.own.file == nil {
		return nil, ""
	}
	return a.own.file, fmt.Sprintf("%s-ot-%dsteps.safetensors", fileSafe(strings.TrimSuffix(a.own.name, ".csv")), a.own.step)
}

// fileSafe keeps letters, digits, '-', '_' and '.' of name, and makes the rest '-'.
func fileSafe(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '-'
	}, name)
}

// SetPoints replaces the mode's points (n×2, data coordinates), called name, from
// source ("drawn", "csv", "url", "toy" or "link"), and frames them in the view.
func (a *App) SetPoints(name, source string, pts []float32) error {
	if len(pts)%PlotDim != 0 || len(pts)/PlotDim > MaxTrainPoints {
		return fmt.Errorf("%s: %d values are not at most %d 2-D points", name, len(pts), MaxTrainPoints)
	}
	for _, v := range pts {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%s: the points are not all finite", name)
		}
	}
	o := &a.own
	o.init()
	o.pts, o.name, o.source, o.msg, o.sha = slices.Clone(pts), name, source, "", ""
	o.frame()
	a.ownData()
	return nil
}

// LoadCSV reads points from a CSV file's bytes (dropped or pasted) into the mode.
func (a *App) LoadCSV(name string, b []byte) error {
	pts, err := ReadPoints(name, b)
	if err == nil {
		err = a.SetPoints(name, "csv", pts)
	}
	if err != nil {
		a.own.msg = err.Error()
		return err
	}
	a.own.sha = sha256Hex(b)
	return nil
}

// PointsCSV returns the mode's points as a CSV file (header x0,x1, then one point a
// row, each value as Go's shortest float32 text) and a name for it: what flowmatch eval
// -data takes to score a model trained on points that came from no file.
func (a *App) PointsCSV() ([]byte, string) {
	var b bytes.Buffer
	b.WriteString("x0,x1\n")
	for i := 0; i+1 < len(a.own.pts); i += 2 {
		b.WriteString(strconv.FormatFloat(float64(a.own.pts[i]), 'g', -1, 32))
		b.WriteByte(',')
		b.WriteString(strconv.FormatFloat(float64(a.own.pts[i+1]), 'g', -1, 32))
		b.WriteByte('\n')
	}
	return b.Bytes(), a.pointsFile()
}

// pointsFile is the name of the points' file: a dropped CSV's own, else the points'
// name with .csv.
func (a *App) pointsFile() string {
	o := &a.own
	if o.sha != "" {
		return o.name
	}
	return strings.TrimSuffix(fileSafe(orDash(o.name)), ".csv") + ".csv"
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// QueueLoad hands the app points read on another goroutine (a fetched ?data=URL), or the
// error that stopped them; Update takes them in.
func (a *App) QueueLoad(name, source string, b []byte, err error) {
	a.own.init()
	var pts []float32
	if err == nil {
		pts, err = ReadPoints(name, b)
	}
	a.own.loads <- ownLoad{name: name, source: source, pts: pts, err: err}
}

// frame fits the view to the points: centred on their bounding box with a margin,
// and at least ±1.5 so a few drawn points do not fill the screen.
func (o *ownState) frame() {
	if len(o.pts) == 0 {
		return
	}
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for i := 0; i+1 < len(o.pts); i += 2 {
		x, y := float64(o.pts[i]), float64(o.pts[i+1])
		x0, x1, y0, y1 = math.Min(x0, x), math.Max(x1, x), math.Min(y0, y), math.Max(y1, y)
	}
	o.view.CX, o.view.CY = (x0+x1)/2, (y0+y1)/2
	o.view.Half = math.Max(1.15*math.Max(x1-x0, y1-y0)/2, 1e-6)
	if o.source == "toy" || o.source == "link" {
		o.view.Half = math.Max(o.view.Half, 1.5)
	}
}

// ownData keeps the true-data slot of the mode's points up to date: the overlay and the
// live W2 against them.
func (a *App) ownData() {
	o := &a.own
	ds := &dataSlot{pts: o.pts, dim: PlotDim, floor: -1, ext: o.view.Half}
	if n := len(o.pts) / PlotDim; n >= 2*QualityPoints {
		// The first QualityPoints points of a shuffled copy are the reference.
		cp := slices.Clone(o.pts)
		rng := rand.New(rand.NewPCG(9, 9))
		for i := n - 1; i > 0; i-- {
			j := rng.IntN(i + 1)
			cp[2*i], cp[2*j] = cp[2*j], cp[2*i]
			cp[2*i+1], cp[2*j+1] = cp[2*j+1], cp[2*i+1]
		}
		ds.ref = cp[:PlotDim*QualityPoints]
	}
	a.data[ownDataset] = ds
}

// ownPress paints or erases at a screen point of the drawing (a press or a drag).
func (a *App) ownPress(sx, sy float64) bool {
	o := &a.own
	o.init()
	if !o.view.Port.Contains(sx, sy) {
		return false
	}
	x, y := o.view.ToData(sx, sy)
	s := a.s.Own
	if s.Tool == "erase" {
		o.pts = Erase(o.pts, x, y, 2*s.Spread)
	} else if len(o.pts)/PlotDim+s.Density <= MaxTrainPoints {
		o.pts = Brush(o.pts, x, y, s.Spread, s.Density, o.rng)
	}
	o.sha = "" // the points are no longer the file's
	if o.source != "drawn" {
		o.source = "drawn"
		if o.name == "" {
			o.name = "drawn"
		} else if !strings.HasSuffix(o.name, "+drawn") {
			o.name += "+drawn"
		}
	}
	a.ownData()
	return true
}

// DragAt continues a stroke of the brush at a screen point (the pointer moved with its
// button down); outside the "Your data" mode it does nothing.
func (a *App) DragAt(sx, sy float64) bool {
	if a.s.Mode != ModeYours {
		return false
	}
	return a.ownPress(sx, sy)
}

// ownDo performs the mode's actions: "train" (start, or resume when paused), "hold"
// (pause the training), "reset" (drop the model) and "erase-all" (drop the points). It
// reports whether action was one of them.
func (a *App) ownDo(action string) (bool, error) {
	o := &a.own
	o.init()
	switch action {
	case "train":
		if o.state == TrainPaused {
			a.ownHold(false)
			return true, nil
		}
		return true, a.startTraining()
	case "hold":
		if o.state == TrainRunning {
			a.ownHold(true)
		}
		return true, nil
	case "reset":
		a.stopTraining()
		o.file, o.pending, o.losses, o.step, o.loss, o.seconds, o.err = nil, nil, nil, 0, 0, 0, ""
		o.state = TrainIdle
		a.dropOwnModel()
		return true, nil
	case "erase-all":
		o.pts, o.name, o.source, o.sha = nil, "", "", ""
		a.s.Own.Toy = "none"
		a.ownData()
		return true, nil
	}
	return false, nil
}

// ownPool is where training runs: the app's pool, or one goroutine of its own.
func (a *App) ownPool() Pool {
	if a.cfg.Pool != nil && a.cfg.Pool.Workers() > 0 {
		return a.cfg.Pool
	}
	if a.own.private == nil {
		a.own.private = NewGoPool(1)
	}
	return a.own.private
}

// trainSpec is the training job the settings ask for.
func (a *App) trainSpec() (TrainSpec, error) {
	o, s := &a.own, a.s.Own
	var hidden []int
	layers, width, ok := strings.Cut(s.Net, "x")
	nl, err1 := strconv.Atoi(layers)
	nw, err2 := strconv.Atoi(width)
	if !ok || err1 != nil || err2 != nil || nl < 1 || nw < 1 {
		return TrainSpec{}, fmt.Errorf("network %q: want layers x width, like 3x64", s.Net)
	}
	for range nl {
		hidden = append(hidden, nw)
	}
	sha := o.sha
	if sha == "" {
		b, _ := a.PointsCSV()
		sha = sha256Hex(b)
	}
	return TrainSpec{Name: o.name, Source: o.source, File: a.pointsFile(), SHA256: sha, Points: slices.Clone(o.pts), Dim: PlotDim,
		Coupling: s.Coupling, Hidden: hidden, Steps: s.Steps, Seed: a.s.Seed}, nil
}

// startTraining starts a new training job on the points, dropping any before.
func (a *App) startTraining() error {
	o := &a.own
	if n := len(o.pts) / PlotDim; n < 2 {
		return fmt.Errorf("train: %d points; draw some, drop a CSV or start from a toy", n)
	}
	spec, err := a.trainSpec()
	if err != nil {
		return err
	}
	a.stopTraining()
	a.pool.lastJob++
	o.job, o.spec = a.pool.lastJob, spec
	o.state, o.step, o.loss, o.seconds, o.losses, o.err, o.every, o.count = TrainRunning, 0, 0, 0, nil, "", 1, 0
	a.ownPool().Start(0, Job{ID: o.job, Kind: KindTrain, Steps: spec.Steps, Train: &spec})
	return nil
}

// stopTraining cancels the training job, if one runs.
func (a *App) stopTraining() {
	o := &a.own
	if o.job != 0 {
		a.ownPool().Cancel(0, o.job)
		o.job = 0
	}
}

// ownHold pauses or resumes the training job.
func (a *App) ownHold(hold bool) {
	o := &a.own
	h, ok := a.ownPool().(Holder)
	if !ok || o.job == 0 {
		return
	}
	h.Hold(0, o.job, hold)
	o.state = map[bool]string{true: TrainPaused, false: TrainRunning}[hold]
}

// ownTake takes in a result of the training job; it reports whether r was one.
func (a *App) ownTake(r Result) bool {
	o := &a.own
	if o.job == 0 || r.ID != o.job {
		return false
	}
	if r.Err != nil {
		o.state, o.err, o.job = TrainFailed, r.Err.Error(), 0
		return true
	}
	o.step, o.loss, o.seconds = r.Step, r.Loss, r.Seconds
	if o.count++; o.count >= o.every {
		o.count = 0
		o.losses = append(o.losses, float32(r.Loss))
		if len(o.losses) >= maxLossPoints {
			for i := range len(o.losses) / 2 {
				o.losses[i] = o.losses[2*i+1]
			}
			o.losses = o.losses[:len(o.losses)/2]
			o.every *= 2
		}
	}
	if r.File != nil {
		o.file, o.pending = r.File, r.File
	}
	if r.Step >= o.spec.Steps && r.File != nil {
		o.state, o.job = TrainDone, 0
	}
	return true
}

// ownUpdate takes in loaded points and training results, and shows the newest model
// file: at once while training (the particles flow to where the model is now), and
// from the start of the flow when training ends.
func (a *App) ownUpdate() {
	o := &a.own
	o.init()
	select {
	case l := <-o.loads:
		if l.err == nil {
			l.err = a.SetPoints(l.name, l.source, l.pts)
		}
		if l.err != nil {
			o.msg = l.err.Error()
		}
	default:
	}
	if o.private != nil {
		for _, r := range o.private.Poll(nil) {
			a.ownTake(r)
		}
	}
	if a.s.Mode != ModeYours {
		return
	}
	if o.pending != nil {
		a.showOwnModel()
	}
	for _, ls := range a.lanes {
		ls.view.CX, ls.view.CY, ls.view.Half, ls.half = o.view.CX, o.view.CY, o.view.Half, o.view.Half
	}
}

// showOwnModel makes the pending model file the shown model: a new slot, and a lane
// from fresh noise through it.
func (a *App) showOwnModel() {
	o := &a.own
	b := o.pending
	o.pending = nil
	o.shown++
	name := fmt.Sprintf("%s#%d", ownDataset, o.shown)
	m, err := DecodeModel(name, ownDataset, b)
	if err == nil {
		err = m.Check()
	}
	if err != nil {
		o.err = err.Error()
		return
	}
	m.Dataset = ownDataset
	a.dropOwnModel()
	a.models[name] = &modelSlot{entry: Entry{Name: name, Dataset: ownDataset, Path: sampler.PathOT, Coupling: o.spec.Coupling}, model: m, local: true}
	o.model = name
	a.sync()
	if o.state == TrainRunning {
		// While training, show where the particles go now; when it ends, the whole flow.
		a.clock.Seek(a.clock.End)
		a.clock.Playing = false
	}
}

// dropOwnModel forgets the shown model's slot.
func (a *App) dropOwnModel() {
	o := &a.own
	if o.model != "" {
		delete(a.models, o.model)
		o.model = ""
	}
	a.sync()
}

// ownSpecs are the mode's lanes: one through the shown model, none before there is one.
func (a *App) ownSpecs() []laneSpec {
	o := &a.own
	if o.model == "" || a.models[o.model] == nil {
		return nil
	}
	s := a.s
	return []laneSpec{{o.model, s.Solver, s.NFE, s.Particles, s.Seed}}
}

// ownScene puts the mode's drawing in the scene: the points over the panel (a panel of
// its own before any model), the loss curve and the training's state in the title.
func (a *App) ownScene(sc *Scene) {
	o := &a.own
	o.init()
	ports := Split(a.area.W, a.area.H, 1, 6)
	o.view.Port = Rect{X: a.area.X + ports[0].X, Y: a.area.Y + ports[0].Y, W: ports[0].W, H: ports[0].H}
	if len(sc.Panels) == 0 {
		sc.Panels = append(sc.Panels, Panel{View: o.view, Message: "Draw points with the mouse or a finger, drop or paste a CSV of x,y rows, or start from a toy; then Train."})
		if len(o.pts) > 0 {
			sc.Panels[0].Message = ""
		}
	}
	p := &sc.Panels[0]
	p.View = o.view
	p.Data = o.pts
	p.Loss = o.losses
	p.Title = fmt.Sprintf("your data · %s · %d points", orDash(o.name), len(o.pts)/PlotDim)
	if o.state != TrainIdle {
		p.Title += fmt.Sprintf(" · %s, step %d of %d, loss %.4f", o.state, o.step, o.spec.Steps, o.loss)
	}
	if msg := a.ownError(); msg != "" {
		p.Message = msg
	}
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// ownError is the mode's problem, if any: a file that did not read, a training that
// failed.
func (a *App) ownError() string {
	if a.own.err != "" {
		return "training: " + a.own.err
	}
	return a.own.msg
}

// TrainStatus is the "Your data" mode's part of [Status].
type TrainStatus struct {
	State       string  `json:"state"` // idle, training, paused, done or failed
	Step        int     `json:"step"`
	Steps       int     `json:"steps"`
	Loss        float64 `json:"loss"`        // smoothed
	StepsPerSec float64 `json:"stepsPerSec"` // over the time spent training
	Seconds     float64 `json:"seconds"`
	Points      int     `json:"points"`
	Data        string  `json:"data"`   // the points' name
	Models      int     `json:"models"` // model files shown so far
	HasModel    bool    `json:"hasModel"`
	Error       string  `json:"error,omitempty"`
	// View is where the drawing is on the canvas (Port, in the canvas's pixels) and what
	// it shows (the square of half-width Half around CX, CY, y up): where a script draws.
	View View `json:"view"`
}

// ownStatus is the mode's status.
func (a *App) ownStatus() *TrainStatus {
	o := &a.own
	o.init()
	st := &TrainStatus{State: o.state, Step: o.step, Steps: o.spec.Steps, Loss: o.loss, Seconds: math.Round(o.seconds*1000) / 1000,
		Points: len(o.pts) / PlotDim, Data: o.name, Models: o.shown, HasModel: o.file != nil, Error: a.ownError(), View: o.view}
	if o.seconds > 0 {
		st.StepsPerSec = math.Round(float64(o.step)/o.seconds*10) / 10
	}
	return st
}

// toyOptions are the toys the drawing may start from.
func toyOptions(*App) []string { return append([]string{"none"}, dataset.Names()...) }

// ownSettings reacts to a change of the mode's settings: a toy chosen replaces the
// points with ToyPoints of it.
func (a *App) ownSettings(prev Settings) {
	if a.s.Own.Toy == prev.Own.Toy || a.s.Own.Toy == "none" || dataset.Dim(a.s.Own.Toy) != PlotDim {
		return
	}
	pts, err := dataset.Sample(a.s.Own.Toy, ToyPoints, rand.New(rand.NewPCG(a.s.Seed, 0x70f)))
	if err == nil {
		err = a.SetPoints(a.s.Own.Toy, "toy", pts)
	}
	if err != nil {
		a.own.msg = err.Error()
	}
}

// Press handles a click or tap at a screen point: a dab of the brush in the "Your
// data" mode, else a dropped group ([App.DropAt]). It reports whether the point was in
// a panel.
func (a *App) Press(sx, sy float64) bool {
	if a.s.Mode == ModeYours {
		return a.ownPress(sx, sy)
	}
	return a.DropAt(sx, sy)
}
