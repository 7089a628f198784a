package recipe

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

func moons(batch int, coupling string) Data {
	return Data{Dataset: "moons", Path: sampler.PathSpec{Name: sampler.PathOT}, Coupling: coupling, OTGroup: 128, Batch: batch,
		Time: sampler.TimeEmbedding{Kind: sampler.TimeRaw}}
}

// The regression pairs are the sampler's: the network input rows are
// [A·x1 + B·x0, features(t)] and the targets DA·x1 + DB·x0 with the sampler's own
// Coeffs and Features, for every path and time embedding, and OT pairing is a
// permutation of the data within each group.
func TestBatchMatchesSampler(t *testing.T) {
	for _, tc := range []struct {
		path     sampler.PathSpec
		time     sampler.TimeEmbedding
		coupling string
	}{
		{sampler.PathSpec{Name: "ot"}, sampler.TimeEmbedding{Kind: "raw"}, weights.CouplingIndependent},
		{sampler.PathSpec{Name: "ot", SigmaMin: 0.01}, sampler.TimeEmbedding{Kind: "fourier", Freqs: 3}, weights.CouplingOT},
		{sampler.PathSpec{Name: "vp"}, sampler.TimeEmbedding{Kind: "raw"}, weights.CouplingIndependent},
		{sampler.PathSpec{Name: "ve"}, sampler.TimeEmbedding{Kind: "fourier", Freqs: 2}, weights.CouplingOT},
	} {
		d := Data{Dataset: "8gaussians", Path: tc.path, Coupling: tc.coupling, OTGroup: 24, Batch: 64, Time: tc.time}
		b, err := NewBatcher(d, rand.NewPCG(3, 4))
		if err != nil {
			t.Fatal(err)
		}
		// The same stream without pairing: the data before it was re-ordered.
		raw := d
		raw.Coupling = weights.CouplingIndependent
		br, _ := NewBatcher(raw, rand.NewPCG(3, 4))
		pr, _ := br.Draw()
		in, dim := d.InputDim(), d.Dim()
		x := make([]float32, d.Batch*in)
		u := make([]float32, d.Batch*dim)
		if err := b.Next(x, u); err != nil {
			t.Fatal(err)
		}
		p := Pairs{X0: b.x0, X1: b.x1, T: b.t}
		if !slices.Equal(p.X0, pr.X0) || !slices.Equal(p.T, pr.T) {
			t.Fatalf("%v: pairing changed the noise or the times", tc.path)
		}
		checkPermutation(t, p.X1, pr.X1, dim, 24, tc.coupling == weights.CouplingOT)
		path, _ := sampler.NewPath(d.Path)
		feat := make([]float32, d.Time.Size())
		for i := 0; i < d.Batch; i++ {
			ti := p.T[i]
			if ti < 0 || ti > path.TMax() {
				t.Fatalf("%v: t = %g outside [0, %g]", tc.path, ti, path.TMax())
			}
			c := path.Coeffs(ti)
			for j := 0; j < dim; j++ {
				x1, x0 := float64(p.X1[i*dim+j]), float64(p.X0[i*dim+j])
				if want := float32(c.A*x1 + c.B*x0); x[i*in+j] != want {
					t.Fatalf("%v: x_t[%d][%d] = %v, sampler gives %v", tc.path, i, j, x[i*in+j], want)
				}
				if want := float32(c.DA*x1 + c.DB*x0); u[i*dim+j] != want {
					t.Fatalf("%v: u_t[%d][%d] = %v, sampler gives %v", tc.path, i, j, u[i*dim+j], want)
				}
			}
			d.Time.Features(feat, ti)
			for k, f := range feat {
				if x[i*in+dim+k] != f {
					t.Fatalf("%v: time feature %d of row %d = %v, sampler gives %v", tc.path, k, i, x[i*in+dim+k], f)
				}
			}
		}
	}
}

// checkPermutation checks that the rows of got are those of orig, re-ordered within
// each group of rows (or not at all when !paired).
func checkPermutation(t *testing.T, got, orig []float32, dim, group int, paired bool) {
	t.Helper()
	n := len(orig) / dim
	moved := false
	for g0 := 0; g0 < n; g0 += group {
		m := min(group, n-g0)
		var a, b []string
		for i := g0; i < g0+m; i++ {
			a = append(a, rowKey(got[i*dim:(i+1)*dim]))
			b = append(b, rowKey(orig[i*dim:(i+1)*dim]))
			moved = moved || a[len(a)-1] != b[len(b)-1]
		}
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Fatalf("rows %d..%d are not a permutation of the data drawn", g0, g0+m)
		}
	}
	if moved != paired {
		t.Fatalf("paired %v, rows moved %v", paired, moved)
	}
}

func rowKey(r []float32) string {
	var sb strings.Builder
	for _, v := range r {
		fmt.Fprintf(&sb, "%08x ", math.Float32bits(v))
	}
	return sb.String()
}

