// Package benchnet is the network every peer of `make bench` runs: an MLP velocity field
// (x, t) → v with raw time input (Linear(d+1, H) → [SiLU → Linear(H, H)]·(L−1) → SiLU →
// Linear(H, d)), its parameters in a JSON file that the Go, libtorch and TF.js programs
// all read, and a float64 reference that each of them must match on a check batch
// before it is timed.
package benchnet

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"time"
)

// Model is the file every peer reads. Weights are in PyTorch's layout, [out][in]
// row-major; CheckX holds CheckN points (n×Dim) evaluated at time CheckT, and CheckWant
// the float64 reference outputs for them.
type Model struct {
	Dim       int         `json:"dim"`
	Hidden    []int       `json:"hidden"`
	Weights   [][]float32 `json:"weights"`
	Biases    [][]float32 `json:"biases"`
	CheckT    float64     `json:"check_t"`
	CheckX    []float32   `json:"check_x"`
	CheckWant []float64   `json:"check_want"`
}

// Tolerance is how far a peer's float32 output may be from the float64 reference:
// |got − want| ≤ Tolerance·(1 + |want|).
const Tolerance = 1e-4

// New draws a network with PyTorch's default initialisation (uniform ±1/√fan_in) from a
// fixed seed, and a check batch of n points from N(0, 2²).
func New(dim int, hidden []int, n int, seed uint64) *Model {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	m := &Model{Dim: dim, Hidden: append([]int(nil), hidden...), CheckT: 0.37}
	for _, sh := range m.Shapes() {
		bound := 1 / math.Sqrt(float64(sh[1]))
		w, b := make([]float32, sh[0]*sh[1]), make([]float32, sh[0])
		for i := range w {
			w[i] = float32((2*rng.Float64() - 1) * bound)
		}
		for i := range b {
			b[i] = float32((2*rng.Float64() - 1) * bound)
		}
		m.Weights, m.Biases = append(m.Weights, w), append(m.Biases, b)
	}
	m.CheckX = make([]float32, n*dim)
	for i := range m.CheckX {
		m.CheckX[i] = float32(2 * rng.NormFloat64())
	}
	m.CheckWant = make([]float64, n*dim)
	for i := 0; i < n; i++ {
		copy(m.CheckWant[i*dim:], m.Reference(m.CheckX[i*dim:(i+1)*dim], m.CheckT))
	}
	return m
}

// Shapes returns each layer's {out, in}.
func (m *Model) Shapes() [][2]int {
	widths := append(append([]int{m.Dim + 1}, m.Hidden...), m.Dim)
	s := make([][2]int, len(widths)-1)
	for i := range s {
		s[i] = [2]int{widths[i+1], widths[i]}
	}
	return s
}

// MACs is the number of multiply-adds of one evaluation (weights only, as TF.js's
// script counts them); GFLOP/s figures are 2·MACs per evaluation.
func (m *Model) MACs() int {
	n := 0
	for _, sh := range m.Shapes() {
		n += sh[0] * sh[1]
	}
	return n
}

// Reference evaluates the network at one point in float64.
func (m *Model) Reference(x []float32, t float64) []float64 {
	h := make([]float64, 0, m.Dim+1)
	for _, v := range x {
		h = append(h, float64(v))
	}
	h = append(h, t)
	shapes := m.Shapes()
	for l, sh := range shapes {
		out := make([]float64, sh[0])
		for o := range out {
			z := float64(m.Biases[l][o])
			for i := 0; i < sh[1]; i++ {
				z += float64(m.Weights[l][o*sh[1]+i]) * h[i]
			}
			if l < len(shapes)-1 {
				z = z / (1 + math.Exp(-z))
			}
			out[o] = z
		}
		h = out
	}
	return h
}

