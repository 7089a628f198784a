package unet

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/sampler"
)

func small() Config {
	return Config{Shape: []int{2, 8, 12}, Channels: 4, Mult: []int{1, 2, 3}, Blocks: 2, Groups: 2,
		TimeFeatures: 6, Emb: 10, Classes: 3}
}

func randn(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 2))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// maxRel is max |got − want| / (1 + max |want|).
func maxRel(got []float32, want []float64) float64 {
	var e, s float64
	for i, w := range want {
		e = max(e, math.Abs(float64(got[i])-w))
		s = max(s, math.Abs(w))
	}
	return e / (1 + s)
}

// TestForwardReference: the network against the float64 reference, for a small
// configuration that exercises every branch (two image channels, a non-square size,
// three levels with different multipliers, two blocks per level, GroupNorm of 2 groups,
// sk convolutions and identity skips) and for Default, at several times and labels
// including the null class. Tolerance: 1e-5 relative to the output's scale; float32
// accumulation over the ~20 layers gives under 1e-6.
func TestForwardReference(t *testing.T) {
	for _, c := range []Config{small(), Default()} {
		w := RandomTensors(c, 7)
		net, err := New(c, w)
		if err != nil {
			t.Fatal(err)
		}
		ref := refNet{c: c, w: w}
		n, d := 4, c.Dim()
		x := randn(n*d, 3)
		ts := []float64{0, 0.31, 0.77, 1}
		labels := []int{0, c.Classes - 1, c.Null(), 1}
		got := make([]float32, n*d)
		net.Forward(got, x, ts, labels)
		for b := range n {
			want := ref.forward(x[b*d:(b+1)*d], ts[b], labels[b])
			if e := maxRel(got[b*d:(b+1)*d], want); e > 1e-5 {
				t.Errorf("%s: sample %d (t %g, label %d): relative error %.3g, want ≤ 1e-5", c, b, ts[b], labels[b], e)
			}
		}
		// Passes from warm scratch, on 1 to 5 goroutines, give the same values.
		for _, workers := range []int{1, 3, 5, 2} {
			net.Workers = workers
			again := make([]float32, n*d)
			net.Forward(again, x, ts, labels)
			for i := range got {
				if got[i] != again[i] {
					t.Fatalf("%s: a pass on %d workers differs at %d", c, workers, i)
				}
			}
		}
	}
}

// TestGuidedOneBatch: the guided field equals (1+w)·v(x,t,c) − w·v(x,t,∅) formed in
// float32 from two separate calls, bit for bit, on 1, 2 and 3 workers: a sample's
// values do not depend on the batch it is in, and the two halves' shared start (the
// input convolution, the first block's n1 and c1, computed once) is the same
// computation.
func TestGuidedOneBatch(t *testing.T) {
	for _, c := range []Config{small(), Default()} {
		net, err := New(c, RandomTensors(c, 11))
		if err != nil {
			t.Fatal(err)
		}
		n, d := 5, c.Dim()
		x := randn(n*d, 5)
		tt := 0.4
		var _ sampler.Field = &Guided{}
		for _, w := range []float64{0, 1, 2.5} {
			for _, workers := range []int{1, 2, 3} {
				net.Workers = workers
				g := &Guided{Net: net, Labels: []int{0, 1, 2}, W: w}
				got := make([]float32, n*d)
				g.Velocity(got, x, tt)
				ts := []float64{tt, tt, tt, tt, tt}
				vc, vu := make([]float32, n*d), make([]float32, n*d)
				net.Forward(vc, x, ts, []int{0, 1, 2, 0, 1})
				net.Velocity(vu, x, tt)
				wf := float32(w)
				for i := range got {
					want := vc[i]
					if w != 0 {
						want = (1+wf)*vc[i] - wf*vu[i]
					}
					if got[i] != want {
						t.Fatalf("%s, w %g, %d workers: v[%d] = %g, want %g from two calls", c, w, workers, i, got[i], want)
					}
				}
			}
		}
	}
}

// TestNoAllocs: on one worker, a warm guided evaluation allocates nothing.
func TestNoAllocs(t *testing.T) {
	c := Default()
	net, err := New(c, RandomTensors(c, 1))
	if err != nil {
		t.Fatal(err)
	}
	net.Workers = 1
	g := &Guided{Net: net, Labels: []int{3, 7}, W: 1}
	x := randn(3*c.Dim(), 2)
	v := make([]float32, len(x))
	g.Velocity(v, x, 0.5)
	if a := testing.AllocsPerRun(3, func() { g.Velocity(v, x, 0.5) }); a != 0 {
		t.Errorf("a warm guided evaluation allocates %g times, want 0", a)
	}
}

