package explorer

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/flowmatch/flowmatch/sampler"
)

// Comparison modes for the side-by-side view.
const (
	CompareOff     = "off"
	ComparePaths   = "paths"   // the second panel uses PathB, same solver and NFE
	CompareSolvers = "solvers" // the second panel uses SolverB and NFEB, same model
	// CompareCouplings puts the other coupling's model (I-CFM beside OT-CFM) in the second
	// panel, same path, solver and NFE.
	CompareCouplings = "couplings"
)

// Limits on what a control accepts.
const (
	MaxParticles = 200_000
	MaxNFE       = 1000
	MaxSpeed     = 64.0
)

// Settings are everything a person can choose.
type Settings struct {
	Dataset   string
	Path      string
	Coupling  string // CouplingIndependent or CouplingOT, where the manifest has both
	Solver    string
	NFE       int // network evaluations asked for; steps = max(1, NFE / evals per step)
	Particles int
	Speed     float64
	Trails    bool
	Data      bool // the true data, faint
	Field     bool // arrows of the velocity field at the current t
	Density   bool // the learned density, by the likelihood
	Compare   string
	PathB     string
	SolverB   string
	NFEB      int
	Seed      uint64
}

// DefaultSettings are what the app starts with, before a manifest picks the model.
func DefaultSettings() Settings {
	return Settings{
		Path: sampler.PathOT, Coupling: CouplingIndependent, Solver: sampler.Midpoint, NFE: 20, Particles: 3000, Speed: 1,
		Compare: CompareOff, PathB: sampler.PathVP, SolverB: sampler.Euler, NFEB: 20, Seed: 1,
	}
}

// StepsFor is the number of fixed steps of method that spends about nfe evaluations.
func StepsFor(method string, nfe int) int {
	e, err := sampler.EvalsPerStep(method)
	if err != nil {
		return 1
	}
	return max(1, (nfe+e/2)/e)
}

// Control describes one control for a user interface: the page builds its widgets from
// these, and the desktop build draws them on the canvas.
type Control struct {
	Name    string   `json:"name"`
	Label   string   `json:"label"`
	Kind    string   `json:"kind"` // "select" or "toggle"
	Value   string   `json:"value"`
	Options []string `json:"options,omitempty"`
	Key     string   `json:"key,omitempty"` // keyboard shortcut, for the label
	Hidden  bool     `json:"hidden,omitempty"`
}

var (
	nfeOptions      = []int{1, 2, 4, 6, 8, 10, 12, 16, 20, 30, 40, 60, 100, 200}
	particleOptions = []int{500, 1000, 2000, 3000, 5000, 10000, 20000, 50000, 100000}
	speedOptions    = []float64{0.25, 0.5, 1, 2, 4, 8}
)

func itoa(v int) string { return strconv.Itoa(v) }
func ftoa(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}
func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func intOptions(vs []int, cur int) []string {
	var out []string
	for _, v := range vs {
		out = append(out, itoa(v))
	}
	if !slices.Contains(vs, cur) {
		out = append(out, itoa(cur))
		slices.SortFunc(out, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y })
	}
	return out
}

func floatOptions(vs []float64, cur float64) []string {
	var out []string
	fs := append([]float64(nil), vs...)
	if !slices.Contains(fs, cur) {
		fs = append(fs, cur)
		slices.Sort(fs)
	}
	for _, v := range fs {
		out = append(out, ftoa(v))
	}
	return out
}

