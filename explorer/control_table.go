package explorer

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/flowmatch/flowmatch/sampler"
)

// control is one row of the control table: everything about one setting. [App.Controls],
// [App.Set], [App.Cycle], [App.Key], [Shortcuts] and [ParamOrder] are all built from
// the table, so a new setting is one row (and a field of [Settings] if it needs one).
type control struct {
	name    string   // as Set, the query string and the command line take it
	aliases []string // further names Set takes ("dataset" for "model")
	label   string   // the widget's label; "" for a setting with no widget (seed, t, playing)
	key     string   // the keyboard shortcut as the widget's label shows it
	setting

	hidden      func(a *App) bool // nil: always shown
	mode        string            // the only mode it is shown in (ModeModels, ModeYours); "": both
	needsModels bool              // Set refuses it until a manifest is loaded

	// act, instead of setting.set, changes the app itself rather than its settings (t,
	// playing): Set neither checks the memory nor rebuilds the lanes then.
	act func(a *App, v string) error

	cycle    []string // key codes that move to the next option (with Shift: the previous)
	up, down []string // key codes that move one option up / down, without wrapping

	help   Shortcut  // its line in the keyboard help; none when another row's line covers it
	helpIn helpGroup // where that line goes
}

// setting is how a control reads, lists and parses its value.
type setting struct {
	kind    string                  // "select", "toggle" or "range" (a slider from 0 to max)
	max     float64                 // a range's largest value
	step    float64                 // a range's step
	get     func(s Settings) string // the value as the widget shows it
	options func(a *App) []string   // the choices now (nil for toggles)
	// set parses v and writes it into s, a copy of the app's settings, or says what is
	// wrong with v (Set puts the control's name in front).
	set func(a *App, s *Settings, v string) error
}

// helpGroup is where a line goes in [Shortcuts]: the groups are listed in helpOrder.
type helpGroup int

const (
	helpModes    helpGroup = iota // side-by-side modes and the like; the zero value
	helpPlayback                  // play, step, restart, new noise
	helpPick                      // next model, path, solver
	helpAmount                    // more or fewer of something
	helpShow                      // overlays
	helpOther                     // the rest: clear drops, click
)

var helpOrder = []helpGroup{helpPlayback, helpPick, helpAmount, helpShow, helpModes, helpOther}

