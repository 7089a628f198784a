package explorer

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/sampler"
)

// gaussData are the test "datasets": Gaussians whose exact flow fields are known.
var gaussData = map[string]struct{ mean, std [2]float64 }{
	"blob":  {[2]float64{1, -0.5}, [2]float64{0.3, 0.2}},
	"other": {[2]float64{-1, 1}, [2]float64{0.5, 0.5}},
}

func gaussModel(t testing.TB, dataset, path string) *Model {
	t.Helper()
	p, err := sampler.NewPath(sampler.PathSpec{Name: path})
	if err != nil {
		t.Fatal(err)
	}
	g := gaussData[dataset]
	f := sampler.GaussianTarget{Path: p, Mean: g.mean[:], Var: []float64{g.std[0] * g.std[0], g.std[1] * g.std[1]}}
	return &Model{Name: dataset + "-" + path, Dataset: dataset, Path: p, Field: f}
}

func gaussSample(dataset string, n int, seed uint64) ([]float32, error) {
	g, ok := gaussData[dataset]
	if !ok {
		return nil, errors.New("unknown dataset " + dataset)
	}
	rng := rand.New(rand.NewPCG(seed, 99))
	out := make([]float32, 2*n)
	for i := 0; i < n; i++ {
		out[2*i] = float32(g.mean[0] + g.std[0]*rng.NormFloat64())
		out[2*i+1] = float32(g.mean[1] + g.std[1]*rng.NormFloat64())
	}
	return out, nil
}

func testManifest() *Manifest {
	return &Manifest{Version: 1, Default: "blob-ot", Models: []Entry{
		{Name: "blob-ot", Dataset: "blob", Path: "ot", File: "blob-ot.safetensors"},
		{Name: "blob-vp", Dataset: "blob", Path: "vp", File: "blob-vp.safetensors"},
		{Name: "blob-ve", Dataset: "blob", Path: "ve", File: "blob-ve.safetensors"},
		{Name: "other-ot", Dataset: "other", Path: "ot", File: "other-ot.safetensors"},
	}}
}

// fakeClock moves only when told to.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time      { return c.t }
func (c *fakeClock) Add(d time.Duration) { c.t = c.t.Add(d) }
func newFakeClock() *fakeClock           { return &fakeClock{t: time.Unix(1000, 0)} }
func (c *fakeClock) frame(a *App, n int) { c.run(a, n, 16*time.Millisecond) }
func (c *fakeClock) run(a *App, n int, d time.Duration) {
	for i := 0; i < n; i++ {
		c.Add(d)
		a.Update()
		a.Frame()
	}
}

func newTestApp(t testing.TB, s Settings) (*App, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	cfg := Config{
		Load: func(e Entry) (*Model, error) {
			if e.Name == "" {
				return nil, errors.New("no such model")
			}
			return gaussModel(t, e.Dataset, e.Path), nil
		},
		Data: gaussSample,
		Now:  clk.Now,
	}
	a := New(cfg, testManifest(), s, nil)
	a.drainLoads(true)
	return a, clk
}

func TestLaneMatchesSolve(t *testing.T) {
	m := gaussModel(t, "blob", "ot")
	x0 := Noise(3, 257, 2)
	for _, method := range sampler.Methods() {
		l, err := NewLane(m.Field, method, 7, 0, 1, x0)
		if err != nil {
			t.Fatal(err)
		}
		// Uneven pieces of work must give exactly what one whole solve gives.
		for _, u := range []int{1, 37, 1000, 5} {
			l.Advance(u)
		}
		l.Finish()
		want := append([]float32(nil), x0...)
		var frames [][]float32
		grid := make([]float64, 8)
		for k := range grid {
			grid[k] = l.Time(k)
		}
		_, err = sampler.Solve(m.Field, want, sampler.Options{Method: method, Grid: grid,
			OnStep: func(_ float64, x []float32) { frames = append(frames, append([]float32(nil), x...)) }})
		if err != nil {
			t.Fatal(err)
		}
		if got := l.Computed(); got != 8 || len(frames) != 8 {
			t.Fatalf("%s: %d frames, solve gave %d; want 8", method, got, len(frames))
		}
		for k := range frames {
			for i, v := range frames[k] {
				if l.Frame(k)[i] != v {
					t.Fatalf("%s: frame %d value %d: lane %v, solve %v", method, k, i, l.Frame(k)[i], v)
				}
			}
		}
		evals, _ := sampler.EvalsPerStep(method)
		if got := l.NFEAt(1); got != 7*evals {
			t.Errorf("%s: NFE at the end %d, want %d", method, got, 7*evals)
		}
	}
}

