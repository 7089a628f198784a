package explorer

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// failingPool is a GoPool whose workers all fail at one step, as a worker that dies.
type failingPool struct {
	*GoPool
	failStep int
}

func (p failingPool) Poll(dst []Result) []Result {
	n := len(dst)
	dst = p.GoPool.Poll(dst)
	for i := n; i < len(dst); i++ {
		if dst[i].Step == p.failStep {
			dst[i] = Result{ID: dst[i].ID, Step: dst[i].Step, Err: errors.New("worker lost")}
		}
	}
	return dst
}

// countingPool counts the jobs started and cancelled.
type countingPool struct {
	*GoPool
	started, cancelled int
}

func (p *countingPool) Start(w int, job Job) { p.started++; p.GoPool.Start(w, job) }
func (p *countingPool) Cancel(w, id int)     { p.cancelled++; p.GoPool.Cancel(w, id) }

func newGoPool(t *testing.T, n int, files map[string][]byte) *GoPool {
	p := NewGoPool(n)
	for name, b := range files {
		p.AddModel(name, b)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// modelFiles are model files to farm out: two shipped models (one with a normalisation
// and the VE path's wide source) and a random network of odd width, whose rows fall on
// every edge of the kernels' register tiles.
func modelFiles(t *testing.T) map[string][]byte {
	files := map[string][]byte{}
	for _, name := range []string{"moons-ot", "8gaussians-ve"} {
		b, err := os.ReadFile("../weights/" + name + ".safetensors")
		if err != nil {
			t.Skipf("shipped model: %v", err)
		}
		files[name] = b
	}
	spec := sampler.MLPSpec{Dim: 2, Hidden: []int{37, 19}}
	rng := rand.New(rand.NewPCG(3, 4))
	var ws, bs [][]float32
	for _, sh := range spec.LayerShapes() {
		w, b := make([]float32, sh[0]*sh[1]), make([]float32, sh[0])
		for i := range w {
			w[i] = float32(rng.NormFloat64() * 0.5)
		}
		for i := range b {
			b[i] = float32(rng.NormFloat64() * 0.1)
		}
		ws, bs = append(ws, w), append(bs, b)
	}
	f, err := weights.NewFile(weights.Meta{Model: spec, Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: "vp"}},
		Data: weights.DataInfo{Name: "moons", Dim: 2, Normalization: &weights.Normalization{Mean: []float64{0.5, 0.25}, Std: []float64{0.9, 0.5}}}}, ws, bs)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := weights.Encode(&buf, f, weights.F32); err != nil {
		t.Fatal(err)
	}
	files["odd-vp"] = buf.Bytes()
	return files
}

// waitFarmed delivers the pool's results until the lane is done.
func waitFarmed(t *testing.T, l *Lane, p Pool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var buf []Result
	for !l.Done() {
		if time.Now().After(deadline) {
			t.Fatalf("the pool did not finish the lane: %d of %d frames", l.Computed()-1, l.Steps())
		}
		buf = p.Poll(buf[:0])
		for _, r := range buf {
			l.Deliver(r)
		}
		time.Sleep(time.Millisecond)
	}
}

// The frames of a lane shared among workers equal, bit for bit, those of the same lane
// computed in one place, for every solver, particle count and number of workers.
func TestFarmedLaneIsBitIdentical(t *testing.T) {
	files := modelFiles(t)
	local := NewWorker()
	for name, b := range files {
		if err := local.AddModel(name, b); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		model, method string
		steps, n      int
	}{
		{"moons-ot", "midpoint", 10, 1000},
		{"moons-ot", "euler", 7, 1025},
		{"8gaussians-ve", "rk4", 5, 777},
		{"odd-vp", "heun", 6, 513},
		{"odd-vp", "midpoint", 3, 2*laneChunk + 3}, // more rows than one solver step takes
	}
	var id int // unique over the pool's life, as the app's
	for _, workers := range []int{1, 2, 3, 4} {
		p := newGoPool(t, workers, files)
		for _, c := range cases {
			m := local.models[c.model]
			x0 := Noise(9, c.n, 2)
			for i := range x0 {
				x0[i] *= float32(m.Path.SourceStd())
			}
			t0, t1 := m.tRange()
			ref, err := NewLane(m.dataSpaceField(), c.method, c.steps, t0, t1, x0)
			if err != nil {
				t.Fatal(err)
			}
			// Awkward pieces, as the app's frame budget makes them.
			for !ref.Done() {
				ref.Advance(333)
			}
			l, _ := NewLane(m.dataSpaceField(), c.method, c.steps, t0, t1, x0)
			if !l.Farm(p, c.model, func() int { id++; return id }) {
				t.Fatalf("%+v with %d workers: not farmed", c, workers)
			}
			if want := min(workers, c.n/minFarmed); l.Workers() != want {
				t.Errorf("%+v: shared among %d workers, want %d", c, l.Workers(), want)
			}
			if l.Advance(1<<20) != 0 || l.RemainingUnits() != 0 {
				t.Errorf("a farmed lane computes in the page")
			}
			waitFarmed(t, l, p)
			if l.Err() != nil || l.PoolErr() != "" {
				t.Fatalf("%+v: %v %s", c, l.Err(), l.PoolErr())
			}
			for k := 0; k <= c.steps; k++ {
				a, b := ref.Frame(k), l.Frame(k)
				for i := range a {
					if a[i] != b[i] {
						t.Fatalf("%+v, %d workers: frame %d value %d: farmed %v, in one place %v", c, workers, k, i, b[i], a[i])
					}
				}
			}
		}
	}
}