// OT coupling pairs noise and data by the cheapest assignment: never worse than the
// order they were drawn in, and far better on a batch.
func TestOTCouplingLowersCost(t *testing.T) {
	cost := func(p Pairs) float64 {
		s := 0.0
		for i := range p.X0 {
			d := float64(p.X0[i] - p.X1[i])
			s += d * d
		}
		return s
	}
	bi, _ := NewBatcher(moons(256, weights.CouplingIndependent), rand.NewPCG(9, 9))
	pi, _ := bi.Draw()
	bo, _ := NewBatcher(moons(256, weights.CouplingOT), rand.NewPCG(9, 9))
	po, _ := bo.Draw()
	ci, co := cost(pi), cost(po)
	if !(co < 0.7*ci) {
		t.Fatalf("OT pairing cost %g, independent %g: expected a large reduction", co, ci)
	}
}

// A stream restored from a state draws the batches that followed it, and one seed
// gives one stream.
func TestStreamState(t *testing.T) {
	for _, c := range []string{weights.CouplingIndependent, weights.CouplingOT} {
		d := moons(200, c)
		a, _ := NewStream(d, 5)
		x, u := make([]float32, d.Batch*d.InputDim()), make([]float32, d.Batch*d.Dim())
		a.Next(x, u)
		state, err := a.State()
		if err != nil {
			t.Fatal(err)
		}
		a.Next(x, u)
		want := slices.Concat(x, u)

		b, _ := NewStream(d, 5)
		if err := b.SetState(state); err != nil {
			t.Fatal(err)
		}
		b.Next(x, u)
		if !slices.Equal(slices.Concat(x, u), want) {
			t.Fatalf("%s: the restored stream's batch differs", c)
		}
		if err := b.SetState([]byte("nonsense")); err == nil {
			t.Errorf("SetState accepted a bad state")
		}
		other, _ := NewStream(d, 6)
		other.Next(x, u)
		other.Next(x, u)
		if slices.Equal(slices.Concat(x, u), want) {
			t.Fatalf("%s: seeds 5 and 6 gave the same batch", c)
		}
	}
}

// The prefetcher delivers the sequential batches, in order, with the state after each.
func TestPrefetchEqualsSequential(t *testing.T) {
	d := moons(100, weights.CouplingOT)
	d.OTGroup = 30
	seq, _ := NewStream(d, 8)
	pre, _ := NewStream(d, 8)
	const n = 7
	pf := pre.Prefetch(n)
	defer pf.Stop()
	x, u := make([]float32, d.Batch*d.InputDim()), make([]float32, d.Batch*d.Dim())
	for k := 0; k < n; k++ {
		if err := seq.Next(x, u); err != nil {
			t.Fatal(err)
		}
		state, _ := seq.State()
		bt := pf.Next()
		if bt == nil || bt.Err != nil {
			t.Fatalf("batch %d: %v", k, bt)
		}
		if !slices.Equal(bt.X, x) || !slices.Equal(bt.U, u) || !slices.Equal(bt.State, state) {
			t.Fatalf("batch %d differs from the sequential one", k)
		}
		pf.Release(bt)
	}
	if bt := pf.Next(); bt != nil {
		t.Fatalf("a batch after the %d asked for", n)
	}
}

// Stopping a prefetcher early ends its goroutine (it does not block on a full queue).
func TestPrefetchStop(t *testing.T) {
	b, _ := NewStream(moons(10, weights.CouplingIndependent), 1)
	pf := b.Prefetch(1000)
	pf.Next()
	pf.Stop()
	for range pf.out { // closed once the producer has returned
	}
}

