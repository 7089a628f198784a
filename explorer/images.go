package explorer

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/unet"
	"github.com/flowmatch/flowmatch/weights"
)

// The Images mode: a grid of images forming from noise through a class-conditional
// U-Net with classifier-free guidance ([ImageRun]), computed in the workers (a
// [KindImages] job each), with a class picker, a guidance weight, the solver and NFE
// of the other modes, and x̂₁ beside x_t. It reaches the app through a few hooks
// (specs, drainPool, work, limit, Scene, status, hud, Do, Settle, apply, takeLoad).

// ModeImages is the Images mode's name (Settings.Mode).
const ModeImages = "images"

// KindImage is the kind of a manifest entry for an image model ([Entry.Kind]).
const KindImage = "image"

// ClassAll is the class setting that gives image i class i mod the number of classes.
const ClassAll = "all"

// Limits and defaults of the Images mode.
const (
	DefaultImageCount = 16
	MaxImageCount     = 64
	MaxGuidance       = 4.0
)

var (
	imageCountOptions = []int{4, 9, 16, 25, 36, 49, 64}
	guidanceOptions   = []float64{0, 0.5, 1, 1.5, 2, 3, 4}
)

// ImageSettings are the Images mode's settings; the solver and NFE are the app's.
type ImageSettings struct {
	Model    string  // the image model's manifest name; "" for the first
	Class    string  // ClassAll or a class name
	Guidance float64 // classifier-free guidance weight w, 0 to MaxGuidance
	Count    int     // images in the grid, 1 to MaxImageCount
	Clean    bool    // show the predicted clean images x̂₁ beside x_t
}

// DefaultImageSettings are the mode's settings at start: 16 images of all classes,
// guidance 1.
func DefaultImageSettings() ImageSettings {
	return ImageSettings{Class: ClassAll, Guidance: 1, Count: DefaultImageCount}
}

// IsImage reports whether the entry is an image model's (the Images mode's).
func (e Entry) IsImage() bool { return e.Kind == KindImage }

// IsImage reports whether the model is an image model: a U-Net, which the Images mode
// shows and the 2-D pictures do not.
func (m *Model) IsImage() bool { return m.Arch == weights.ArchUNet }

// UNet is an image model's network.
func (m *Model) UNet() (*unet.Net, error) {
	net, ok := m.Field.(*unet.Net)
	if !ok || !m.IsImage() {
		return nil, fmt.Errorf("model %s is a %s model of dimension %d, not an image model (a U-Net, arch unet)", m.Name, orDash(m.Arch), m.Dim())
	}
	return net, nil
}

// describe says what kind of model m is, for messages: "an image model (fashion-mnist,
// 1×28×28)" or "a 2-D model (moons)".
func (m *Model) describe() string {
	if m.IsImage() {
		return fmt.Sprintf("an image model (%s, %s)", orDash(m.Data.Name), shapeText(m.Data.Shape))
	}
	return fmt.Sprintf("a %d-D model (%s)", m.Dim(), orDash(m.Dataset))
}

func shapeText(s []int) string {
	p := make([]string, len(s))
	for i, v := range s {
		p[i] = strconv.Itoa(v)
	}
	return strings.Join(p, "×")
}

// kindMismatch says why a loaded model does not fit the entry it was loaded for: an
// image model where the manifest promised a 2-D one, or the reverse.
func kindMismatch(e Entry, m *Model) error {
	switch {
	case m.IsImage() && !e.IsImage():
		return fmt.Errorf("%s is %s: it is shown in the Images mode (mode=images), not with the 2-D models", e.Name, m.describe())
	case !m.IsImage() && e.IsImage():
		return fmt.Errorf("%s is %s: the Images mode shows image models (a U-Net, arch unet)", e.Name, m.describe())
	}
	return nil
}