// A worker that fails part way gives the lane back: the page finishes it, from the last
// frame every worker delivered, with the same result.
func TestFarmedLaneFallsBack(t *testing.T) {
	files := modelFiles(t)
	p := failingPool{newGoPool(t, 3, files), 4}
	w := NewWorker()
	if err := w.AddModel("moons-ot", files["moons-ot"]); err != nil {
		t.Fatal(err)
	}
	m := w.models["moons-ot"]
	x0 := Noise(1, 900, 2)
	ref, _ := NewLane(m.dataSpaceField(), "midpoint", 8, 0, 1, x0)
	ref.Finish()
	l, _ := NewLane(m.dataSpaceField(), "midpoint", 8, 0, 1, x0)
	var id int
	l.Farm(p, "moons-ot", func() int { id++; return id })
	deadline := time.Now().Add(30 * time.Second)
	for l.Farmed() && time.Now().Before(deadline) {
		for _, r := range p.Poll(nil) {
			l.Deliver(r)
		}
		time.Sleep(time.Millisecond)
	}
	if l.Farmed() || l.PoolErr() == "" || l.Workers() != 0 {
		t.Fatalf("farmed %v, pool error %q, workers %d", l.Farmed(), l.PoolErr(), l.Workers())
	}
	if got := l.Computed() - 1; got > 3 {
		t.Errorf("%d frames kept from the workers, want at most the 3 delivered before step 4 failed", got)
	}
	for !l.Done() {
		l.Advance(100)
	}
	for i, v := range l.Frame(8) {
		if v != ref.Frame(8)[i] {
			t.Fatalf("value %d: %v after falling back, %v in one place", i, v, ref.Frame(8)[i])
		}
	}
	// Results of a lane that went back are not its any more.
	if l.Deliver(Result{ID: 1, Step: 5}) {
		t.Error("a lane taken back accepted a result")
	}
}

// Wrong or missing models are errors from the worker, not panics.
func TestWorkerErrors(t *testing.T) {
	w := NewWorker()
	if err := w.AddModel("junk", []byte("not a model")); err == nil {
		t.Error("junk accepted as a model")
	}
	if err := w.Start(Job{ID: 1, Model: "absent", Method: "euler", Steps: 1, X0: make([]float32, 2)}); err == nil {
		t.Error("a job for a model never sent ran")
	}
	files := modelFiles(t)
	if err := w.AddModel("moons-ot", files["moons-ot"]); err != nil {
		t.Fatal(err)
	}
	for _, job := range []Job{
		{Model: "moons-ot", Method: "leapfrog", Steps: 1, X0: make([]float32, 2)},
		{Model: "moons-ot", Method: "euler", Steps: 0, X0: make([]float32, 2)},
		{Model: "moons-ot", Method: "euler", Steps: 1, X0: make([]float32, 3)},
	} {
		if err := w.Start(job); err == nil {
			t.Errorf("job %+v ran", job)
		}
	}
}

