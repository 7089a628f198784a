package explorer

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// waitResults polls a pool until ok says the results so far are enough.
func waitResults(t *testing.T, p Pool, ok func([]Result) bool) []Result {
	t.Helper()
	var rs []Result
	deadline := time.Now().Add(2 * time.Minute)
	for !ok(rs) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting after %d results", len(rs))
		}
		time.Sleep(5 * time.Millisecond)
		rs = p.Poll(rs)
	}
	return rs
}

// A training job in a worker reports its steps in order and ends with a model file that
// the weights package decodes: the network asked for, the points' Normalization (so that
// samples come back in the points' coordinates), and where and how it was trained.
func TestTrainJobFile(t *testing.T) {
	pts, err := dataset.Sample("moons", 500, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range pts { // coordinates far from standard: the file must map back to them
		pts[i] = 10 + 3*pts[i]
	}
	const steps = 200
	p := NewGoPool(1)
	defer p.Close()
	p.Start(0, Job{ID: 7, Kind: KindTrain, Steps: steps, Train: &TrainSpec{Name: "moons", Source: "toy", Points: pts, Steps: steps, Seed: 3}})
	rs := waitResults(t, p, func(rs []Result) bool {
		return len(rs) > 0 && (rs[len(rs)-1].Step == steps || rs[len(rs)-1].Err != nil)
	})
	last := rs[len(rs)-1]
	if last.Err != nil {
		t.Fatal(last.Err)
	}
	prev := 0
	for _, r := range rs {
		if r.ID != 7 || r.Step < prev || r.X != nil || !(r.Loss > 0) {
			t.Fatalf("result %+v after step %d", r, prev)
		}
		prev = r.Step
	}
	if last.File == nil || !(last.Seconds > 0) {
		t.Fatalf("the last result has no file (%d bytes) or time %g", len(last.File), last.Seconds)
	}
	f, err := weights.DecodeBytes(last.File)
	if err != nil {
		t.Fatal(err)
	}
	m := f.Meta
	if !slices.Equal(m.Model.Hidden, DefaultTrainHidden) || m.Model.Dim != 2 || m.Path.Name != sampler.PathOT {
		t.Errorf("network %+v, path %q", m.Model, m.Path.Name)
	}
	// The rows trained on: all but a seeded tenth, held out as flowmatch train -data
	// holds it out, and recorded so that flowmatch eval finds it.
	train, _, _ := dataset.Split(pts, 2, 3)
	mean, std, _ := dataset.Standardize(train, 2)
	if src := m.Data.Source; src.Rows != 500 || src.Holdout != (weights.Holdout{Rule: dataset.HoldoutRule, Seed: 3, Rows: 50}) {
		t.Errorf("data source %+v", src)
	}
	nz := m.Data.Normalization
	if nz == nil || !slices.Equal(nz.Mean, mean) || !slices.Equal(nz.Std, std) {
		t.Errorf("normalization %+v, want mean %v std %v", nz, mean, std)
	}
	pv := m.Provenance
	if m.Data.Name != "moons" || pv.Steps != steps || pv.Command != "browser" || pv.Coupling != weights.CouplingIndependent ||
		pv.Batch != DefaultTrainBatch || pv.LR != DefaultTrainLR || pv.Notes["rows"] != "500" || pv.Notes["engine"] != "go" || pv.Notes["source"] != "toy" {
		t.Errorf("metadata: data %q, provenance %+v", m.Data.Name, pv)
	}
	// The file samples, in the points' coordinates.
	net, _, err := f.Field()
	if err != nil {
		t.Fatal(err)
	}
	x := Noise(5, 1000, 2)
	if _, err := sampler.Solve(net, x, sampler.Options{Method: sampler.Midpoint, Steps: 20}); err != nil {
		t.Fatal(err)
	}
	m.Data.ToData(x)
	var mx, my float64
	for i := 0; i < len(x); i += 2 {
		mx, my = mx+float64(x[i]), my+float64(x[i+1])
	}
	mx, my = mx/1000, my/1000
	// After 200 steps the samples' mean is near the points' (10 + 3·moons' mean); a
	// model that forgot the Normalization would put it near 0.
	if math.Hypot(mx-mean[0], my-mean[1]) > 0.5*std[0] {
		t.Errorf("samples' mean (%.3f, %.3f), points' (%.3f, %.3f)", mx, my, mean[0], mean[1])
	}
}

// A held training job stops between two steps and sends its weights at once; resumed,
// it goes on from where it was.
func TestTrainJobHold(t *testing.T) {
	pts, _ := dataset.Sample("rings", 300, rand.New(rand.NewPCG(1, 2)))
	p := NewGoPool(1)
	defer p.Close()
	p.Start(0, Job{ID: 1, Kind: KindTrain, Steps: 1 << 20, Train: &TrainSpec{Name: "rings", Points: pts, Steps: 1 << 20, Hidden: []int{16}}})
	waitResults(t, p, func(rs []Result) bool { return len(rs) > 0 })
	p.Hold(0, 1, true)
	rs := waitResults(t, p, func(rs []Result) bool { return len(rs) > 0 && rs[len(rs)-1].File != nil })
	held := rs[len(rs)-1].Step
	time.Sleep(100 * time.Millisecond)
	if more := p.Poll(nil); len(more) > 0 {
		t.Fatalf("a held job sent %d more results (step %d after %d)", len(more), more[len(more)-1].Step, held)
	}
	p.Hold(0, 1, false)
	rs = waitResults(t, p, func(rs []Result) bool { return len(rs) > 0 && rs[len(rs)-1].Step > held })
	if rs[0].Step < held {
		t.Errorf("resumed at step %d, held at %d", rs[0].Step, held)
	}
	p.Cancel(0, 1)
}

// Jobs that cannot train are refused in words.
func TestTrainJobErrors(t *testing.T) {
	for _, c := range []struct {
		job  Job
		want string
	}{
		{Job{ID: 1, Kind: KindTrain}, "without its settings"},
		{Job{ID: 2, Kind: KindTrain, Train: &TrainSpec{Points: []float32{1, 2, 3}}}, "not a whole number"},
		{Job{ID: 3, Kind: KindTrain, Train: &TrainSpec{Points: []float32{1, 2}}}, "1 points"},
		{Job{ID: 4, Kind: KindTrain, Train: &TrainSpec{Points: []float32{1, 2, float32(math.NaN()), 0}}}, "finite"},
		{Job{ID: 5, Kind: KindTrain, Train: &TrainSpec{Points: []float32{1, 2, 3, 4}, Coupling: "magic"}}, "magic"},
	} {
		err := NewWorker().Start(c.job)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("job %d: error %v, want one saying %q", c.job.ID, err, c.want)
		}
	}
}
