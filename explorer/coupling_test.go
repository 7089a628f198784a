package explorer

import (
	"slices"
	"strings"
	"testing"
)

// couplingManifest has OT-CFM beside I-CFM for blob on OT only.
func couplingManifest() *Manifest {
	m := testManifest()
	m.Models = append(m.Models, Entry{Name: "blob-ot-otcfm", Dataset: "blob", Path: "ot", File: "blob-ot-otcfm.safetensors", Coupling: CouplingOT})
	return m
}

func TestManifestCouplings(t *testing.T) {
	m := couplingManifest()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := m.Couplings("blob", "ot"); !slices.Equal(got, []string{CouplingIndependent, CouplingOT}) {
		t.Errorf("couplings on blob/ot: %v", got)
	}
	if got := m.Couplings("blob", "vp"); !slices.Equal(got, []string{CouplingIndependent}) {
		t.Errorf("couplings on blob/vp: %v", got)
	}
	if e, _ := m.Find("blob", "ot"); e.Name != "blob-ot" {
		t.Errorf("Find prefers the independent model, got %s", e.Name)
	}
	if e, ok := m.FindCoupling("blob", "ot", CouplingOT); !ok || e.Name != "blob-ot-otcfm" {
		t.Errorf("FindCoupling ot: %+v %v", e, ok)
	}
	for _, c := range []struct{ text, want string }{
		{`{"version":1,"models":[{"name":"a","dataset":"d","path":"ot","file":"a","coupling":"sinkhorn"}]}`, "coupling \"sinkhorn\""},
		{`{"version":1,"models":[{"name":"a","dataset":"d","path":"ot","file":"a","coupling":"ot"},{"name":"b","dataset":"d","path":"ot","file":"b","coupling":"ot"}]}`, "two models"},
		{`{"version":1,"models":[{"name":"a","dataset":"d","path":"ot","file":"a"},{"name":"b","dataset":"d","path":"ot","file":"b","coupling":"independent"}]}`, "two models"},
	} {
		if _, err := ParseManifest([]byte(c.text)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.text, err, c.want)
		}
	}
	if _, err := ParseManifest([]byte(`{"version":1,"models":[{"name":"a","dataset":"d","path":"ot","file":"a"},{"name":"b","dataset":"d","path":"ot","file":"b","coupling":"ot"}]}`)); err != nil {
		t.Errorf("one model per coupling: %v", err)
	}
	fm := ManifestFromFiles([]string{"moons-ot.safetensors", "moons-ot-otcfm.safetensors", "moons-vp-otcfm.safetensors"}, "")
	if err := fm.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := fm.Couplings("moons", "ot"); len(fm.Models) != 3 || !slices.Equal(got, []string{CouplingIndependent, CouplingOT}) {
		t.Errorf("from files: %+v", fm.Models)
	}
}

// The coupling control appears where a model has both couplings, picks the model, falls
// back where a path has only one, and the couplings can be compared side by side.
func TestCouplingControl(t *testing.T) {
	clk := newFakeClock()
	a := New(Config{Load: func(e Entry) (*Model, error) {
		m := gaussModel(t, e.Dataset, e.Path)
		m.Name = e.Name
		return m, nil
	}, Data: gaussSample, Now: clk.Now}, couplingManifest(), DefaultSettings(), nil)
	a.drainLoads(true)
	control := func(name string) Control {
		for _, c := range a.Controls() {
			if c.Name == name {
				return c
			}
		}
		t.Fatalf("no control %s", name)
		return Control{}
	}
	if c := control("coupling"); c.Hidden || c.Value != CouplingIndependent || !slices.Equal(c.Options, []string{CouplingIndependent, CouplingOT}) {
		t.Errorf("coupling control on blob/ot: %+v", c)
	}
	if !slices.Contains(control("compare").Options, CompareCouplings) {
		t.Errorf("compare options %v lack couplings", control("compare").Options)
	}
	if !a.Key("KeyO", false) {
		t.Fatal("O did nothing")
	}
	a.drainLoads(true)
	st := a.Status()
	if st.Lanes[0].Model != "blob-ot-otcfm" || st.Lanes[0].Coupling != CouplingOT {
		t.Errorf("after O: lane %+v", st.Lanes[0])
	}
	if title := a.Scene().Panels[0].Title; !strings.Contains(title, "OT-CFM") {
		t.Errorf("panel title %q does not say OT-CFM", title)
	}
	if err := a.Set("compare", CompareCouplings); err != nil {
		t.Fatal(err)
	}
	a.drainLoads(true)
	st = a.Status()
	if len(st.Lanes) != 2 || st.Lanes[0].Model != "blob-ot-otcfm" || st.Lanes[1].Model != "blob-ot" {
		t.Errorf("couplings side by side: %+v", st.Lanes)
	}
	// VP has only I-CFM: the coupling falls back and its control hides; so does the mode.
	if err := a.Set("path", "vp"); err != nil {
		t.Fatal(err)
	}
	a.drainLoads(true)
	st = a.Status()
	if c := control("coupling"); !c.Hidden || c.Value != CouplingIndependent || st.Compare != CompareOff || st.Lanes[0].Model != "blob-vp" {
		t.Errorf("on vp: coupling %+v, compare %s, lane %s", c, st.Compare, st.Lanes[0].Model)
	}
	if err := a.Set("coupling", CouplingOT); err == nil {
		t.Error("OT coupling accepted on a path without such a model")
	}
	// A manifest name picks the coupling too.
	if err := a.Set("model", "blob-ot-otcfm"); err != nil {
		t.Fatal(err)
	}
	if a.Settings().Coupling != CouplingOT || a.Settings().Path != "ot" {
		t.Errorf("model blob-ot-otcfm gave settings %+v", a.Settings())
	}
}