// Controls lists the controls with their current values and choices.
func (a *App) Controls() []Control {
	s := a.s
	var datasets, paths, couplings []string
	if a.man != nil {
		datasets = a.man.Datasets()
		paths = a.man.Paths(s.Dataset)
		couplings = a.man.Couplings(s.Dataset, s.Path)
	}
	return []Control{
		{Name: "model", Label: "Model", Kind: "select", Value: s.Dataset, Options: datasets, Key: "M"},
		{Name: "path", Label: "Path", Kind: "select", Value: s.Path, Options: paths, Key: "P"},
		{Name: "coupling", Label: "Coupling", Kind: "select", Value: s.Coupling, Options: couplings, Key: "O", Hidden: len(couplings) < 2},
		{Name: "solver", Label: "Solver", Kind: "select", Value: s.Solver, Options: sampler.Methods(), Key: "S"},
		{Name: "nfe", Label: "NFE", Kind: "select", Value: itoa(s.NFE), Options: intOptions(nfeOptions, s.NFE), Key: "+/-"},
		{Name: "particles", Label: "Particles", Kind: "select", Value: itoa(s.Particles), Options: intOptions(particleOptions, s.Particles), Key: "[ ]"},
		{Name: "speed", Label: "Speed", Kind: "select", Value: ftoa(s.Speed), Options: floatOptions(speedOptions, s.Speed), Key: "↑/↓"},
		{Name: "trails", Label: "Trails", Kind: "toggle", Value: onOff(s.Trails), Key: "T"},
		{Name: "data", Label: "True data", Kind: "toggle", Value: onOff(s.Data), Key: "D"},
		{Name: "field", Label: "Vector field", Kind: "toggle", Value: onOff(s.Field), Key: "V"},
		{Name: "density", Label: "Learned density", Kind: "toggle", Value: onOff(s.Density), Key: "L"},
		{Name: "compare", Label: "Side by side", Kind: "select", Value: s.Compare, Options: a.compareModes(s), Key: "C"},
		{Name: "pathB", Label: "Path B", Kind: "select", Value: s.PathB, Options: paths, Hidden: s.Compare != ComparePaths},
		{Name: "solverB", Label: "Solver B", Kind: "select", Value: s.SolverB, Options: sampler.Methods(), Hidden: s.Compare != CompareSolvers},
		{Name: "nfeB", Label: "NFE B", Kind: "select", Value: itoa(s.NFEB), Options: intOptions(nfeOptions, s.NFEB), Hidden: s.Compare != CompareSolvers},
	}
}

// compareModes lists the side-by-side modes the manifest allows for s's model.
func (a *App) compareModes(s Settings) []string {
	out := []string{CompareOff}
	if a.man != nil && len(a.man.Paths(s.Dataset)) > 1 {
		out = append(out, ComparePaths)
	}
	out = append(out, CompareSolvers)
	if a.man != nil && len(a.man.Couplings(s.Dataset, s.Path)) > 1 {
		out = append(out, CompareCouplings)
	}
	return out
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "on", "true", "1", "yes":
		return true, nil
	case "off", "false", "0", "no":
		return false, nil
	}
	return false, fmt.Errorf("want on or off, got %q", v)
}

func parseInt(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("want a whole number from %d to %d, got %q", lo, hi, v)
	}
	return n, nil
}