func TestLaneScrubAndFrontier(t *testing.T) {
	m := gaussModel(t, "blob", "ot")
	x0 := Noise(1, 10, 2)
	l, _ := NewLane(m.Field, sampler.Euler, 4, 0, 1, x0)
	if l.Frontier() != 0 || l.Done() {
		t.Fatalf("fresh lane: frontier %g, done %v", l.Frontier(), l.Done())
	}
	l.Advance(10) // one whole step of 10 particles
	if l.Computed() != 2 || l.Frontier() != 0.25 {
		t.Fatalf("after one step: %d frames, frontier %g", l.Computed(), l.Frontier())
	}
	dst := make([]float32, 20)
	if got := l.At(0.9, dst, 0, 10); got != 0.25 {
		t.Errorf("At beyond the frontier showed t = %g, want 0.25", got)
	}
	l.Finish()
	// Halfway between two frames the positions are the average.
	got := l.At(0.375, dst, 0, 10)
	if math.Abs(got-0.375) > 1e-12 {
		t.Errorf("shown time %g, want 0.375", got)
	}
	for i := range dst {
		want := (l.Frame(1)[i] + l.Frame(2)[i]) / 2
		if math.Abs(float64(dst[i]-want)) > 1e-6 {
			t.Fatalf("value %d: %v, want %v", i, dst[i], want)
		}
	}
	if n := l.NFEAt(0.375); n != 2 {
		t.Errorf("NFE to show t = 0.375 with 4 Euler steps: %d, want 2", n)
	}
	if n := l.NFEAt(0.5); n != 2 {
		t.Errorf("NFE at t = 0.5: %d, want 2", n)
	}
	// Scrubbing back gives the stored frames again.
	l.At(0, dst, 0, 10)
	for i := range dst {
		if dst[i] != x0[i] {
			t.Fatal("at t = 0 the positions are not the start")
		}
	}
	trail := l.Path(3, 0.6, nil)
	if len(trail) != 2*4 { // frames 0, 1, 2 and the point at 0.6
		t.Errorf("trail to t = 0.6 has %d values, want 8", len(trail))
	}
}

func TestLaneBackward(t *testing.T) {
	m := gaussModel(t, "blob", "ot")
	x1, _ := gaussSample("blob", 300, 5)
	l, err := NewLane(m.Field, sampler.RK4, 20, 1, 0, x1)
	if err != nil {
		t.Fatal(err)
	}
	l.Finish()
	// Backwards from the data, the points end as standard normal noise.
	z := l.Frame(l.Computed() - 1)
	var s, ss float64
	for _, v := range z {
		s += float64(v)
		ss += float64(v) * float64(v)
	}
	mean, vr := s/float64(len(z)), ss/float64(len(z))-(s/float64(len(z)))*(s/float64(len(z)))
	if math.Abs(mean) > 0.15 || math.Abs(vr-1) > 0.2 {
		t.Errorf("backwards to t = 0: mean %.3f, variance %.3f; want about 0 and 1", mean, vr)
	}
	if l.ShownTime(0.5) != 0.5 || l.ShownTime(2) != 1 || l.ShownTime(-1) != 0 {
		t.Errorf("ShownTime on a backward lane: %g %g %g", l.ShownTime(0.5), l.ShownTime(2), l.ShownTime(-1))
	}
}

func TestLaneErrors(t *testing.T) {
	m := gaussModel(t, "blob", "ot")
	if _, err := NewLane(m.Field, "adams", 4, 0, 1, make([]float32, 4)); err == nil {
		t.Error("unknown solver accepted")
	}
	if _, err := NewLane(m.Field, sampler.Euler, 0, 0, 1, make([]float32, 4)); err == nil {
		t.Error("zero steps accepted")
	}
	if _, err := NewLane(m.Field, sampler.Euler, 3, 0, 1, make([]float32, 5)); err == nil {
		t.Error("ragged batch accepted")
	}
	blow := sampler.FieldFunc{D: 2, F: func(dst, x []float32, _ float64) {
		for i := range dst {
			dst[i] = float32(math.Inf(1))
		}
	}}
	l, _ := NewLane(blow, sampler.Euler, 3, 0, 1, make([]float32, 4))
	l.Finish()
	if l.Err() == nil || !l.Done() {
		t.Error("a lane that blew up has no error")
	}
}

