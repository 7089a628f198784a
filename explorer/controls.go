package explorer

import (
	"fmt"
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
	Mode      string        // ModeModels or ModeYours
	Own       OwnSettings   // the "Your data" mode's
	Img       ImageSettings // the Images mode's
}

// DefaultSettings are what the app starts with, before a manifest picks the model.
func DefaultSettings() Settings {
	return Settings{
		Path: sampler.PathOT, Coupling: CouplingIndependent, Solver: sampler.Midpoint, NFE: 20, Particles: 3000, Speed: 1,
		Compare: CompareOff, PathB: sampler.PathVP, SolverB: sampler.Euler, NFEB: 20, Seed: 1,
		Mode: ModeModels, Own: DefaultOwnSettings(), Img: DefaultImageSettings(),
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
	Kind    string   `json:"kind"` // "select", "toggle" or "range"
	Value   string   `json:"value"`
	Options []string `json:"options,omitempty"`
	Key     string   `json:"key,omitempty"` // keyboard shortcut, for the label
	Hidden  bool     `json:"hidden,omitempty"`
	// Min, Max and Step are a "range" control's: a slider where the page draws one (its
	// Options are stops for keys and the canvas's buttons).
	Min  float64 `json:"min,omitempty"`
	Max  float64 `json:"max,omitempty"`
	Step float64 `json:"step,omitempty"`
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

// Controls lists the controls with their current values and choices, in the order of
// the control table.
func (a *App) Controls() []Control {
	var out []Control
	for i := range a.table {
		if c := &a.table[i]; c.label != "" {
			out = append(out, c.describe(a))
		}
	}
	return out
}

func (c *control) describe(a *App) Control {
	out := Control{Name: c.name, Label: c.label, Kind: c.kind, Value: c.get(a.s), Key: c.key}
	if c.options != nil {
		out.Options = c.options(a)
	}
	if c.hidden != nil {
		out.Hidden = c.hidden(a)
	}
	if c.kind == "range" {
		out.Max, out.Step = c.max, c.step
	}
	out.Hidden = out.Hidden || (c.mode != "" && c.mode != a.s.Mode) || (a.s.Mode == ModeImages && c.mode == "" && !imageShared[c.name])
	return out
}

// controlNamed returns the control (a row with a widget) named name.
func (a *App) controlNamed(name string) (Control, bool) {
	for i := range a.table {
		if c := &a.table[i]; c.name == name && c.label != "" {
			return c.describe(a), true
		}
	}
	return Control{}, false
}

// row returns the row that Set takes name for: a control, a setting with no widget, or
// an alias of either.
func (a *App) row(name string) *control {
	for i := range a.table {
		if c := &a.table[i]; c.name == name || slices.Contains(c.aliases, name) {
			return c
		}
	}
	return nil
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
	c := a.row(name)
	if c == nil {
		return fmt.Errorf("no control named %q", name)
	}
	if c.needsModels && a.man == nil {
		return fmt.Errorf("%s: no models are loaded yet", c.name)
	}
	if c.act != nil {
		if err := c.act(a, value); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	s := a.s
	if err := c.set(a, &s, value); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := checkMemory(s, a.pointDim(s)); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := imageMemory(s, a.imageDim(s)); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return a.apply(s)
}

// ParamOrder lists the names that the query string and the command line may set, in
// the order to apply them: the control table's, so the model comes first, since it
// decides which paths exist.
func ParamOrder() []string { return paramOrder(controlTable) }

func paramOrder(table []control) []string {
	out := make([]string, len(table))
	for i, c := range table {
		out[i] = c.name
	}
	return out
}

// MaxTrajectoryBytes bounds the memory the kept trajectories may take (every step of
// every particle of every panel), so that a large particle count times a large NFE is
// refused in words instead of running the page out of memory.
const MaxTrajectoryBytes = 256 << 20

// checkMemory refuses settings whose kept trajectories would take more than
// MaxTrajectoryBytes: dim float32 values a particle a step, in each panel.
func checkMemory(s Settings, dim int) error {
	bytes := func(solver string, nfe int) int {
		return s.Particles * dim * 4 * (StepsFor(solver, nfe) + 1)
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

// pointDim is the dimension of the points that settings s would integrate: that of a
// loaded model of s's dataset (its models share it), PlotDim before one is loaded.
func (a *App) pointDim(s Settings) int {
	if a.man != nil {
		for _, e := range a.man.Models {
			if sl := a.models[e.Name]; e.Dataset == s.Dataset && sl != nil && sl.model != nil && sl.model.Field != nil {
				return sl.model.Dim()
			}
		}
	}
	return PlotDim
}

// Cycle moves a control to its next (dir > 0) or previous option, wrapping around;
// toggles flip.
func (a *App) Cycle(name string, dir int) error {
	c, ok := a.controlNamed(name)
	if !ok {
		return fmt.Errorf("no control named %q", name)
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

// stepOption moves a control to the option after its value (dir > 0) or before it,
// without wrapping: at either end, or when the value is not among the options, it
// does nothing.
func (a *App) stepOption(name string, dir int) error {
	c, ok := a.controlNamed(name)
	if !ok {
		return fmt.Errorf("no control named %q", name)
	}
	i := slices.Index(c.Options, c.Value)
	j := min(max(i+dir, 0), len(c.Options)-1)
	if i < 0 || j == i {
		return nil
	}
	return a.Set(name, c.Options[j])
}

// Shortcut is one keyboard shortcut, for help text.
type Shortcut struct {
	Keys string `json:"keys"`
	What string `json:"what"`
}

// Shortcuts lists the keyboard shortcuts that [App.Key] handles.
func Shortcuts() []Shortcut { return shortcuts(controlTable) }

// shortcuts lists the help lines of the action keys and of table's rows, group by group
// in helpOrder, each group's action keys first.
func shortcuts(table []control) []Shortcut {
	var out []Shortcut
	for _, g := range helpOrder {
		for _, k := range actionKeys {
			if k.helpIn == g && k.help.Keys != "" {
				out = append(out, k.help)
			}
		}
		for _, c := range table {
			if c.helpIn == g && c.help.Keys != "" {
				out = append(out, c.help)
			}
		}
	}
	return out
}

// Key handles a keyboard shortcut. name is a key code as the browser's
// KeyboardEvent.code gives it ("KeyR", "Space", "ArrowRight", "BracketLeft") or as
// Ebiten names keys ("R", "Space", ...). It reports whether the key did something.
func (a *App) Key(name string, shift bool) bool {
	name = strings.TrimPrefix(name, "Key")
	for _, k := range actionKeys {
		if slices.Contains(k.codes, name) {
			k.do(a)
			return true
		}
	}
	dir := 1
	if shift {
		dir = -1
	}
	for _, c := range a.table {
		var err error
		switch {
		case slices.Contains(c.cycle, name):
			err = a.Cycle(c.name, dir)
		case slices.Contains(c.up, name):
			err = a.stepOption(c.name, 1)
		case slices.Contains(c.down, name):
			err = a.stepOption(c.name, -1)
		default:
			continue
		}
		if err != nil {
			a.Notify(err.Error())
		}
		return true
	}
	return false
}