// Set changes one control (or "t", "playing", "seed") from its text value, as the page
// and the query string give it. It returns an error saying what was wrong and changes
// nothing then.
func (a *App) Set(name, value string) error {
	s := a.s
	var err error
	bad := func(e error) error { return fmt.Errorf("%s: %w", name, e) }
	oneOf := func(opts []string) error {
		if !slices.Contains(opts, value) {
			return fmt.Errorf("%s: %q is not one of %s", name, value, strings.Join(opts, ", "))
		}
		return nil
	}
	switch name {
	case "model", "dataset":
		if a.man == nil {
			return fmt.Errorf("model: no models are loaded yet")
		}
		// A manifest name ("moons-vp") picks the path too.
		for _, e := range a.man.Models {
			if e.Name == value {
				s.Dataset, s.Path, s.Coupling = e.Dataset, e.Path, e.CouplingName()
				return a.apply(s)
			}
		}
		if err := oneOf(a.man.Datasets()); err != nil {
			return err
		}
		s.Dataset = value
		if !slices.Contains(a.man.Paths(value), s.Path) {
			s.Path = a.man.Paths(value)[0]
		}
	case "path":
		if a.man == nil {
			return fmt.Errorf("path: no models are loaded yet")
		}
		if err := oneOf(a.man.Paths(s.Dataset)); err != nil {
			return err
		}
		s.Path = value
	case "coupling":
		if a.man == nil {
			return fmt.Errorf("coupling: no models are loaded yet")
		}
		if err := oneOf(a.man.Couplings(s.Dataset, s.Path)); err != nil {
			return err
		}
		s.Coupling = value
	case "solver":
		if err := oneOf(sampler.Methods()); err != nil {
			return err
		}
		s.Solver = value
	case "solverB":
		if err := oneOf(sampler.Methods()); err != nil {
			return err
		}
		s.SolverB = value
	case "nfe":
		if s.NFE, err = parseInt(value, 1, MaxNFE); err != nil {
			return bad(err)
		}
	case "nfeB":
		if s.NFEB, err = parseInt(value, 1, MaxNFE); err != nil {
			return bad(err)
		}
	case "particles":
		if s.Particles, err = parseInt(value, 1, MaxParticles); err != nil {
			return bad(err)
		}
	case "speed":
		v, err := strconv.ParseFloat(value, 64)
		if err != nil || !(v > 0) || v > MaxSpeed {
			return fmt.Errorf("speed: want a number above 0 and at most %g, got %q", MaxSpeed, value)
		}
		s.Speed = v
	case "trails", "data", "field", "density":
		b, err := parseBool(value)
		if err != nil {
			return bad(err)
		}
		switch name {
		case "trails":
			s.Trails = b
		case "data":
			s.Data = b
		case "field":
			s.Field = b
		case "density":
			s.Density = b
		}
	case "compare":
		if err := oneOf(a.compareModes(s)); err != nil {
			return err
		}
		s.Compare = value
		if value == ComparePaths && s.PathB == s.Path {
			for _, p := range a.man.Paths(s.Dataset) {
				if p != s.Path {
					s.PathB = p
					break
				}
			}
		}
	case "pathB":
		if a.man == nil {
			return fmt.Errorf("pathB: no models are loaded yet")
		}
		if err := oneOf(a.man.Paths(s.Dataset)); err != nil {
			return err
		}
		s.PathB = value
	case "seed":
		v, err := strconv.ParseUint(value, 10, 64)
		if err != nil {
			return fmt.Errorf("seed: want a whole number, got %q", value)
		}
		s.Seed = v
	case "t":
		v, err := strconv.ParseFloat(value, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("t: want a number, got %q", value)
		}
		a.clock.Playing = false
		a.clock.Seek(v)
		return nil
	case "playing":
		b, err := parseBool(value)
		if err != nil {
			return bad(err)
		}
		if b != a.clock.Playing {
			a.clock.Toggle()
		}
		return nil
	default:
		return fmt.Errorf("no control named %q", name)
	}
	if err := checkMemory(s); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return a.apply(s)
}

// MaxTrajectoryBytes bounds the memory the kept trajectories may take (every step of
// every particle of every panel), so that a large particle count times a large NFE is
// refused in words instead of running the page out of memory.
const MaxTrajectoryBytes = 256 << 20

func checkMemory(s Settings) error {
	bytes := func(solver string, nfe int) int {
		return s.Particles * 2 * 4 * (StepsFor(solver, nfe) + 1)
	}
	total := bytes(s.Solver, s.NFE)
	switch s.Compare {
	case ComparePaths, CompareCouplings:
		total *= 2
	case CompareSolvers:
		total += bytes(s.SolverB, s.NFEB)
	}
	if total > MaxTrajectoryBytes {
		return fmt.Errorf("%d particles with these steps would keep %d MB of trajectories (at most %d MB): use fewer particles or fewer NFE",
			s.Particles, total>>20, MaxTrajectoryBytes>>20)
	}
	return nil
}