func TestClock(t *testing.T) {
	c := Clock{End: 1, Playing: true, Speed: 1}
	c.Tick(1, 0.1)
	if c.T != 0.1 {
		t.Errorf("clock ran past the frontier: %g", c.T)
	}
	c.Tick(1, math.Inf(1))
	if math.Abs(c.T-(0.1+BaseRate)) > 1e-12 {
		t.Errorf("one second at speed 1: t = %g, want %g", c.T, 0.1+BaseRate)
	}
	c.Speed = 4
	c.Tick(1, math.Inf(1))
	if c.T != 1 || c.Playing {
		t.Errorf("at the end: t = %g, playing %v; want 1, false", c.T, c.Playing)
	}
	c.Toggle()
	if c.T != 0 || !c.Playing {
		t.Errorf("play from the end should restart: t = %g, playing %v", c.T, c.Playing)
	}
	c.Seek(0.33)
	c.StepTo(1, 10)
	if math.Abs(c.T-0.4) > 1e-12 || c.Playing {
		t.Errorf("step forward from 0.33 on 10 steps: %g (playing %v), want 0.4 paused", c.T, c.Playing)
	}
	c.StepTo(1, 10)
	c.StepTo(-1, 10)
	c.StepTo(-1, 10)
	if math.Abs(c.T-0.3) > 1e-12 {
		t.Errorf("after +1 −2 steps: %g, want 0.3", c.T)
	}
	c.Seek(7)
	if c.T != 1 {
		t.Errorf("seek past the end: %g", c.T)
	}
	c.Seek(math.NaN())
	if c.T != 1 {
		t.Errorf("seek to NaN moved the clock to %g", c.T)
	}
}

func TestAppRunsToData(t *testing.T) {
	s := DefaultSettings()
	s.Particles = 1000
	a, clk := newTestApp(t, s)
	a.SetScreen(800, 600)
	st := a.Status()
	if st.Dataset != "blob" || st.Path != "ot" || st.Model != "blob-ot" || st.Solver != "midpoint" {
		t.Fatalf("status names: %+v", st)
	}
	if st.Particles != 1000 || st.T != 0 || st.NFE != 0 || !st.Playing {
		t.Fatalf("start: particles %d, t %g, nfe %d, playing %v", st.Particles, st.T, st.NFE, st.Playing)
	}
	prevT := -1.0
	for i := 0; i < 2000 && !a.Status().Done || a.Status().T < a.Status().TMax; i++ {
		clk.frame(a, 1)
		st = a.Status()
		if st.T < prevT {
			t.Fatalf("t went backwards while playing: %g after %g", st.T, prevT)
		}
		prevT = st.T
	}
	st = a.Status()
	if st.T != 1 || !st.Done || st.Playing {
		t.Fatalf("end: t %g, done %v, playing %v", st.T, st.Done, st.Playing)
	}
	if st.NFE != 20 || st.NFETotal != 20 || st.Steps != 10 {
		t.Errorf("NFE %d of %d in %d steps, want 20 of 20 in 10", st.NFE, st.NFETotal, st.Steps)
	}
	if len(st.Sample) != 1000 {
		t.Fatalf("sample has %d points, want 1000", len(st.Sample))
	}
	pts := make([]float32, 0, 2000)
	for _, p := range st.Sample {
		pts = append(pts, p[0], p[1])
	}
	data, _ := gaussSample("blob", 1000, 77)
	other, _ := gaussSample("blob", 1000, 78)
	w, _ := metrics.W2(pts, data, 2)
	floor, _ := metrics.W2(other, data, 2)
	if w > 1.5*floor {
		t.Errorf("W2 to the data %.4f, floor %.4f", w, floor)
	}
	if st.FPS < 50 || st.FPS > 70 {
		t.Errorf("fps %g with 16 ms frames", st.FPS)
	}
	if st.FirstFrameMs <= 0 {
		t.Errorf("first frame not recorded")
	}
	if l := st.Lanes[0]; l.W2 < 0 || l.W2 > 3*l.W2Floor || l.W2Floor <= 0 {
		t.Errorf("live quality: W2 %g, floor %g", l.W2, l.W2Floor)
	}
}

// costlyField advances a fake clock as it evaluates, as a real network costs time.
type costlyField struct {
	f   sampler.Field
	clk *fakeClock
	per time.Duration // per point evaluated
}

func (c costlyField) Dim() int { return c.f.Dim() }
func (c costlyField) Velocity(dst, x []float32, t float64) {
	c.clk.Add(time.Duration(len(x)/2) * c.per)
	c.f.Velocity(dst, x, t)
}