// The app shares a large lane among the pool's workers, shows what they send, drops the
// jobs of lanes it replaces, and reports the workers in its status.
func TestAppUsesPool(t *testing.T) {
	files := modelFiles(t)
	p := &countingPool{GoPool: newGoPool(t, 2, files)}
	man := &Manifest{Version: 1, Models: []Entry{
		{Name: "moons-ot", Dataset: "moons", Path: "ot", File: "moons-ot.safetensors"},
		{Name: "odd-vp", Dataset: "moons", Path: "vp", File: "odd-vp.safetensors"},
	}}
	clk := newFakeClock()
	a := New(Config{
		Load: func(e Entry) (*Model, error) { return DecodeModel(e.Name, e.Dataset, files[e.Name]) },
		Now:  clk.Now, Pool: p,
	}, man, DefaultSettings(), nil)
	a.drainLoads(true)
	if err := a.Set("particles", "2000"); err != nil {
		t.Fatal(err)
	}
	first := p.started
	if err := a.Set("path", "vp"); err != nil {
		t.Fatal(err)
	}
	a.drainLoads(true)
	if p.started != first+2 {
		t.Fatalf("jobs started: %d then %d, want 2 more for the new lane", first, p.started)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !a.Status().Done && time.Now().Before(deadline) {
		clk.frame(a, 1)
		time.Sleep(time.Millisecond)
	}
	st := a.Status()
	if !st.Done || st.Workers != 2 || st.Lanes[0].Workers != 2 || st.Lanes[0].PoolErr != "" {
		t.Fatalf("status %+v", st.Lanes)
	}
	if hud := a.Scene().HUD; !strings.Contains(hud, "2 workers") {
		t.Errorf("the HUD %q does not say the workers compute", hud)
	}
	if k := Kernel(); k == "" || st.Kernel != k || !strings.Contains(a.Scene().HUD, "kernel "+k) {
		t.Errorf("kernel %q: the status says %q, the HUD %q", k, st.Kernel, a.Scene().HUD)
	}
	// The page computed nothing: the same lane in one place gives the same end.
	l := a.lanes[0].lane
	ref, _ := NewLane(l.field, l.method, l.steps, l.t0, l.t1, l.Frame(0))
	ref.Finish()
	for i, v := range l.Frame(l.Steps()) {
		if v != ref.Frame(ref.Steps())[i] {
			t.Fatalf("value %d: %v from the workers, %v in one place", i, v, ref.Frame(ref.Steps())[i])
		}
	}
	if p.cancelled < 2 {
		t.Errorf("%d jobs cancelled, want the replaced lane's 2", p.cancelled)
	}
}

// Close stops a long run between two steps, and a closed pool refuses jobs in words.
func TestGoPoolClose(t *testing.T) {
	files := modelFiles(t)
	p := NewGoPool(1)
	p.AddModel("moons-ot", files["moons-ot"])
	p.Start(0, Job{ID: 1, Model: "moons-ot", Method: "rk4", Steps: 100000, T0: 0, T1: 1, X0: Noise(1, 2000, 2)})
	deadline := time.Now().Add(30 * time.Second)
	for len(p.Poll(nil)) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	done := make(chan error)
	go func() { done <- p.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not stop a running job")
	}
	p.Start(0, Job{ID: 2, Model: "moons-ot", Method: "euler", Steps: 1, X0: make([]float32, 2)})
	if r := p.Poll(nil); len(r) == 0 || r[len(r)-1].ID != 2 || r[len(r)-1].Err == nil {
		t.Errorf("a job started on a closed pool gave %+v", r)
	}
	if p.Close() == nil {
		t.Error("a second Close succeeded")
	}
}

// A worker takes a step of each of its runs in turn, so that two panels side by side
// advance together rather than one after the other.
func TestWorkerInterleavesRuns(t *testing.T) {
	files := modelFiles(t)
	p := newGoPool(t, 1, files)
	x0 := Noise(5, 300, 2)
	p.Start(0, Job{ID: 1, Model: "moons-ot", Method: "euler", Steps: 20, T0: 0, T1: 1, X0: x0})
	p.Start(0, Job{ID: 2, Model: "odd-vp", Method: "rk4", Steps: 20, T0: 0, T1: 0.9, X0: x0})
	var order []Result
	deadline := time.Now().Add(30 * time.Second)
	for len(order) < 40 && time.Now().Before(deadline) {
		order = p.Poll(order)
		time.Sleep(time.Millisecond)
	}
	if len(order) != 40 {
		t.Fatalf("%d results, want 40", len(order))
	}
	for _, r := range order {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	if first2 := slices.IndexFunc(order, func(r Result) bool { return r.ID == 2 }); first2 > 2 {
		t.Errorf("run 2's first step came %d results in, after run 1's step %d", first2, order[first2-1].Step)
	}
}
