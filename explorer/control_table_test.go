package explorer

import (
	"slices"
	"strings"
	"testing"
)

// A new control is one row of the table: with it the app lists the widget, Set takes
// it, the query string and the command line apply it, its key works and the help
// lists the key.
func TestNewControlFromOneRow(t *testing.T) {
	palette := "hue" // where a real control keeps its value: a field of Settings
	row := control{name: "palette", label: "Palette", key: "G", cycle: codes("G"),
		help: Shortcut{"G", "next palette"}, helpIn: helpShow,
		setting: choice(func(*Settings) *string { return &palette }, func(*App) []string { return []string{"hue", "grey", "heat"} })}
	table := append(slices.Clone(controlTable), row)

	a, _ := newTestApp(t, DefaultSettings())
	a.table = table
	var got *Control
	controls := a.Controls()
	for i := range controls {
		if controls[i].Name == "palette" {
			got = &controls[i]
		}
	}
	want := Control{Name: "palette", Label: "Palette", Kind: "select", Value: "hue", Options: []string{"hue", "grey", "heat"}, Key: "G"}
	if got == nil || got.Label != want.Label || got.Kind != want.Kind || got.Value != want.Value ||
		!slices.Equal(got.Options, want.Options) || got.Key != want.Key || got.Hidden {
		t.Fatalf("palette control %+v, want %+v", got, want)
	}
	if len(controls) != len(a.table)-3 { // seed, t and playing have no widget
		t.Errorf("%d controls from %d rows", len(controls), len(a.table))
	}

	if err := a.Set("palette", "grey"); err != nil || palette != "grey" {
		t.Errorf("Set palette grey: %v, palette %s", err, palette)
	}
	if err := a.Set("palette", "pink"); err == nil || err.Error() != `palette: "pink" is not one of hue, grey, heat` || palette != "grey" {
		t.Errorf("Set palette pink: %v, palette %s", err, palette)
	}
	if !a.Key("KeyG", false) || palette != "heat" {
		t.Errorf("key G: palette %s, want heat", palette)
	}
	if !a.Key("G", true) || palette != "grey" {
		t.Errorf("Shift G: palette %s, want grey", palette)
	}
	if c, _ := a.controlNamed("palette"); c.Value != "grey" {
		t.Errorf("the control shows %q after the key, want grey", c.Value)
	}

	// The query string and the command line: every name in the order, as the wasm main applies them.
	order := paramOrder(table)
	if !slices.Equal(order[:len(order)-1], ParamOrder()) || order[len(order)-1] != "palette" {
		t.Errorf("param order %v", order)
	}
	params := map[string]string{"palette": "heat", "solver": "rk4"}
	for _, name := range order {
		if v, ok := params[name]; ok {
			if err := a.Set(name, v); err != nil {
				t.Errorf("param %s=%s: %v", name, v, err)
			}
		}
	}
	if palette != "heat" || a.Settings().Solver != "rk4" {
		t.Errorf("after the params: palette %s, solver %s", palette, a.Settings().Solver)
	}

	help := shortcuts(table)
	i := slices.Index(help, Shortcut{"G", "next palette"})
	show := slices.IndexFunc(help, func(s Shortcut) bool { return s.Keys == "T D V L" })
	if i < 0 || i != show+1 {
		t.Errorf("the palette's line is at %d, want %d (after the other overlays): %v", i, show+1, help)
	}
	if len(help) != len(Shortcuts())+1 {
		t.Errorf("%d help lines, want %d", len(help), len(Shortcuts())+1)
	}
}

// The table keeps the names, the order and the keys that the page, the command line and
// the browser tests use.
func TestControlTable(t *testing.T) {
	wantOrder := []string{"model", "path", "coupling", "solver", "nfe", "particles", "speed", "trails", "data", "field",
		"density", "compare", "pathB", "solverB", "nfeB", "mode", "tool", "spread", "dab", "toy", "trainSteps", "trainCoupling", "net",
		"imageModel", "class", "guidance", "images", "clean", "seed", "t", "playing"}
	if got := ParamOrder(); !slices.Equal(got, wantOrder) {
		t.Errorf("ParamOrder() = %v, want %v", got, wantOrder)
	}
	var keys []string
	for _, s := range Shortcuts() {
		keys = append(keys, s.Keys)
	}
	if got, want := strings.Join(keys, " | "), "Space | → or . | ← or , | R or Home | N | M / P / S | + / − | ] / [ | ↑ / ↓ | "+
		"T D V L | O | C | X | click / tap"; got != want {
		t.Errorf("shortcuts %s, want %s", got, want)
	}

	names := map[string]bool{}
	bound := map[string]string{}
	bind := func(owner string, cs []string) {
		for _, c := range cs {
			if bound[c] != "" {
				t.Errorf("key %s is bound to %s and %s", c, bound[c], owner)
			}
			bound[c] = owner
		}
	}
	for _, k := range actionKeys {
		bind("an action", k.codes)
		if k.codes != nil && k.do == nil {
			t.Errorf("action key %v does nothing", k.codes)
		}
	}
	for _, c := range controlTable {
		for _, n := range append([]string{c.name}, c.aliases...) {
			if names[n] {
				t.Errorf("two rows named %s", n)
			}
			names[n] = true
		}
		if (c.set == nil) == (c.act == nil) {
			t.Errorf("%s: want exactly one of set and act", c.name)
		}
		if c.label != "" && (c.get == nil || (c.kind != "select" && c.kind != "toggle" && c.kind != "range") || (c.kind != "toggle") != (c.options != nil)) {
			t.Errorf("%s: a control needs a value, a kind and, for a select or a range, options", c.name)
		}
		if c.kind == "range" && !(c.max > 0 && c.step > 0) {
			t.Errorf("%s: a range needs its largest value and step", c.name)
		}
		if c.label == "" && (c.key != "" || c.cycle != nil || c.up != nil || c.down != nil) {
			t.Errorf("%s: keys for a setting with no widget", c.name)
		}
		bind(c.name, c.cycle)
		bind(c.name, c.up)
		bind(c.name, c.down)
	}
	// Every bound key does something.
	a, _ := newTestApp(t, DefaultSettings())
	for code := range bound {
		if !a.Key(code, false) {
			t.Errorf("key %s is bound but not handled", code)
		}
	}
}