// Cycle moves a control to its next (dir > 0) or previous option, wrapping around;
// toggles flip.
func (a *App) Cycle(name string, dir int) error {
	for _, c := range a.Controls() {
		if c.Name != name {
			continue
		}
		if c.Kind == "toggle" {
			return a.Set(name, onOff(c.Value != "on"))
		}
		if len(c.Options) == 0 {
			return fmt.Errorf("%s: nothing to choose from", name)
		}
		i := slices.Index(c.Options, c.Value)
		n := len(c.Options)
		switch {
		case i < 0:
			i = 0
		case dir >= 0:
			i = (i + 1) % n
		default:
			i = (i + n - 1) % n
		}
		return a.Set(name, c.Options[i])
	}
	return fmt.Errorf("no control named %q", name)
}

// Step moves a numeric control one option up or down without wrapping.
func (a *App) stepOption(name string, dir int) error {
	for _, c := range a.Controls() {
		if c.Name != name {
			continue
		}
		i := slices.Index(c.Options, c.Value)
		j := min(max(i+dir, 0), len(c.Options)-1)
		if i < 0 || j == i {
			return nil
		}
		return a.Set(name, c.Options[j])
	}
	return fmt.Errorf("no control named %q", name)
}

// Shortcut is one keyboard shortcut, for help text.
type Shortcut struct {
	Keys string `json:"keys"`
	What string `json:"what"`
}

// Shortcuts lists the keyboard shortcuts that [App.Key] handles.
func Shortcuts() []Shortcut {
	return []Shortcut{
		{"Space", "play / pause"},
		{"→ or .", "one step forward (pauses)"},
		{"← or ,", "one step back (pauses)"},
		{"R or Home", "restart from t = 0"},
		{"N", "new noise"},
		{"M / P / S", "next model / path / solver (Shift: previous)"},
		{"+ / −", "more / fewer NFE"},
		{"] / [", "more / fewer particles"},
		{"↑ / ↓", "faster / slower"},
		{"T D V L", "trails, true data, vector field, learned density"},
		{"O", "coupling: independent (I-CFM) / minibatch OT (OT-CFM), where a model has both"},
		{"C", "side by side: off, paths, solvers, couplings"},
		{"X", "clear dropped particles"},
		{"click / tap", "drop a group of particles and follow them"},
	}
}

// Key handles a keyboard shortcut. name is a key code as the browser's
// KeyboardEvent.code gives it ("KeyR", "Space", "ArrowRight", "BracketLeft") or as
// Ebiten names keys ("R", "Space", ...). It reports whether the key did something.
func (a *App) Key(name string, shift bool) bool {
	name = strings.TrimPrefix(name, "Key")
	dir := 1
	if shift {
		dir = -1
	}
	var err error
	switch name {
	case "Space":
		a.Do("toggle")
	case "ArrowRight", "Period":
		a.Do("step")
	case "ArrowLeft", "Comma":
		a.Do("back")
	case "R", "Home":
		a.Do("restart")
	case "N":
		a.Do("noise")
	case "X":
		a.Do("clear")
	case "M":
		err = a.Cycle("model", dir)
	case "P":
		err = a.Cycle("path", dir)
	case "S":
		err = a.Cycle("solver", dir)
	case "O":
		err = a.Cycle("coupling", dir)
	case "C":
		err = a.Cycle("compare", dir)
	case "Equal", "NumpadAdd", "KPAdd":
		err = a.stepOption("nfe", 1)
	case "Minus", "NumpadSubtract", "KPSubtract":
		err = a.stepOption("nfe", -1)
	case "BracketRight":
		err = a.stepOption("particles", 1)
	case "BracketLeft":
		err = a.stepOption("particles", -1)
	case "ArrowUp":
		err = a.stepOption("speed", 1)
	case "ArrowDown":
		err = a.stepOption("speed", -1)
	case "T":
		err = a.Cycle("trails", 1)
	case "D":
		err = a.Cycle("data", 1)
	case "V":
		err = a.Cycle("field", 1)
	case "L":
		err = a.Cycle("density", 1)
	case "H", "Slash":
		a.ShowHelp = !a.ShowHelp
	default:
		return false
	}
	if err != nil {
		a.Notify(err.Error())
	}
	return true
}