// controlTable is every setting, in the order the widgets are drawn and the query
// string's settings are applied: the model first, since it decides which paths exist.
var controlTable = []control{
	{name: "model", aliases: []string{"dataset"}, label: "Model", key: "M", cycle: codes("M"), needsModels: true, mode: ModeModels,
		help: Shortcut{"M / P / S", "next model / path / solver (Shift: previous)"}, helpIn: helpPick,
		setting: setting{kind: "select", get: func(s Settings) string { return s.Dataset }, options: (*App).datasets, set: setModel}},
	{name: "path", label: "Path", key: "P", cycle: codes("P"), needsModels: true, mode: ModeModels, // help: on the model's line
		setting: choice(func(s *Settings) *string { return &s.Path }, (*App).paths)},
	{name: "coupling", label: "Coupling", key: "O", cycle: codes("O"), needsModels: true, mode: ModeModels,
		hidden:  func(a *App) bool { return len(a.couplings()) < 2 },
		help:    Shortcut{"O", "coupling: independent (I-CFM) / minibatch OT (OT-CFM), where a model has both"},
		setting: choice(func(s *Settings) *string { return &s.Coupling }, (*App).couplings)},
	{name: "solver", label: "Solver", key: "S", cycle: codes("S"), // help: on the model's line
		setting: choice(func(s *Settings) *string { return &s.Solver }, methods)},
	{name: "nfe", label: "NFE", key: "+/-", up: codes("Equal", "NumpadAdd", "KPAdd"), down: codes("Minus", "NumpadSubtract", "KPSubtract"),
		help: Shortcut{"+ / −", "more / fewer NFE"}, helpIn: helpAmount,
		setting: number(func(s *Settings) *int { return &s.NFE }, nfeOptions, MaxNFE)},
	{name: "particles", label: "Particles", key: "[ ]", up: codes("BracketRight"), down: codes("BracketLeft"),
		help: Shortcut{"] / [", "more / fewer particles"}, helpIn: helpAmount,
		setting: number(func(s *Settings) *int { return &s.Particles }, particleOptions, MaxParticles)},
	{name: "speed", label: "Speed", key: "↑/↓", up: codes("ArrowUp"), down: codes("ArrowDown"),
		help: Shortcut{"↑ / ↓", "faster / slower"}, helpIn: helpAmount,
		setting: speedSetting},
	{name: "trails", label: "Trails", key: "T", cycle: codes("T"),
		help: Shortcut{"T D V L", "trails, true data, vector field, learned density"}, helpIn: helpShow,
		setting: toggle(func(s *Settings) *bool { return &s.Trails })},
	{name: "data", label: "True data", key: "D", cycle: codes("D"), // help: on the trails' line
		setting: toggle(func(s *Settings) *bool { return &s.Data })},
	{name: "field", label: "Vector field", key: "V", cycle: codes("V"),
		setting: toggle(func(s *Settings) *bool { return &s.Field })},
	{name: "density", label: "Learned density", key: "L", cycle: codes("L"),
		setting: toggle(func(s *Settings) *bool { return &s.Density })},
	{name: "compare", label: "Side by side", key: "C", cycle: codes("C"), mode: ModeModels,
		help:    Shortcut{"C", "side by side: off, paths, solvers, couplings"},
		setting: setting{kind: "select", get: func(s Settings) string { return s.Compare }, options: (*App).compareOptions, set: setCompare}},
	{name: "pathB", label: "Path B", needsModels: true, hidden: func(a *App) bool { return a.s.Compare != ComparePaths },
		setting: choice(func(s *Settings) *string { return &s.PathB }, (*App).paths)},
	{name: "solverB", label: "Solver B", hidden: func(a *App) bool { return a.s.Compare != CompareSolvers },
		setting: choice(func(s *Settings) *string { return &s.SolverB }, methods)},
	{name: "nfeB", label: "NFE B", hidden: func(a *App) bool { return a.s.Compare != CompareSolvers },
		setting: number(func(s *Settings) *int { return &s.NFEB }, nfeOptions, MaxNFE)},
	// The "Your data" mode's rows (ownmode.go), after the models' so that a link's
	// settings of both apply in order.
	{name: "mode", label: "Mode", setting: choice(func(s *Settings) *string { return &s.Mode }, modes)},
	{name: "tool", label: "Brush", mode: ModeYours,
		setting: choice(func(s *Settings) *string { return &s.Own.Tool }, func(*App) []string { return []string{"draw", "erase"} })},
	{name: "spread", label: "Brush spread", mode: ModeYours,
		setting: decimal(func(s *Settings) *float64 { return &s.Own.Spread }, spreadOptions, 10)},
	{name: "dab", label: "Points per dab", mode: ModeYours,
		setting: number(func(s *Settings) *int { return &s.Own.Density }, densityOptions, 1000)},
	{name: "toy", label: "Start from", mode: ModeYours,
		setting: choice(func(s *Settings) *string { return &s.Own.Toy }, toyOptions)},
	{name: "trainSteps", label: "Training steps", mode: ModeYours,
		setting: number(func(s *Settings) *int { return &s.Own.Steps }, trainStepOptions, 1_000_000)},
	{name: "trainCoupling", label: "Training coupling", mode: ModeYours,
		setting: choice(func(s *Settings) *string { return &s.Own.Coupling }, func(*App) []string { return []string{CouplingIndependent, CouplingOT} })},
	{name: "net", label: "Network", mode: ModeYours,
		setting: choice(func(s *Settings) *string { return &s.Own.Net }, func(*App) []string { return netOptions })},
	// The Images mode's rows (images.go); its solver and NFE are the rows above.
	{name: "imageModel", label: "Image model", mode: ModeImages, hidden: func(a *App) bool { return len(a.imageEntries()) < 2 },
		setting: choice(func(s *Settings) *string { return &s.Img.Model }, imageModelOptions)},
	{name: "class", label: "Class", mode: ModeImages,
		setting: setting{kind: "select", get: func(s Settings) string { return s.Img.Class }, options: classOptions, set: setClass}},
	{name: "guidance", label: "Guidance", mode: ModeImages, setting: guidanceSetting},
	{name: "images", label: "Images", mode: ModeImages,
		setting: number(func(s *Settings) *int { return &s.Img.Count }, imageCountOptions, MaxImageCount)},
	{name: "clean", label: "Predicted x̂₁", mode: ModeImages, setting: toggle(func(s *Settings) *bool { return &s.Img.Clean })},
	{name: "seed", setting: setting{set: setSeed}},
	{name: "t", act: seek},
	{name: "playing", act: setPlaying},
}