// imgState is the mode's state in the app.
type imgState struct {
	run     *ImageRun
	key     imgKey
	slot    string // the model slot the run uses
	started time.Time
	seconds float64 // the last run's seconds from its start to t = 1 (0: not yet)
	msg     string  // why there is no run
	dropped []Entry // image model files dropped on the page, as local slots
	shown   struct {
		run   *ImageRun
		k     int
		clean bool
		grid  *ImageGrid
	}
}

// imgKey is what a run depends on: a change rebuilds it.
type imgKey struct {
	model, class, solver string
	guidance             float64
	count, nfe           int
	seed                 uint64
}

// imageEntries are the image models: the manifest's, then those dropped on the page.
func (a *App) imageEntries() []Entry {
	var out []Entry
	if a.man != nil {
		for _, e := range a.man.Models {
			if e.IsImage() {
				out = append(out, e)
			}
		}
	}
	return append(out, a.img.dropped...)
}

// imageEntry is the image model the settings name (the first for "").
func (a *App) imageEntry(s Settings) (Entry, bool) {
	es := a.imageEntries()
	for _, e := range es {
		if e.Name == s.Img.Model {
			return e, true
		}
	}
	if len(es) > 0 {
		return es[0], true
	}
	return Entry{}, false
}

func imageModelOptions(a *App) []string {
	var out []string
	for _, e := range a.imageEntries() {
		out = append(out, e.Name)
	}
	return out
}

// classOptions are ClassAll and the image model's class names.
func classOptions(a *App) []string {
	e, _ := a.imageEntry(a.s)
	return append([]string{ClassAll}, e.Classes...)
}

// setClass takes ClassAll, a class name (in any case) or a class number.
func setClass(a *App, s *Settings, v string) error {
	e, _ := a.imageEntry(*s)
	if strings.EqualFold(v, ClassAll) {
		s.Img.Class = ClassAll
		return nil
	}
	for _, c := range e.Classes {
		if strings.EqualFold(v, c) {
			s.Img.Class = c
			return nil
		}
	}
	if i, err := strconv.Atoi(v); err == nil && i >= 0 && i < len(e.Classes) {
		s.Img.Class = e.Classes[i]
		return nil
	}
	return fmt.Errorf("%q is not %s, a class 0 to %d or one of %s", v, ClassAll, len(e.Classes)-1, strings.Join(e.Classes, ", "))
}

var guidanceSetting = setting{
	kind: "range", max: MaxGuidance, step: 0.1,
	get:     func(s Settings) string { return ftoa(s.Img.Guidance) },
	options: func(a *App) []string { return floatOptions(guidanceOptions, a.s.Img.Guidance) },
	set: func(_ *App, s *Settings, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f >= 0) || f > MaxGuidance {
			return fmt.Errorf("want a number from 0 to %g, got %q", MaxGuidance, v)
		}
		s.Img.Guidance = f
		return nil
	},
}

// imageLabels are the classes of n images: i mod the classes for ClassAll, else the
// class named (the null class, unconditional, when the model has no class names).
func imageLabels(classes []string, class string, n int) []int {
	out := make([]int, n)
	c := slices.Index(classes, class)
	for i := range out {
		switch {
		case class == ClassAll && len(classes) > 0:
			out[i] = i % len(classes)
		case c >= 0:
			out[i] = c
		default:
			out[i] = len(classes)
		}
	}
	return out
}

// imageMemory refuses image settings whose kept steps (x_t and x̂₁ of every image)
// would take more than MaxTrajectoryBytes.
func imageMemory(s Settings, dim int) error {
	b := 2 * s.Img.Count * dim * 4 * (StepsFor(s.Solver, s.NFE) + 1)
	if s.Mode == ModeImages && b > MaxTrajectoryBytes {
		return fmt.Errorf("%d images with these steps would keep %d MB (at most %d MB): use fewer images or fewer NFE", s.Img.Count, b>>20, MaxTrajectoryBytes>>20)
	}
	return nil
}