func TestAppWaitsForCompute(t *testing.T) {
	clk := newFakeClock()
	cfg := Config{
		Load: func(e Entry) (*Model, error) {
			m := gaussModel(t, e.Dataset, e.Path)
			m.Field = costlyField{m.Field, clk, 10 * time.Microsecond}
			return m, nil
		},
		Data: gaussSample,
		Now:  clk.Now,
	}
	s := DefaultSettings()
	s.Particles = 20000
	s.NFE = 100
	s.Solver = sampler.Euler
	a := New(cfg, testManifest(), s, nil)
	a.drainLoads(true)
	// 20,000 particles at 10 µs each: 0.2 s a step, against a frame budget of at most 30 ms.
	var worst time.Duration
	for i := 0; i < 50; i++ {
		clk.Add(16 * time.Millisecond)
		t0 := clk.Now()
		a.Update()
		worst = max(worst, clk.Now().Sub(t0))
		a.Frame()
	}
	st := a.Status()
	if st.T > st.Lanes[0].Frontier+1e-12 {
		t.Fatalf("shown t %g ran past the frontier %g", st.T, st.Lanes[0].Frontier)
	}
	if st.Done || st.T == 0 {
		t.Fatalf("after 50 frames: done %v, t %g; want some progress, not all", st.Done, st.T)
	}
	// Each frame stays within its budget, give or take one piece of work.
	if worst > 40*time.Millisecond {
		t.Errorf("the slowest frame computed for %v", worst)
	}
	t.Logf("50 frames: t %.3f, frontier %.3f, slowest frame %v", st.T, st.Lanes[0].Frontier, worst)
}

func TestControls(t *testing.T) {
	a, _ := newTestApp(t, DefaultSettings())
	for _, c := range []struct{ name, value, want string }{
		{"solver", "rk4", ""},
		{"solver", "adams", "not one of"},
		{"nfe", "0", "whole number"},
		{"nfe", "8", ""},
		{"particles", "50000", ""},
		{"particles", "999999999", "whole number"},
		{"speed", "-1", "above 0"},
		{"speed", "2", ""},
		{"trails", "maybe", "on or off"},
		{"trails", "on", ""},
		{"path", "ve", ""},
		{"path", "sb", "not one of"},
		{"model", "nowhere", "not one of"},
		{"model", "other", ""},
		{"colour", "red", "no control"},
		{"t", "abc", "want a number"},
	} {
		err := a.Set(c.name, c.value)
		if c.want == "" && err != nil {
			t.Errorf("Set(%s, %s): %v", c.name, c.value, err)
		}
		if c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("Set(%s, %s) = %v, want an error with %q", c.name, c.value, err, c.want)
		}
	}
	s := a.Settings()
	if s.Solver != "rk4" || s.NFE != 8 || s.Particles != 50000 || s.Speed != 2 || !s.Trails {
		t.Errorf("settings after Set: %+v", s)
	}
	// "other" has only an OT model: the path falls back to it.
	if s.Dataset != "other" || s.Path != "ot" {
		t.Errorf("model other: dataset %s path %s", s.Dataset, s.Path)
	}
	if err := a.Set("model", "blob-vp"); err != nil || a.Settings().Path != "vp" || a.Settings().Dataset != "blob" {
		t.Errorf("model by file name: %v, %+v", err, a.Settings())
	}
	a.drainLoads(true)
	if st := a.Status(); st.Path != "vp" || st.Model != "blob-vp" || st.Solver != "rk4" || st.Particles != 50000 {
		t.Errorf("status did not follow: %+v", st.Lanes)
	}
	// Controls describe themselves with the current values.
	seen := map[string]Control{}
	for _, c := range a.Controls() {
		seen[c.Name] = c
	}
	if c := seen["path"]; c.Value != "vp" || strings.Join(c.Options, ",") != "ot,vp,ve" {
		t.Errorf("path control: %+v", c)
	}
	if c := seen["nfe"]; c.Value != "8" {
		t.Errorf("nfe control: %+v", c)
	}
	if err := a.Cycle("solver", 1); err != nil || a.Settings().Solver != "dopri5" {
		t.Errorf("cycle solver from rk4: %v, %s", err, a.Settings().Solver)
	}
	if err := a.Cycle("solver", 1); err != nil || a.Settings().Solver != "euler" {
		t.Errorf("cycle wraps: %s", a.Settings().Solver)
	}
	if err := a.Cycle("trails", 1); err != nil || a.Settings().Trails {
		t.Errorf("cycle a toggle: trails %v", a.Settings().Trails)
	}
	if err := a.Set("t", "0.5"); err != nil || a.Status().Playing {
		t.Errorf("seeking should pause: %v", err)
	}
	// 50,000 particles × 1,001 frames of Euler would keep 400 MB of trajectories.
	nfe := a.Settings().NFE
	if err := a.Set("nfe", "1000"); err == nil || !strings.Contains(err.Error(), "MB of trajectories") {
		t.Errorf("50,000 particles × 1,000 Euler steps: %v", err)
	}
	if a.Settings().NFE != nfe {
		t.Errorf("a refused setting changed the NFE to %d", a.Settings().NFE)
	}
	if err := a.Set("particles", "5000"); err != nil {
		t.Fatal(err)
	}
	if err := a.Set("nfe", "1000"); err != nil {
		t.Errorf("5,000 particles × 1,000 Euler steps: %v", err)
	}
}