// actionKey is a keyboard shortcut that does something other than change a control.
type actionKey struct {
	codes  []string
	do     func(a *App)
	help   Shortcut // none: not listed (H, which shows the list)
	helpIn helpGroup
}

var actionKeys = []actionKey{
	{codes("Space"), doAction("toggle"), Shortcut{"Space", "play / pause"}, helpPlayback},
	{codes("ArrowRight", "Period"), doAction("step"), Shortcut{"→ or .", "one step forward (pauses)"}, helpPlayback},
	{codes("ArrowLeft", "Comma"), doAction("back"), Shortcut{"← or ,", "one step back (pauses)"}, helpPlayback},
	{codes("R", "Home"), doAction("restart"), Shortcut{"R or Home", "restart from t = 0"}, helpPlayback},
	{codes("N"), doAction("noise"), Shortcut{"N", "new noise"}, helpPlayback},
	{codes("X"), doAction("clear"), Shortcut{"X", "clear dropped particles"}, helpOther},
	{codes("H", "Slash"), func(a *App) { a.ShowHelp = !a.ShowHelp }, Shortcut{}, helpOther},
	{nil, nil, Shortcut{"click / tap", "drop a group of particles and follow them"}, helpOther},
}

// codes are key codes as [App.Key] compares them: KeyboardEvent.code without "Key", or
// Ebiten's key names.
func codes(c ...string) []string { return c }

func doAction(action string) func(a *App) { return func(a *App) { a.Do(action) } }

// choice is a select of text whose value must be one of its options (those of the
// settings before the change: Set calls set on a copy of them).
func choice(field func(s *Settings) *string, options func(a *App) []string) setting {
	return setting{
		kind:    "select",
		get:     func(s Settings) string { return *field(&s) },
		options: options,
		set: func(a *App, s *Settings, v string) error {
			if err := among(v, options(a)); err != nil {
				return err
			}
			*field(s) = v
			return nil
		},
	}
}

// number is a select of a whole number from 1 to most, offering menu (and the value).
func number(field func(s *Settings) *int, menu []int, most int) setting {
	return setting{
		kind:    "select",
		get:     func(s Settings) string { return itoa(*field(&s)) },
		options: func(a *App) []string { return intOptions(menu, *field(&a.s)) },
		set: func(_ *App, s *Settings, v string) error {
			n, err := parseInt(v, 1, most)
			if err == nil {
				*field(s) = n
			}
			return err
		},
	}
}

// toggle is an on / off control.
func toggle(field func(s *Settings) *bool) setting {
	return setting{
		kind: "toggle",
		get:  func(s Settings) string { return onOff(*field(&s)) },
		set: func(_ *App, s *Settings, v string) error {
			b, err := parseBool(v)
			if err == nil {
				*field(s) = b
			}
			return err
		},
	}
}