// Check compares a peer's outputs for CheckX with the reference and returns the largest
// error in units of the tolerance scale, max |got − want|/(1 + |want|), and an error
// when it exceeds Tolerance.
func (m *Model) Check(got []float32) (float64, error) {
	if len(got) != len(m.CheckWant) {
		return 0, fmt.Errorf("check: %d outputs, want %d", len(got), len(m.CheckWant))
	}
	worst := 0.0
	for i, w := range m.CheckWant {
		e := math.Abs(float64(got[i])-w) / (1 + math.Abs(w))
		if !(e <= Tolerance) {
			return e, fmt.Errorf("check: output %d is %v, reference %v (error %.3g > %g)", i, got[i], w, e, Tolerance)
		}
		worst = max(worst, e)
	}
	return worst, nil
}

// Load reads a model file.
func Load(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := new(Model)
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if m.Dim < 1 || len(m.Hidden) < 1 || len(m.Weights) != len(m.Hidden)+1 || len(m.Biases) != len(m.Weights) {
		return nil, fmt.Errorf("%s: not a benchnet model", path)
	}
	for l, sh := range m.Shapes() {
		if len(m.Weights[l]) != sh[0]*sh[1] || len(m.Biases[l]) != sh[0] {
			return nil, fmt.Errorf("%s: layer %d has the wrong size", path, l)
		}
	}
	return m, nil
}

// Save writes a model file.
func (m *Model) Save(path string) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// Result is one timing, printed by every peer as one JSON line.
type Result struct {
	Peer      string  `json:"peer"`             // go-native, go-wasm, libtorch, tfjs-wasm, tfjs-cpu, ...
	Kernel    string  `json:"kernel,omitempty"` // which Go kernel ran
	What      string  `json:"what"`             // "forward" or "sample20-midpoint"
	Hidden    int     `json:"hidden"`
	Threads   int     `json:"threads"`
	Batch     int     `json:"batch"`
	Reps      int     `json:"reps"`
	BestMs    float64 `json:"best_ms"` // fastest repetition, wall time
	MeanMs    float64 `json:"mean_ms"`
	BestCPUMs float64 `json:"best_cpu_ms,omitempty"` // fastest repetition, process CPU time
	EvalsPerS float64 `json:"evals_per_s,omitempty"` // particle evaluations per second, at BestMs
	GFLOPs    float64 `json:"gflops,omitempty"`
	MaxErr    float64 `json:"max_err"` // of the check, in units of (1 + |want|)
}

// Timer times repetitions of a benchmark in wall and process CPU time.
type Timer struct {
	Reps          int
	Best, BestCPU time.Duration
	total         time.Duration
	wall0         time.Time
	cpu0          time.Duration
}

// Start starts a repetition.
func (t *Timer) Start() { t.wall0, t.cpu0 = time.Now(), CPUTime() }

// Stop ends a repetition.
func (t *Timer) Stop() {
	d, c := time.Since(t.wall0), CPUTime()-t.cpu0
	if t.Reps == 0 || d < t.Best {
		t.Best = d
	}
	if t.Reps == 0 || c < t.BestCPU {
		t.BestCPU = c
	}
	t.total += d
	t.Reps++
}

// Run times f: warmup untimed calls, then at least minReps timed ones and until budget
// is spent.
func (t *Timer) Run(f func(), warmup, minReps int, budget time.Duration) {
	for i := 0; i < warmup; i++ {
		f()
	}
	for t.Reps < minReps || t.total < budget {
		t.Start()
		f()
		t.Stop()
	}
}

// Fill sets r's timing fields.
func (t *Timer) Fill(r *Result) {
	ms := func(d time.Duration) float64 { return math.Round(float64(d.Microseconds())) / 1000 }
	r.Reps, r.BestMs, r.BestCPUMs = t.Reps, ms(t.Best), ms(t.BestCPU)
	if t.Reps > 0 {
		r.MeanMs = ms(t.total / time.Duration(t.Reps))
	}
}

// Human formats a rate as people read it: 3.47 M, 661.7 k, 950.
func Human(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2f M", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1f k", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// LoadAvg is the machine's 1, 5 and 15 minute load averages, "unknown" where
// /proc/loadavg is not.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