func TestKeys(t *testing.T) {
	a, _ := newTestApp(t, DefaultSettings())
	a.Settle()
	keys := []struct {
		key   string
		shift bool
		check func(Settings) bool
	}{
		{"KeyS", false, func(s Settings) bool { return s.Solver == "heun" }},
		{"S", true, func(s Settings) bool { return s.Solver == "midpoint" }},
		{"Equal", false, func(s Settings) bool { return s.NFE == 30 }},
		{"Minus", false, func(s Settings) bool { return s.NFE == 20 }},
		{"BracketRight", false, func(s Settings) bool { return s.Particles == 5000 }},
		{"KeyT", false, func(s Settings) bool { return s.Trails }},
		{"KeyD", false, func(s Settings) bool { return s.Data }},
		{"KeyV", false, func(s Settings) bool { return s.Field }},
		{"KeyL", false, func(s Settings) bool { return s.Density }},
		{"KeyC", false, func(s Settings) bool { return s.Compare == ComparePaths }},
		{"KeyP", false, func(s Settings) bool { return s.Path == "vp" }},
		{"ArrowUp", false, func(s Settings) bool { return s.Speed == 2 }},
		{"KeyN", false, func(s Settings) bool { return s.Seed == 2 }},
		{"KeyM", false, func(s Settings) bool { return s.Dataset == "other" }},
	}
	for _, k := range keys {
		if !a.Key(k.key, k.shift) {
			t.Errorf("key %s not handled", k.key)
		}
		if !k.check(a.Settings()) {
			t.Errorf("after key %s: %+v", k.key, a.Settings())
		}
	}
	if a.Key("F13", false) {
		t.Error("unknown key handled")
	}
	a.Settle()
	a.Key("Space", false)
	if a.Status().Playing {
		t.Error("space did not pause")
	}
	a.Key("ArrowRight", false)
	if st := a.Status(); st.T <= 0 || st.Playing {
		t.Errorf("step: t %g, playing %v", st.T, st.Playing)
	}
	a.Key("Home", false)
	if st := a.Status(); st.T != 0 || !st.Playing {
		t.Errorf("restart: t %g, playing %v", st.T, st.Playing)
	}
}

func TestSideBySide(t *testing.T) {
	s := DefaultSettings()
	s.Particles = 500
	s.Compare = ComparePaths
	a, _ := newTestApp(t, s)
	a.SetScreen(1000, 500)
	a.Settle()
	a.Set("t", "1")
	a.Settle()
	st := a.Status()
	if len(st.Lanes) != 2 || st.Lanes[0].Path != "ot" || st.Lanes[1].Path != "vp" {
		t.Fatalf("lanes: %+v", st.Lanes)
	}
	// Same noise at t = 0: OT and VP both start from N(0, I).
	la, lb := a.lanes[0].lane, a.lanes[1].lane
	for i, v := range la.Frame(0) {
		if lb.Frame(0)[i] != v {
			t.Fatal("the two panels do not start from the same noise")
		}
	}
	for _, l := range st.Lanes {
		if !l.Done || l.W2 < 0 || l.NFE != l.NFETotal {
			t.Errorf("lane %s after settling: %+v", l.Path, l)
		}
	}
	sc := a.Scene()
	if len(sc.Panels) != 2 || sc.Panels[0].View.Port.X != 0 || sc.Panels[1].View.Port.X < 500 {
		t.Errorf("landscape split: %+v, %+v", sc.Panels[0].View.Port, sc.Panels[1].View.Port)
	}
	if !strings.Contains(sc.Panels[1].Title, "VP") || !strings.Contains(sc.Panels[1].Info, "W2") {
		t.Errorf("panel B: %q / %q", sc.Panels[1].Title, sc.Panels[1].Info)
	}
	// Solvers side by side: same model, each with its own NFE.
	a.Set("compare", CompareSolvers)
	a.Set("solverB", "euler")
	a.Set("nfeB", "4")
	a.Settle()
	a.Set("t", "1")
	a.Settle()
	st = a.Status()
	if st.Lanes[1].Solver != "euler" || st.Lanes[1].NFETotal != 4 || st.Lanes[1].Model != "blob-ot" {
		t.Errorf("solvers compare: %+v", st.Lanes[1])
	}
	if st.Lanes[1].W2 <= st.Lanes[0].W2 {
		t.Logf("4 Euler steps W2 %.3f vs 20-NFE midpoint %.3f (exact Gaussian field: both near the floor)", st.Lanes[1].W2, st.Lanes[0].W2)
	}
	// A dataset with one path cannot compare paths.
	a.Set("compare", ComparePaths)
	a.Set("model", "other")
	if a.Settings().Compare != CompareOff {
		t.Errorf("compare paths with one path stays %s", a.Settings().Compare)
	}
	if err := a.Set("compare", ComparePaths); err == nil {
		t.Error("compare paths accepted for a dataset with one path")
	}
	// Portrait screens stack the panels.
	ports := Split(400, 800, 2, 6)
	if ports[1].Y < 400 || ports[0].W != 400 {
		t.Errorf("portrait split: %+v", ports)
	}
}