// TestSolve: the solvers integrate the guided field (a smoke test of the Field
// contract: finite values, the right length).
func TestSolve(t *testing.T) {
	c := small()
	net, err := New(c, RandomTensors(c, 13))
	if err != nil {
		t.Fatal(err)
	}
	x := randn(3*c.Dim(), 9)
	v := make([]float32, len(x))
	(&Guided{Net: net, Labels: []int{1}, W: 1}).Velocity(v, x, 0.5)
	for i, e := range v {
		if math.IsNaN(float64(e)) || math.IsInf(float64(e), 0) {
			t.Fatalf("v[%d] = %g", i, e)
		}
	}
}

// TestBudget: MACs agrees with the multiply-adds the float64 reference performs (it
// counts each convolution and Linear layer as it runs), and the default network fits
// the budget: at most 60 M multiply-adds per forward pass, at most 3 MB as
// float16.
func TestBudget(t *testing.T) {
	for _, c := range []Config{small(), Default()} {
		var counted int64
		ref := refNet{c: c, w: RandomTensors(c, 1), macs: &counted}
		ref.forward(make([]float32, c.Dim()), 0.5, 0)
		if got := c.MACs(); got != counted {
			t.Errorf("%s: MACs %d, the reference performs %d", c, got, counted)
		}
	}
	c := Default()
	t.Logf("%s: %d multiply-adds per forward pass, %d parameters, %d bytes as float16", c, c.MACs(), c.Params(), c.Float16Bytes())
	if c.MACs() > 60e6 || c.Float16Bytes() > 3e6 {
		t.Errorf("%s: %d multiply-adds (limit 60 M), %d bytes as float16 (limit 3 MB)", c, c.MACs(), c.Float16Bytes())
	}
}

// TestValidate: every limit and consistency rule refuses, with a message naming it.
func TestValidate(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Shape = []int{28, 28} }, "shape"},
		{func(c *Config) { c.Shape = []int{1, 28, 1 << 20} }, "width 1048576"},
		{func(c *Config) { c.Shape = []int{0, 28, 28} }, "shape channels 0"},
		{func(c *Config) { c.Channels = 1 << 30 }, "channels"},
		{func(c *Config) { c.Mult = nil }, "levels 0"},
		{func(c *Config) { c.Mult = []int{1, 2, 2, 2, 2} }, "levels 5"},
		{func(c *Config) { c.Mult = []int{1, -2, 2} }, "mult[1] -2"},
		{func(c *Config) { c.Mult = []int{1, 2, 2, 2} }, "not divisible by 8"},
		{func(c *Config) { c.Blocks = 0 }, "blocks 0"},
		{func(c *Config) { c.Groups = 0 }, "groups 0"},
		{func(c *Config) { c.Groups = 3 }, "GroupNorm of 3 groups over 16 channels"},
		{func(c *Config) { c.TimeFeatures = 7 }, "even"},
		{func(c *Config) { c.Emb = 0 }, "emb 0"},
		{func(c *Config) { c.Classes = 1001 }, "classes 1001"},
		{func(c *Config) { c.Channels, c.Mult, c.Blocks, c.Shape = 256, []int{8, 8, 8}, 4, []int{4, 8, 8} }, "parameters"},
		{func(c *Config) { c.Channels, c.Mult, c.Blocks, c.Shape = 256, []int{1}, 4, []int{1, 256, 256} }, "multiply-adds per sample"},
	}
	for _, k := range cases {
		c := Default()
		k.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), k.want) {
			t.Errorf("%+v: error %v, want one saying %q", c, err, k.want)
		}
	}
	for _, l := range []int{-1, 11} {
		if err := Default().CheckLabel(l); err == nil || !strings.Contains(err.Error(), "want 0 to 9 (or 10, the null class") {
			t.Errorf("label %d: %v", l, err)
		}
	}
	for _, l := range []int{0, 9, 10} {
		if err := Default().CheckLabel(l); err != nil {
			t.Errorf("label %d: %v", l, err)
		}
	}
	w := RandomTensors(Default(), 1)
	delete(w, "mid.c1.bias")
	if _, err := New(Default(), w); err == nil || !strings.Contains(err.Error(), `"mid.c1.bias"`) {
		t.Errorf("missing tensor: %v", err)
	}
	w = RandomTensors(Default(), 1)
	w["up.0.0.sk.weight"] = w["up.0.0.sk.weight"][1:]
	if _, err := New(Default(), w); err == nil || !strings.Contains(err.Error(), "up.0.0.sk.weight") {
		t.Errorf("short tensor: %v", err)
	}
}