// imgSync makes the run match the settings: dropped when the mode is left or a setting
// it depends on changes, built once its model is loaded.
func (a *App) imgSync() {
	g := &a.img
	if a.s.Mode != ModeImages {
		a.imgDrop()
		return
	}
	e, ok := a.imageEntry(a.s)
	if !ok {
		g.msg = "no image model: the manifest lists none (make www copies weights/fashion-unet.safetensors)"
		return
	}
	s := a.s
	key := imgKey{model: e.Name, class: s.Img.Class, solver: s.Solver, guidance: s.Img.Guidance, count: s.Img.Count, nfe: s.NFE, seed: s.Seed}
	if key != g.key {
		a.imgDrop()
		g.key = key
		a.clock.Restart()
	}
	if g.run != nil {
		return
	}
	g.slot = e.Name
	sl := a.slot(e.Name)
	switch {
	case sl.pending:
		g.msg = fmt.Sprintf("Loading the image model %s…", e.Name)
	case sl.err != nil:
		g.msg = fmt.Sprintf("Could not load the model %s (models/%s): %v", e.Name, e.File, sl.err)
	default:
		g.msg = ""
		a.imgBuild(sl, e)
	}
}

// imgBuild starts the run through a loaded image model, farmed out when there is a pool.
func (a *App) imgBuild(sl *modelSlot, e Entry) {
	g, m, s := &a.img, sl.model, a.s
	net, err := m.UNet()
	if err == nil {
		err = kindMismatch(e, m)
	}
	if err != nil {
		g.msg = err.Error()
		return
	}
	n, d := s.Img.Count, m.Dim()
	x0 := Noise(s.Seed, n, d)
	if s0 := float32(m.Path.SourceStd()); s0 != 1 {
		for i := range x0 {
			x0[i] *= s0
		}
	}
	classes := e.Classes
	if len(classes) == 0 {
		classes = m.Data.Classes
	}
	t0, t1 := m.tRange()
	run, err := NewImageRun(net, s.Solver, StepsFor(s.Solver, s.NFE), t0, t1, x0, imageLabels(classes, s.Img.Class, n), s.Img.Guidance)
	if err != nil {
		g.msg = err.Error()
		return
	}
	if a.cfg.Pool != nil && (!sl.local || a.img.sharedDrop(e.Name)) {
		run.Farm(a.cfg.Pool, e.Name, func() int { a.pool.lastJob++; return a.pool.lastJob })
	}
	g.run, g.started, g.seconds = run, a.cfg.Now(), 0
	a.clock.End = t1
	a.clock.Seek(a.clock.T)
}

// sharedDrop reports whether a dropped model's file was sent to the pool's workers.
func (g *imgState) sharedDrop(name string) bool {
	return slices.ContainsFunc(g.dropped, func(e Entry) bool { return e.Name == name && e.Bytes > 0 })
}

// imgDrop forgets the run, stopping its jobs.
func (a *App) imgDrop() {
	g := &a.img
	if g.run != nil {
		g.run.Unfarm()
	}
	g.run, g.key, g.shown.run, g.shown.grid = nil, imgKey{}, nil, nil
}

// imgUpdate is the mode's part of a frame: build the run when its model has come, and
// note when it reached its end.
func (a *App) imgUpdate() {
	if a.s.Mode != ModeImages {
		return
	}
	a.imgSync()
	g := &a.img
	if g.run != nil && g.run.Done() && g.seconds == 0 {
		g.seconds = math.Max(a.cfg.Now().Sub(g.started).Seconds(), 1e-6)
	}
}

// imgTake hands a pool result to the run; it reports whether it was the run's.
func (a *App) imgTake(r Result) bool { return a.img.run != nil && a.img.run.Deliver(r) }

// imgWork spends up to sec seconds on the run here (when no pool does it).
func (a *App) imgWork(sec float64) {
	if r := a.img.run; a.s.Mode == ModeImages && r != nil && !r.Done() && !r.Farmed() {
		a.spend(sec, r.Advance)
	}
}

// imgLimit is how far the clock may run in the mode: the run's frontier.
func (a *App) imgLimit() float64 {
	r := a.img.run
	switch {
	case r == nil:
		return 0
	case r.Done():
		return math.Inf(1)
	}
	return r.Frontier()
}