func TestDrop(t *testing.T) {
	s := DefaultSettings()
	s.Particles = 200
	a, _ := newTestApp(t, s)
	a.SetScreen(600, 600)
	a.Settle()
	a.Set("t", "0.5")
	// Drop in the middle of the screen: the data point under it is the view's centre.
	if !a.DropAt(300, 300) {
		t.Fatal("a click in the panel dropped nothing")
	}
	if a.DropAt(-5, 300) {
		t.Error("a click outside every panel dropped particles")
	}
	a.Settle()
	st := a.Status()
	if st.Drops != 1 {
		t.Fatalf("drops %d", st.Drops)
	}
	g := a.Scene().Panels[0].Groups[0]
	// At the drop time the group is where it was dropped.
	var cx, cy float64
	for i := 0; i < DropSize; i++ {
		cx += float64(g.Pos[2*i]) / DropSize
		cy += float64(g.Pos[2*i+1]) / DropSize
	}
	if math.Hypot(cx, cy) > 0.3 {
		t.Errorf("group centre at the drop time (%.3f, %.3f), want near (0, 0)", cx, cy)
	}
	// Its paths run from t = 0 to the end: 5 steps back, 5 forward, the drop point once each.
	if len(g.Paths) != DropSize || len(g.Paths[0]) != 2*(6+6) {
		t.Errorf("group paths: %d of %d values", len(g.Paths), len(g.Paths[0]))
	}
	// At the end the group has moved to the data.
	a.Set("t", "1")
	g = a.Scene().Panels[0].Groups[0]
	cx, cy = 0, 0
	for i := 0; i < DropSize; i++ {
		cx += float64(g.Pos[2*i]) / DropSize
		cy += float64(g.Pos[2*i+1]) / DropSize
	}
	m := gaussData["blob"].mean
	if math.Hypot(cx-m[0], cy-m[1]) > 0.6 {
		t.Errorf("group centre at t = 1 (%.2f, %.2f), data mean %v", cx, cy, m)
	}
	for i := 0; i < MaxDrops+3; i++ {
		a.Drop(0, 0)
	}
	if a.Status().Drops != MaxDrops {
		t.Errorf("%d drops kept, want %d", a.Status().Drops, MaxDrops)
	}
	// Changing the solver recomputes the groups with it.
	a.Set("solver", "euler")
	a.Settle()
	if len(a.Scene().Panels[0].Groups) != MaxDrops {
		t.Error("groups lost on a solver change")
	}
	a.Do("clear")
	if a.Status().Drops != 0 || len(a.Scene().Panels[0].Groups) != 0 {
		t.Error("clear left groups")
	}
}

func TestOverlays(t *testing.T) {
	s := DefaultSettings()
	s.Particles = 300
	s.Field, s.Density, s.Data, s.Trails = true, true, true, true
	a, _ := newTestApp(t, s)
	a.SetScreen(500, 500)
	a.Settle()
	a.Set("t", "0.5")
	a.Settle()
	p := a.Scene().Panels[0]
	if p.Field == nil || !p.Field.Ready() || p.Field.T != 0.5 {
		t.Fatalf("vector field: %+v", p.Field)
	}
	// The arrows are the exact field.
	m := gaussModel(t, "blob", "ot")
	want := make([]float32, len(p.Field.Pos))
	m.Field.Velocity(want, p.Field.Pos, 0.5)
	for i := range want {
		if math.Abs(float64(want[i]-p.Field.Vel[i])) > 1e-5 {
			t.Fatalf("arrow %d: %v, want %v", i/2, p.Field.Vel[i], want[i])
		}
	}
	if p.Density == nil || !p.Density.Ready() || p.Density.Err() != nil {
		t.Fatalf("density: %+v", p.Density)
	}
	// The learned density is the data's Gaussian density (OT with σ_min = 0).
	g := m.Field.(sampler.GaussianTarget)
	pts := gridPoints(p.Density.Box, p.Density.N)
	worst := 0.0
	for i, lp := range p.Density.LogP {
		exact := g.LogDensity([]float64{float64(pts[2*i]), float64(pts[2*i+1])}, 1)
		if exact > -4 { // where the data are: elsewhere the midpoint error grows with |x|
			worst = math.Max(worst, math.Abs(lp-exact))
		}
	}
	if worst > 0.05 {
		t.Errorf("learned log-density off by %.3f nats near the data", worst)
	}
	pix := make([]byte, 4*p.Density.N*p.Density.N)
	p.Density.RGBA(pix)
	lit := 0
	for i := 3; i < len(pix); i += 4 {
		if pix[i] > 0 {
			lit++
		}
	}
	if lit == 0 || lit == len(pix)/4 {
		t.Errorf("density image: %d of %d pixels lit", lit, len(pix)/4)
	}
	if len(p.Data) != 2*DataPoints {
		t.Errorf("data overlay %d values", len(p.Data))
	}
	if len(p.Trails) != 300 || len(p.Trails[0].Pts) < 4 {
		t.Errorf("trails: %d", len(p.Trails))
	}
}

