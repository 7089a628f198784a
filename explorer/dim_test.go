package explorer

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// gaussND is an exact field whose data are a Gaussian in d dimensions.
func gaussND(t testing.TB, path string, d int) *Model {
	t.Helper()
	p, err := sampler.NewPath(sampler.PathSpec{Name: path})
	if err != nil {
		t.Fatal(err)
	}
	mean, vr := make([]float64, d), make([]float64, d)
	for j := range mean {
		mean[j], vr[j] = 0.5*float64(j)-0.25, 0.1+0.05*float64(j)
	}
	return &Model{Path: p, Field: sampler.GaussianTarget{Path: p, Mean: mean, Var: vr}}
}

// mlpFile encodes a random network of dimension d as a model file.
func mlpFile(t *testing.T, d int, data string, norm *weights.Normalization) []byte {
	t.Helper()
	spec := sampler.MLPSpec{Dim: d, Hidden: []int{9, 7}}
	rng := rand.New(rand.NewPCG(5, 6))
	var ws, bs [][]float32
	for _, sh := range spec.LayerShapes() {
		w, b := make([]float32, sh[0]*sh[1]), make([]float32, sh[0])
		for i := range w {
			w[i] = float32(rng.NormFloat64() * 0.5)
		}
		ws, bs = append(ws, w), append(bs, b)
	}
	f, err := weights.NewFile(weights.Meta{Model: spec, Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: "ot"}},
		Data: weights.DataInfo{Name: data, Dim: d, Normalization: norm}}, ws, bs)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := weights.Encode(&buf, f, weights.F32); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Models of any dimension from 1 up decode and pass Check; only 2-D ones are plottable.
func TestModelDimensions(t *testing.T) {
	for _, d := range []int{1, 2, 3, 5} {
		m := gaussND(t, "ot", d)
		if err := m.Check(); err != nil {
			t.Errorf("d = %d: %v", d, err)
		}
		if m.Dim() != d || m.Plottable() != (d == PlotDim) || (m.PlotError() == nil) != (d == PlotDim) {
			t.Errorf("d = %d: Dim %d, Plottable %v, PlotError %v", d, m.Dim(), m.Plottable(), m.PlotError())
		}
		b := mlpFile(t, d, "", nil)
		dm, err := DecodeModel("x", "blob", b)
		if err != nil {
			t.Fatalf("d = %d: %v", d, err)
		}
		if err := dm.Check(); err != nil || dm.Dim() != d || dm.Dataset != "blob" {
			t.Errorf("d = %d: decoded %v, dim %d, dataset %q", d, err, dm.Dim(), dm.Dataset)
		}
	}
	// A normalisation needs one mean and one scale per coordinate.
	m := gaussND(t, "ot", 3)
	m.Mean, m.Std = []float64{0, 0}, []float64{1, 1}
	if err := m.Check(); err == nil || !strings.Contains(err.Error(), "want 3 each") {
		t.Errorf("a 2-coordinate normalisation of a 3-D model: %v", err)
	}
	m.Mean, m.Std = []float64{0, 0, 1}, []float64{1, 1, 2}
	if err := m.Check(); err != nil {
		t.Error(err)
	}
	// The file's dataset is taken when it is a known dataset of the model's dimension.
	if dm, _ := DecodeModel("x", "blob", mlpFile(t, 2, "moons", nil)); dm.Dataset != "moons" {
		t.Errorf("2-D moons model: dataset %q", dm.Dataset)
	}
	if dm, _ := DecodeModel("x", "blob", mlpFile(t, 3, "moons", nil)); dm.Dataset != "blob" {
		t.Errorf("3-D model naming a 2-D dataset: dataset %q", dm.Dataset)
	}
}