// The stream of a seed is pinned: these hashes of its first three batches (input rows
// and targets) were recorded with the libtorch trainer's own batcher before it moved
// here, and hold wherever package dataset's draws and the math package agree (amd64
// and js/wasm).
func TestStreamPinned(t *testing.T) {
	for _, tc := range []struct {
		data Data
		want string
	}{
		{moons(256, weights.CouplingIndependent), "60f54d94d28dbe661bc946717b147a3c8eb194e725302d2d524e375c2352e589"},
		{Data{Dataset: "8gaussians", Path: sampler.PathSpec{Name: sampler.PathVP}, Coupling: weights.CouplingOT, OTGroup: 50, Batch: 128,
			Time: sampler.TimeEmbedding{Kind: sampler.TimeFourier, Freqs: 2}}, "eb1211f9bad00b95c2971e79ac62af751804d346866fd404db15587e164eca88"},
		{Data{Dataset: "checkerboard", Path: sampler.PathSpec{Name: sampler.PathVE}, Coupling: weights.CouplingIndependent, Batch: 64}, "94e77a1ab06919385b48fe29b7fe36d8c0369e265af3ab1e69b2fce13cc7e479"},
	} {
		b, err := NewStream(tc.data, 7)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		x, u := make([]float32, tc.data.Batch*tc.data.InputDim()), make([]float32, tc.data.Batch*tc.data.Dim())
		for k := 0; k < 3; k++ {
			if err := b.Next(x, u); err != nil {
				t.Fatal(err)
			}
			binary.Write(h, binary.LittleEndian, x)
			binary.Write(h, binary.LittleEndian, u)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != tc.want {
			t.Errorf("%+v: stream hash %s, pinned %s", tc.data, got, tc.want)
		}
	}
}

func TestDataErrors(t *testing.T) {
	good := moons(8, weights.CouplingOT)
	for _, tc := range []struct {
		edit func(*Data)
		want string
	}{
		{func(d *Data) { d.Dataset = "spiral" }, "unknown dataset"},
		{func(d *Data) { d.Batch = 0 }, "batch"},
		{func(d *Data) { d.Coupling = "sinkhorn" }, "unknown coupling"},
		{func(d *Data) { d.OTGroup = 0 }, "OT group"},
		{func(d *Data) { d.Path.Name = "cosine" }, "cosine"},
		{func(d *Data) { d.Time = sampler.TimeEmbedding{Kind: "fourier"} }, "time embedding"},
		{func(d *Data) { d.Time = sampler.TimeEmbedding{Kind: "sinusoid"} }, "time embedding"},
	} {
		d := good
		tc.edit(&d)
		if _, err := NewStream(d, 1); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one naming %q", d, err, tc.want)
		}
	}
	if _, err := NewStream(good, 1); err != nil {
		t.Fatal(err)
	}
	// Independent pairing ignores the OT group.
	ind := good
	ind.Coupling, ind.OTGroup = weights.CouplingIndependent, 0
	if _, err := NewStream(ind, 1); err != nil {
		t.Fatal(err)
	}
}

// Own data: every drawn x1 is one of the given rows, draws cover the rows about
// uniformly, the OT pairing re-orders them like a named dataset's, and rows that do
// not divide are refused.
func TestOwnPoints(t *testing.T) {
	const rows, dim = 5, 3
	pts := make([]float32, rows*dim)
	for i := range pts {
		pts[i] = float32(i)
	}
	for _, coupling := range []string{weights.CouplingIndependent, weights.CouplingOT} {
		d := Data{Dataset: "own", Points: pts, PointsDim: dim, Path: sampler.PathSpec{Name: "ot"},
			Coupling: coupling, OTGroup: 16, Batch: 2000, Time: sampler.TimeEmbedding{Kind: "raw"}}
		if d.Dim() != dim || d.InputDim() != dim+1 {
			t.Fatalf("Dim %d, InputDim %d; want %d, %d", d.Dim(), d.InputDim(), dim, dim+1)
		}
		b, err := NewStream(d, 7)
		if err != nil {
			t.Fatal(err)
		}
		p, err := b.Draw()
		if err != nil {
			t.Fatal(err)
		}
		count := make([]int, rows)
		for i := 0; i < d.Batch; i++ {
			r := p.X1[i*dim : (i+1)*dim]
			j := int(r[0]) / dim
			if j < 0 || j >= rows || !slices.Equal(r, pts[j*dim:(j+1)*dim]) {
				t.Fatalf("%s: drawn row %v is not a data row", coupling, r)
			}
			count[j]++
		}
		for j, c := range count { // binomial(2000, 0.2): mean 400, sd 18
			if c < 300 || c > 500 {
				t.Errorf("%s: row %d drawn %d times of %d, want about %d", coupling, j, c, d.Batch, d.Batch/rows)
			}
		}
	}
	bad := Data{Dataset: "own", Points: pts[:7], PointsDim: dim, Coupling: weights.CouplingIndependent, Batch: 4}
	if _, err := NewStream(bad, 1); err == nil || !strings.Contains(err.Error(), "rows of 3") {
		t.Fatalf("7 values in rows of 3: err %v", err)
	}
}

// Successive draws of own data with OT pairing stay permutations, within each group,
// of the unpaired stream's rows: the two draw buffers never overlap pair's output.
func TestOwnPointsPairedDraws(t *testing.T) {
	const rows, dim = 50, 2
	rng := rand.New(rand.NewPCG(1, 1))
	pts := make([]float32, rows*dim)
	for i := range pts {
		pts[i] = float32(rng.NormFloat64())
	}
	d := Data{Dataset: "own", Points: pts, PointsDim: dim, Path: sampler.PathSpec{Name: "ot"},
		Coupling: weights.CouplingOT, OTGroup: 8, Batch: 32, Time: sampler.TimeEmbedding{Kind: "raw"}}
	raw := d
	raw.Coupling = weights.CouplingIndependent
	b, _ := NewStream(d, 9)
	br, _ := NewStream(raw, 9)
	for i := 0; i < 4; i++ {
		p, err := b.Draw()
		if err != nil {
			t.Fatal(err)
		}
		pr, _ := br.Draw()
		checkPermutation(t, slices.Clone(p.X1), slices.Clone(pr.X1), dim, 8, true)
	}
}