func TestLoadErrors(t *testing.T) {
	clk := newFakeClock()
	cfg := Config{
		Load: func(e Entry) (*Model, error) {
			if e.Path == "vp" {
				return nil, errors.New("weights: header length 9999999 is larger than the file")
			}
			return gaussModel(t, e.Dataset, e.Path), nil
		},
		Data: gaussSample, Now: clk.Now,
	}
	a := New(cfg, testManifest(), DefaultSettings(), nil)
	a.Set("path", "vp")
	a.Settle()
	st := a.Status()
	if !strings.Contains(st.Error, "blob-vp") || !strings.Contains(st.Error, "header length") {
		t.Errorf("status error %q", st.Error)
	}
	sc := a.Scene()
	if !strings.Contains(sc.Panels[0].Message, "Could not load") {
		t.Errorf("panel message %q", sc.Panels[0].Message)
	}
	// Back to a good model, the error goes.
	a.Set("path", "ot")
	a.Settle()
	if st := a.Status(); st.Error != "" || !st.Done {
		t.Errorf("after switching back: error %q, done %v", st.Error, st.Done)
	}
	// No manifest at all.
	b := New(cfg, nil, DefaultSettings(), errors.New("models/manifest.json: 404 Not Found"))
	b.Update()
	if st := b.Status(); !strings.Contains(st.Error, "404") {
		t.Errorf("fatal error %q", st.Error)
	}
	if sc := b.Scene(); !sc.Fatal || !strings.Contains(sc.Message, "404") {
		t.Errorf("fatal scene %+v", sc)
	}
	// A 3-D model is refused in words.
	cfg.Load = func(e Entry) (*Model, error) {
		p, _ := sampler.NewPath(sampler.PathSpec{Name: "ot"})
		return &Model{Path: p, Field: sampler.GaussianTarget{Path: p, Mean: make([]float64, 3), Var: []float64{1, 1, 1}}}, nil
	}
	c := New(cfg, testManifest(), DefaultSettings(), nil)
	c.Settle()
	if st := c.Status(); !strings.Contains(st.Error, "2-D") {
		t.Errorf("3-D model: %q", st.Error)
	}
}

func TestNormalizedModel(t *testing.T) {
	// A model trained on standardised data: the network's space is the data's scaled by
	// 1/std around the mean. The app must show data coordinates.
	mean, std := []float64{3, -2}, []float64{2, 0.5}
	p, _ := sampler.NewPath(sampler.PathSpec{Name: "ot"})
	netField := sampler.GaussianTarget{Path: p, Mean: []float64{0, 0}, Var: []float64{1, 1}}
	clk := newFakeClock()
	cfg := Config{
		Load: func(e Entry) (*Model, error) {
			return &Model{Dataset: e.Dataset, Path: p, Field: netField, Mean: mean, Std: std}, nil
		},
		Now: clk.Now,
	}
	s := DefaultSettings()
	s.Particles = 2000
	s.Density = true
	a := New(cfg, testManifest(), s, nil)
	a.Settle()
	st := a.Status()
	var mx, my, vx, vy float64
	for _, q := range st.Sample {
		mx += float64(q[0]) / 2000
		my += float64(q[1]) / 2000
	}
	for _, q := range st.Sample {
		vx += (float64(q[0]) - mx) * (float64(q[0]) - mx) / 2000
		vy += (float64(q[1]) - my) * (float64(q[1]) - my) / 2000
	}
	if math.Abs(mx-3) > 0.15 || math.Abs(my+2) > 0.05 || math.Abs(math.Sqrt(vx)-2) > 0.15 || math.Abs(math.Sqrt(vy)-0.5) > 0.05 {
		t.Errorf("data-space sample: mean (%.2f, %.2f), std (%.2f, %.2f)", mx, my, math.Sqrt(vx), math.Sqrt(vy))
	}
	// The density integrates to about one over a box holding the data.
	a.models["blob-ot"].density = NewDensityGrid(a.lanes[0].model, 40, Box{-5, -6, 11, 2})
	a.Settle()
	g := a.models["blob-ot"].density
	cell := (16.0 / 40) * (8.0 / 40)
	mass := 0.0
	for _, lp := range g.LogP {
		mass += math.Exp(lp) * cell
	}
	if math.Abs(mass-1) > 0.05 {
		t.Errorf("density mass over the box %.3f, want about 1", mass)
	}
}