// A worker takes a model of any dimension, and a lane of it farmed out to a pool's
// workers equals, bit for bit, the lane computed in one place.
func TestWorkerTakesAnyDimension(t *testing.T) {
	b := mlpFile(t, 3, "", &weights.Normalization{Mean: []float64{1, 0, -1}, Std: []float64{0.5, 1, 2}})
	w := NewWorker()
	if err := w.AddModel("cube", b); err != nil {
		t.Fatal(err)
	}
	x0 := Noise(9, 2*minFarmed+7, 3)
	if err := w.Start(Job{ID: 1, Model: "cube", Method: "midpoint", Steps: 4, T0: 0, T1: 1, X0: x0}); err != nil {
		t.Fatal(err)
	}
	m, err := DecodeModel("cube", "", b)
	if err != nil {
		t.Fatal(err)
	}
	local, err := NewLane(m.dataSpaceField(), "midpoint", 4, 0, 1, x0)
	if err != nil {
		t.Fatal(err)
	}
	local.Finish()
	p := NewGoPool(2)
	defer p.Close()
	p.AddModel("cube", b)
	farmed, _ := NewLane(m.dataSpaceField(), "midpoint", 4, 0, 1, x0)
	id := 0
	if !farmed.Farm(p, "cube", func() int { id++; return id }) {
		t.Fatal("the lane was not farmed out")
	}
	deadline := time.Now().Add(30 * time.Second)
	var buf []Result
	for !farmed.Done() && time.Now().Before(deadline) {
		buf = p.Poll(buf[:0])
		for _, r := range buf {
			farmed.Deliver(r)
		}
		time.Sleep(time.Millisecond)
	}
	if farmed.Err() != nil || !farmed.Done() || farmed.PoolErr() != "" {
		t.Fatalf("farmed lane: done %v, err %v, pool error %q", farmed.Done(), farmed.Err(), farmed.PoolErr())
	}
	for k := 0; k <= 4; k++ {
		if !slices.Equal(farmed.Frame(k), local.Frame(k)) {
			t.Errorf("frame %d differs between the workers and the page", k)
		}
	}
}

// A model that is not 2-D is integrated like any other, but its panel draws nothing
// and says why, the status says so, and the 2-D views (field, density, drops, data)
// leave it alone, also beside a 2-D panel.
func TestAppNot2D(t *testing.T) {
	clk := newFakeClock()
	cfg := Config{
		Load: func(e Entry) (*Model, error) {
			if e.Path == "vp" {
				return gaussND(t, "vp", 3), nil
			}
			return gaussModel(t, e.Dataset, e.Path), nil
		},
		Data: gaussSample, Now: clk.Now,
	}
	s := DefaultSettings()
	s.Particles = 300
	s.Path, s.PathB, s.Compare = "ot", "vp", ComparePaths
	s.Field, s.Density, s.Data, s.Trails = true, true, true, true
	a := New(cfg, testManifest(), s, nil)
	a.SetScreen(800, 400)
	a.Settle()
	a.Set("t", "1")
	st := a.Status()
	if len(st.Lanes) != 2 || st.Lanes[0].Dim != 2 || st.Lanes[1].Dim != 3 {
		t.Fatalf("lanes %+v", st.Lanes)
	}
	if l := st.Lanes[1]; !l.Done || l.NFE != l.NFETotal || l.W2 != -1 || l.W2Floor != -1 {
		t.Errorf("3-D lane: %+v", l)
	}
	if !strings.Contains(st.Error, "2-D") || !strings.Contains(st.Error, "dimension 3") || !strings.Contains(st.Error, "blob-vp") {
		t.Errorf("status error %q", st.Error)
	}
	if len(st.Sample) != 300 {
		t.Errorf("the 2-D first panel's sample has %d points", len(st.Sample))
	}
	// Both views were asked for; only the 2-D panel has them.
	a.DropAt(200, 200)
	if a.DropAt(600, 200) {
		t.Error("a click on the 3-D panel dropped a group")
	}
	a.Drop(0, 0)
	a.Settle()
	sc := a.Scene()
	p0, p1 := sc.Panels[0], sc.Panels[1]
	if p0.Pos == nil || p0.Field == nil || p0.Density == nil || p0.Data == nil || len(p0.Trails) == 0 || len(p0.Groups) != 2 {
		t.Errorf("2-D panel: pos %v, field %v, density %v, data %d, trails %d, groups %d",
			p0.Pos != nil, p0.Field != nil, p0.Density != nil, len(p0.Data), len(p0.Trails), len(p0.Groups))
	}
	if p1.Pos != nil || p1.Field != nil || p1.Density != nil || p1.Data != nil || p1.Trails != nil || p1.Groups != nil {
		t.Errorf("3-D panel draws something: %+v", p1)
	}
	if !strings.Contains(p1.Message, "2-D") || !strings.Contains(p1.Info, "NFE 20/20") {
		t.Errorf("3-D panel: message %q, info %q", p1.Message, p1.Info)
	}
	if a.models["blob-vp"].density != nil {
		t.Error("a learned density was started for the 3-D model")
	}
	// Alone, the 3-D model runs to its end too, with no sample.
	a.Set("compare", "off")
	a.Set("path", "vp")
	a.Settle()
	a.Set("t", "1")
	if st := a.Status(); !st.Done || st.T != st.TMax || len(st.Sample) != 0 || st.Particles != 300 {
		t.Errorf("3-D alone: done %v, t %g of %g, sample %d, particles %d", st.Done, st.T, st.TMax, len(st.Sample), st.Particles)
	}
	// A density grid for it is born failed, in words.
	if g := NewDensityGrid(gaussND(t, "ot", 3), 4, Box{-1, -1, 1, 1}); !g.Ready() || g.Err() == nil || g.Advance(1000) != 0 {
		t.Errorf("3-D density grid: ready %v, err %v", g.Ready(), g.Err())
	}
}