// imgSteps is the run's steps, for stepping the clock (0 without a run).
func (a *App) imgSteps() int {
	if a.img.run == nil {
		return 0
	}
	return a.img.run.Steps()
}

// imgSettle finishes the run here: for tests and the desktop's screenshots.
func (a *App) imgSettle() {
	for range 2 {
		a.drainLoads(true)
		a.imgSync()
	}
	if r := a.img.run; r != nil {
		r.Finish()
		a.imgUpdate()
	}
}

// imageShared are the controls of all modes that the Images mode shows too.
var imageShared = map[string]bool{"solver": true, "nfe": true, "speed": true, "mode": true}

// imageDim is the values of one image of the model the settings name (784 before the
// manifest says).
func (a *App) imageDim(s Settings) int {
	if e, ok := a.imageEntry(s); ok && len(e.Shape) == 3 {
		return e.Shape[0] * e.Shape[1] * e.Shape[2]
	}
	return 784
}

// imageEntry is an image model file's manifest entry: kind image, its data's name,
// shape and classes. Only a U-Net on the OT path is shown (the Images mode's x̂₁ is the
// OT path's).
func imageEntry(e Entry, core string, md *weights.Meta) (Entry, error) {
	e.Kind, e.Dataset, e.Path = KindImage, md.Data.Name, md.Path.Name
	e.Shape, e.Classes = slices.Clone(md.Data.Shape), slices.Clone(md.Data.Classes)
	e.Coupling = ""
	if e.Dataset == "" {
		e.Dataset = core
	}
	switch {
	case md.Arch != weights.ArchUNet:
		return e, fmt.Errorf("image data with a %s network (the Images mode shows U-Nets, arch unet)", md.Arch)
	case e.Path != sampler.PathOT:
		return e, fmt.Errorf("an image model on path %s (the Images mode shows the OT path's)", e.Path)
	}
	return e, e.check()
}

// LoadModelFile takes a model file dropped on the page (or opened on the desktop). In
// the Images mode an image model is shown at once, as one more image model (its file
// sent to the pool's workers when they take files); anything else is one message in
// words: an image model offered to the 2-D views, a 2-D model to the Images mode, a
// file that is not a model.
func (a *App) LoadModelFile(name string, b []byte) error {
	stem := strings.TrimSuffix(name, ModelExt)
	m, err := DecodeModel(stem, "", b)
	if err == nil {
		err = m.Check()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	switch {
	case a.s.Mode != ModeImages && m.IsImage():
		return fmt.Errorf("%s is %s: switch to the Images mode (mode images) to see it; the 2-D views draw 2-D models", name, m.describe())
	case a.s.Mode != ModeImages:
		return fmt.Errorf("%s is %s: the 2-D views show the site's models (models/manifest.json); drop a CSV of x,y points to train on them", name, m.describe())
	case !m.IsImage():
		return fmt.Errorf("%s is %s: the Images mode shows image models (a U-Net, arch unet)", name, m.describe())
	case m.Path.Spec().Name != sampler.PathOT:
		return fmt.Errorf("%s is an image model on path %s: the Images mode shows the OT path's", name, m.Path.Spec().Name)
	}
	slotName := fmt.Sprintf("%s#%d", stem, len(a.img.dropped)+1)
	m.Name = slotName
	e := Entry{Name: slotName, Dataset: m.Data.Name, Path: m.Path.Spec().Name, File: name, Kind: KindImage,
		Shape: slices.Clone(m.Data.Shape), Classes: slices.Clone(m.Data.Classes)}
	if mp, ok := a.cfg.Pool.(ModelPool); ok {
		mp.AddModel(slotName, b)
		e.Bytes = int64(len(b)) // marks the file as the workers' too (sharedDrop)
	}
	a.img.dropped = append(a.img.dropped, e)
	a.models[slotName] = &modelSlot{entry: e, model: m, local: true}
	return a.Set("imageModel", slotName)
}