// modes are the app's modes: the Images mode where there is an image model.
func modes(a *App) []string {
	if len(a.imageEntries()) > 0 {
		return []string{ModeModels, ModeYours, ModeImages}
	}
	return []string{ModeModels, ModeYours}
}

// decimal is a select of a number above 0 and at most most, offering menu (and the value).
func decimal(field func(s *Settings) *float64, menu []float64, most float64) setting {
	return setting{
		kind:    "select",
		get:     func(s Settings) string { return ftoa(*field(&s)) },
		options: func(a *App) []string { return floatOptions(menu, *field(&a.s)) },
		set: func(_ *App, s *Settings, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || !(f > 0) || f > most {
				return fmt.Errorf("want a number above 0 and at most %g, got %q", most, v)
			}
			*field(s) = f
			return nil
		},
	}
}

var speedSetting = setting{
	kind:    "select",
	get:     func(s Settings) string { return ftoa(s.Speed) },
	options: func(a *App) []string { return floatOptions(speedOptions, a.s.Speed) },
	set: func(_ *App, s *Settings, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0) || f > MaxSpeed {
			return fmt.Errorf("want a number above 0 and at most %g, got %q", MaxSpeed, v)
		}
		s.Speed = f
		return nil
	},
}

// among says what is wrong with v if it is not one of opts.
func among(v string, opts []string) error {
	if !slices.Contains(opts, v) {
		return fmt.Errorf("%q is not one of %s", v, strings.Join(opts, ", "))
	}
	return nil
}

func methods(*App) []string { return sampler.Methods() }

// datasets, paths and couplings are the manifest's choices for the current settings
// (none before a manifest is loaded).
func (a *App) datasets() []string {
	if a.man == nil {
		return nil
	}
	return a.man.Datasets()
}

func (a *App) paths() []string {
	if a.man == nil {
		return nil
	}
	return a.man.Paths(a.s.Dataset)
}

func (a *App) couplings() []string {
	if a.man == nil {
		return nil
	}
	return a.man.Couplings(a.s.Dataset, a.s.Path)
}

func (a *App) compareOptions() []string { return a.compareModes(a.s) }

// setModel takes a dataset, or a manifest name ("moons-vp"), which picks the path and
// the coupling too.
func setModel(a *App, s *Settings, v string) error {
	for _, e := range a.man.Models {
		if e.Name == v && e.IsImage() {
			return fmt.Errorf("%s is an image model: it is shown in the Images mode (mode=images)", v)
		}
		if e.Name == v {
			s.Dataset, s.Path, s.Coupling = e.Dataset, e.Path, e.CouplingName()
			return nil
		}
	}
	if err := among(v, a.man.Datasets()); err != nil {
		return err
	}
	s.Dataset = v
	if ps := a.man.Paths(v); !slices.Contains(ps, s.Path) {
		s.Path = ps[0]
	}
	return nil
}

// setCompare takes a side-by-side mode; for paths, the second panel gets another path.
func setCompare(a *App, s *Settings, v string) error {
	if err := among(v, a.compareModes(*s)); err != nil {
		return err
	}
	s.Compare = v
	if v == ComparePaths && s.PathB == s.Path {
		for _, p := range a.man.Paths(s.Dataset) {
			if p != s.Path {
				s.PathB = p
				break
			}
		}
	}
	return nil
}

func setSeed(_ *App, s *Settings, v string) error {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return fmt.Errorf("want a whole number, got %q", v)
	}
	s.Seed = n
	return nil
}

// seek shows time v, paused.
func seek(a *App, v string) error {
	t, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(t) || math.IsInf(t, 0) {
		return fmt.Errorf("want a number, got %q", v)
	}
	a.clock.Playing = false
	a.clock.Seek(t)
	return nil
}

func setPlaying(a *App, v string) error {
	b, err := parseBool(v)
	if err != nil {
		return err
	}
	if b != a.clock.Playing {
		a.clock.Toggle()
	}
	return nil
}