// A 1-D model loads and runs; its particles are black and undrawn.
func TestApp1D(t *testing.T) {
	clk := newFakeClock()
	cfg := Config{
		Load: func(e Entry) (*Model, error) { return gaussND(t, e.Path, 1), nil },
		Data: func(string, int, uint64) ([]float32, error) { return nil, errors.New("no data") },
		Now:  clk.Now,
	}
	s := DefaultSettings()
	s.Particles = 100
	a := New(cfg, testManifest(), s, nil)
	a.Settle()
	st := a.Status()
	if !st.Done || st.Lanes[0].Dim != 1 || !strings.Contains(st.Error, "dimension 1") {
		t.Errorf("1-D: %+v", st)
	}
	if l := a.lanes[0].lane; l.Dim() != 1 || l.N() != 100 || len(l.Frame(l.Steps())) != 100 {
		t.Errorf("1-D lane: dim %d, n %d", l.Dim(), l.N())
	}
}

// The clock a front end reads for its slider and play button is the scene's, without
// building a scene.
func TestClockAccessor(t *testing.T) {
	a, clk := newTestApp(t, DefaultSettings())
	for i := 0; i < 5; i++ {
		clk.frame(a, 7)
		c, sc := a.Clock(), a.Scene()
		if c.T != sc.T || c.End != sc.End || c.Playing != sc.Playing || c.Speed != a.Settings().Speed {
			t.Fatalf("clock %+v, scene t %g end %g playing %v", c, sc.T, sc.End, sc.Playing)
		}
		if i == 2 {
			a.Do("pause")
		}
	}
	if a.Clock().Playing {
		t.Error("paused, the clock plays")
	}
}

// A model that keeps a coordinate constant (normalisation scale 0, as flowmatch train
// -data records a constant column) loads, and its particles end exactly on that value.
func TestConstantCoordinate(t *testing.T) {
	b := mlpFile(t, 2, "", &weights.Normalization{Mean: []float64{1, 7.25}, Std: []float64{0.5, 0}})
	m, err := DecodeModel("line", "", b)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Check(); err != nil {
		t.Fatalf("a constant coordinate: %v", err)
	}
	x0 := Noise(3, 50, 2)
	for i := range x0 { // the source noise in data space, as the app maps it (build)
		j := i % 2
		x0[i] = float32(m.Mean[j] + m.Std[j]*float64(x0[i]))
	}
	lane, err := NewLane(m.dataSpaceField(), "midpoint", 4, 0, 1, x0)
	if err != nil {
		t.Fatal(err)
	}
	lane.Finish()
	end := lane.Frame(4)
	for i := 1; i < len(end); i += 2 {
		if x0[i] != 7.25 || end[i] != 7.25 { // the noise starts on it, and v = σ·v_net = 0 along it
			t.Fatalf("particle %d's constant coordinate went from %v to %v, want 7.25 throughout", i/2, x0[i], end[i])
		}
	}
	m.Std = []float64{0.5, -1}
	if err := m.Check(); err == nil {
		t.Error("a negative scale was accepted")
	}
}