func TestManifest(t *testing.T) {
	good := `{"version":1,"default":"moons-ot","models":[
		{"name":"moons-ot","dataset":"moons","path":"ot","file":"moons-ot.safetensors","bytes":10},
		{"name":"moons-vp","dataset":"moons","path":"vp","file":"moons-vp.safetensors"}]}`
	m, err := ParseManifest([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if m.DefaultEntry().Name != "moons-ot" || strings.Join(m.Paths("moons"), ",") != "ot,vp" || len(m.Datasets()) != 1 {
		t.Errorf("manifest: %+v", m)
	}
	for _, c := range []struct{ text, want string }{
		{`{`, "not valid JSON"},
		{`{"version":2,"models":[]}`, "version 2"},
		{`{"version":1,"models":[]}`, "no models"},
		{`{"version":1,"models":[{"name":"a","dataset":"d","path":"xx","file":"a"}]}`, "unknown path"},
		{`{"version":1,"models":[{"name":"a","dataset":"d","path":"ot","file":"../a"}]}`, "relative path"},
		{`{"version":1,"models":[{"name":"a","dataset":"d","path":"ot","file":"a"},{"name":"a","dataset":"e","path":"ot","file":"b"}]}`, "twice"},
		{`{"version":1,"models":[{"name":"a","dataset":"d","path":"ot","file":"a"},{"name":"b","dataset":"d","path":"ot","file":"b"}]}`, "two models"},
		{`{"version":1,"default":"zz","models":[{"name":"a","dataset":"d","path":"ot","file":"a"}]}`, "default model"},
	} {
		_, err := ParseManifest([]byte(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.text, err, c.want)
		}
	}
	fm := ManifestFromFiles([]string{"w/moons-vp.safetensors", "w/moons-ot.safetensors", "w/readme.md", "w/8gaussians-ot.safetensors", "w/bad-xx.safetensors"}, "moons-ot")
	if err := fm.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(fm.Models) != 3 || fm.Default != "moons-ot" || fm.Models[0].Name != "8gaussians-ot" {
		t.Errorf("from files: %+v", fm)
	}
}

func TestView(t *testing.T) {
	v := View{Port: Rect{100, 50, 400, 200}, CX: 1, CY: 2, Half: 4}
	sx, sy := v.ToScreen(1, 2)
	if sx != 300 || sy != 150 {
		t.Errorf("centre maps to (%g, %g)", sx, sy)
	}
	x, y := v.ToData(v.ToScreen(3, -1))
	if math.Abs(x-3) > 1e-12 || math.Abs(y+1) > 1e-12 {
		t.Errorf("round trip (%g, %g)", x, y)
	}
	// The shorter side (200 px) spans 2·Half data units; y points up.
	if _, sy := v.ToScreen(1, 6); sy != 50 {
		t.Errorf("top of the data square at %g px, want 50", sy)
	}
}

func TestHue(t *testing.T) {
	for a := -7.0; a < 7; a += 0.1 {
		r, g, b := Hue(a, 0.8)
		for _, c := range []float32{r, g, b} {
			if c < 0 || c > 1 {
				t.Fatalf("Hue(%g) = %v %v %v", a, r, g, b)
			}
		}
	}
}

func BenchmarkUpdate(b *testing.B) {
	s := DefaultSettings()
	s.Particles = 50000
	s.Trails = true
	a, clk := newTestApp(b, s)
	a.SetScreen(1280, 720)
	for i := 0; i < b.N; i++ {
		clk.frame(a, 1)
		a.Scene()
	}
}

func TestVEPathZooms(t *testing.T) {
	s := DefaultSettings()
	s.Particles = 1000
	s.NFE = 100
	a, _ := newTestApp(t, s)
	if err := a.Set("path", "ve"); err != nil {
		t.Fatal(err)
	}
	a.SetScreen(600, 600)
	a.Settle()
	// VE starts from N(0, σ_max² I) with σ_max = 10: the view holds that noise at t = 0
	// and the data at the end.
	a.Set("t", "0")
	a.Settle()
	start := a.lanes[0].half
	a.Set("t", "1")
	a.Settle()
	end := a.lanes[0].half
	if start < 20 || end > 3 {
		t.Errorf("view half-width %.2f at t = 0 and %.2f at the end; want about 30 and about 1.5", start, end)
	}
	st := a.Status()
	if st.TMax != 0.999 || st.T != st.TMax {
		t.Errorf("VE run ends at %g of %g", st.T, st.TMax)
	}
	var mx float64
	for _, p := range st.Sample {
		mx += float64(p[0]) / float64(len(st.Sample))
	}
	if math.Abs(mx-1) > 0.1 {
		t.Errorf("VE samples' mean x %.3f, data's 1", mx)
	}
}
