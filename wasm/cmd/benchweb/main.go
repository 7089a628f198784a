//go:build !js

// Command benchweb is the browser benchmark of make bench (section e): in one page of one
// headless Chromium, the Go sampler spread over W Web Workers (www/worker.js with the
// SIMD build, worker-simd.wasm, and the scalar one, worker.wasm) against TF.js 4.22's
// wasm backend (SIMD, one thread: the page is not cross-origin isolated, so there is no
// SharedArrayBuffer) and its plain-JS cpu backend, on the same benchnet network as the
// other peers of make bench; and the explorer's figure: the batch (10,000 particles)
// through the shipped moons model, 20 midpoint steps, over 2 workers of the SIMD build.
//
// It assembles a folder from bench/web (the page), www/worker.*, worker-simd.wasm and
// wasm_exec.js, TF.js's browser bundles and .wasm files from bench/node_modules, and per
// hidden width H the benchnet model (h<H>.json, for TF.js), the same network as a model
// file (h<H>.safetensors, for the workers), the particles' fixed noise (noise.bin) and the
// first rows of the native Go sampler's solve from that noise (h<H>.final.bin, which the
// workers' result must match); for the explorer's figure, the model file
// (explorer.safetensors) and the first rows of the native explorer worker's solve
// (explorer.final.bin). It serves the folder on 127.0.0.1, opens bench/web/bench.html in
// headless Chromium and prints each result as one JSON line in benchnet.Result's shape
// (peers browser-tfjs-wasm, browser-tfjs-cpu, and browser-go-workers with kernel simd or
// asm, threads = W and boot_ms, the time from creating the workers to all of them having
// the model loaded; the explorer's figure is what explorer-sample20-midpoint, with its
// model's name), then a table with the ratios on stderr.
//
//	cd wasm && go run ./cmd/benchweb [-hidden 64,256] [-workers 1,2,4] [-scalar-workers 2] [-budget 1.5s]
//
// With -train it runs the training benchmark instead (train.go): the pure-Go trainer in
// a Web Worker against a TF.js wasm training loop, and the time to the W2 goals on moons.
//
//	cd wasm && go run ./cmd/benchweb -train [-train-steps 3000] [-train-lr 0.01]
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/flowmatch/flowmatch/bench/benchnet"
	"github.com/flowmatch/flowmatch/explorer"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/wasm/internal/headless"
	"github.com/flowmatch/flowmatch/weights"
)

// nativeRows is how many rows of the sample the page checks against the native sampler.
const nativeRows = 256

type config struct {
	root, www, tfjs, modelDir, chromium string
	hidden, workers, scalarWorkers      []int
	batch, steps, rounds, tfjsCPUMax    int
	explorerModel                       string // "": no explorer figure
	explorerWorkers                     int
	budget, timeout                     time.Duration
	table, quiet, keep                  bool
	out                                 io.Writer    // the JSON result lines (os.Stdout)
	train                               *trainConfig // -train: the training benchmark instead (train.go)
}

// usageError is a bad command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchweb:", err)
		os.Exit(2)
	}
	if cfg.train.on {
		if _, err := runTrain(cfg, cfg.train); err != nil {
			fmt.Fprintln(os.Stderr, "benchweb -train:", err)
			os.Exit(1)
		}
		return
	}
	if _, err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "benchweb:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("benchweb", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c := &config{out: os.Stdout}
	fs.StringVar(&c.root, "root", "", "the repository root (default: found from the working directory upwards)")
	fs.StringVar(&c.www, "www", "", "folder with worker.js, worker.wasm and wasm_exec.js (default <root>/www; make www builds them)")
	fs.StringVar(&c.tfjs, "tfjs", "", "folder with TF.js's packages (default <root>/bench/node_modules/@tensorflow; make bench-node-deps)")
	fs.StringVar(&c.modelDir, "model-dir", "", "folder with the benchnet models h<H>.json (default: draw them as benchall does)")
	fs.StringVar(&c.chromium, "chromium", "", "the browser (default: chromium, chromium-browser or google-chrome on PATH)")
	hidden := fs.String("hidden", "64,256", "hidden widths (3 hidden layers each)")
	workers := fs.String("workers", "1,2,4", "Web Worker counts to time with the SIMD build (worker-simd.wasm)")
	scalar := fs.String("scalar-workers", "2", "Web Worker counts to time with the scalar build (worker.wasm); empty: none")
	fs.StringVar(&c.explorerModel, "explorer-model", filepath.Join("weights", "moons-ot.safetensors"),
		"the explorer figure's model file, relative to -root unless absolute (empty: no explorer figure)")
	fs.IntVar(&c.explorerWorkers, "explorer-workers", 2, "Web Workers of the explorer figure")
	fs.IntVar(&c.batch, "batch", 10000, "particles")
	fs.IntVar(&c.steps, "steps", 20, "midpoint steps of the end-to-end solve")
	fs.IntVar(&c.rounds, "rounds", 1, "rounds over every measurement (each keeps its best)")
	fs.IntVar(&c.tfjsCPUMax, "tfjs-cpu-max", 64, "time TF.js's plain-JS backend up to this width (0: never; it takes seconds a pass at 256)")
	fs.DurationVar(&c.budget, "budget", 1500*time.Millisecond, "timed repetitions per measurement, after the warmup")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Minute, "give up after this long")
	fs.BoolVar(&c.table, "table", true, "print a table of the results and ratios on stderr at the end")
	fs.BoolVar(&c.quiet, "q", false, "no progress lines on stderr")
	fs.BoolVar(&c.keep, "keep", false, "keep the served folder and say where it is")
	c.train = trainFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stderr)
			fmt.Fprintln(os.Stderr, "usage: benchweb [flags]  (prints one JSON line per result; see the package comment)")
			fs.PrintDefaults()
			os.Exit(0)
		}
		return nil, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, usageError{fmt.Sprintf("unexpected argument %q (flags only)", fs.Arg(0))}
	}
	var err error
	if c.hidden, err = ints("hidden", *hidden, 1, 4096); err != nil {
		return nil, err
	}
	if c.workers, err = ints("workers", *workers, 1, 64); err != nil {
		return nil, err
	}
	c.scalarWorkers = []int{} // none: an empty list for the page, not null
	if strings.TrimSpace(*scalar) != "" {
		if c.scalarWorkers, err = ints("scalar-workers", *scalar, 1, 64); err != nil {
			return nil, err
		}
	}
	switch {
	case c.batch < 1 || c.batch > 10_000_000:
		return nil, usageError{fmt.Sprintf("bad -batch %d: want 1 … 10000000", c.batch)}
	case c.steps < 1 || c.steps > 10000:
		return nil, usageError{fmt.Sprintf("bad -steps %d: want 1 … 10000", c.steps)}
	case c.rounds < 1:
		return nil, usageError{fmt.Sprintf("bad -rounds %d: want at least 1", c.rounds)}
	case c.tfjsCPUMax < 0:
		return nil, usageError{fmt.Sprintf("bad -tfjs-cpu-max %d: want 0 (never) or a width", c.tfjsCPUMax)}
	case c.budget < 0:
		return nil, usageError{fmt.Sprintf("bad -budget %v: want 0 or more", c.budget)}
	case c.timeout <= 0:
		return nil, usageError{fmt.Sprintf("bad -timeout %v: want more than 0", c.timeout)}
	case c.explorerWorkers < 1 || c.explorerWorkers > 64:
		return nil, usageError{fmt.Sprintf("bad -explorer-workers %d: want 1 … 64", c.explorerWorkers)}
	}
	return c, nil
}

// ints parses a comma-separated list of distinct integers in [lo, hi].
func ints(name, s string, lo, hi int) ([]int, error) {
	var out []int
	seen := map[int]bool{}
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < lo || v > hi || seen[v] {
			return nil, usageError{fmt.Sprintf("bad -%s %q: want distinct integers %d … %d, comma-separated", name, s, lo, hi)}
		}
		seen[v] = true
		out = append(out, v)
	}
	return out, nil
}

// findRoot walks up from the working directory to the folder holding bench/web/bench.html.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "bench", "web", "bench.html")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no bench/web/bench.html in %s or above it: run in the repository or set -root", dir)
		}
	}
}

func findChromium(path string) (string, error) {
	if path != "" {
		p, err := exec.LookPath(path)
		if err != nil {
			return "", fmt.Errorf("-chromium %s: %v", path, err)
		}
		return p, nil
	}
	if p := headless.Find(); p != "" {
		return p, nil
	}
	return "", errors.New("no chromium on PATH (apt-get install chromium, or -chromium PATH)")
}

func copyFile(dst, src string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

// assemble fills dir with the page, the workers, TF.js and the models; it says what the
// explorer figure's model is (nil: no figure).
func assemble(c *config, dir string) (*explorerInfo, error) {
	type pair struct{ dst, src string }
	var files []pair
	for _, f := range []string{"bench.html", "bench.js"} {
		files = append(files, pair{f, filepath.Join(c.root, "bench", "web", f)})
	}
	for _, f := range []string{"worker.js", "worker.wasm", "worker-simd.wasm", "wasm_exec.js"} {
		files = append(files, pair{f, filepath.Join(c.www, f)})
	}
	for _, f := range []string{"tfjs-core/dist/tf-core.min.js", "tfjs-backend-cpu/dist/tf-backend-cpu.min.js",
		"tfjs-backend-wasm/dist/tf-backend-wasm.min.js", "tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm",
		"tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm"} {
		files = append(files, pair{filepath.Join("tfjs", filepath.Base(f)), filepath.Join(c.tfjs, filepath.FromSlash(f))})
	}
	if err := os.MkdirAll(filepath.Join(dir, "tfjs"), 0o755); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "models"), 0o755); err != nil {
		return nil, err
	}
	for _, f := range files {
		if _, err := os.Stat(f.src); err != nil {
			switch filepath.Dir(f.dst) {
			case ".":
				if strings.HasPrefix(f.dst, "worker") || f.dst == "wasm_exec.js" {
					return nil, fmt.Errorf("%s is missing: build the worker first (make www): %v", f.src, err)
				}
			case "tfjs":
				return nil, fmt.Errorf("%s is missing: install TF.js first (make bench-node-deps): %v", f.src, err)
			}
			return nil, err
		}
		if err := copyFile(filepath.Join(dir, f.dst), f.src); err != nil {
			return nil, err
		}
	}

	// The particles' noise, as benchgo draws it.
	const dim = 2
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]float32, c.batch*dim)
	for i := range noise {
		noise[i] = float32(rng.NormFloat64())
	}
	if err := os.WriteFile(filepath.Join(dir, "models", "noise.bin"), f32bytes(noise), 0o644); err != nil {
		return nil, err
	}
	for _, h := range c.hidden {
		if err := assembleNet(c, dir, h, noise, dim); err != nil {
			return nil, err
		}
	}
	return assembleExplorer(c, dir, noise, dim)
}

// assembleNet puts benchnet's network of width h in dir/models: h<H>.json for TF.js,
// h<H>.safetensors for the workers, and h<H>.final.bin, the first rows of the native
// sampler's solve of noise.
func assembleNet(c *config, dir string, h int, noise []float32, dim int) error {
	var m *benchnet.Model
	name := fmt.Sprintf("h%d", h)
	if c.modelDir != "" {
		var err error
		if m, err = benchnet.Load(filepath.Join(c.modelDir, name+".json")); err != nil {
			return err
		}
		if m.Dim != dim || len(m.Hidden) < 1 || m.Hidden[0] != h {
			return fmt.Errorf("%s: dim %d, hidden %v: want dim %d, width %d", filepath.Join(c.modelDir, name+".json"), m.Dim, m.Hidden, dim, h)
		}
	} else {
		m = benchnet.New(dim, []int{h, h, h}, 1000, uint64(h)) // as benchall draws it
	}
	if err := m.Save(filepath.Join(dir, "models", name+".json")); err != nil {
		return err
	}
	f, err := m.WeightsFile()
	if err != nil {
		return err
	}
	if err := weights.WriteFile(filepath.Join(dir, "models", name+".safetensors"), f, weights.F32); err != nil {
		return err
	}
	// The first rows of the solve, by the native sampler from the same file.
	mlp, _, err := f.Model()
	if err != nil {
		return err
	}
	got := make([]float32, len(m.CheckX))
	mlp.Velocity(got, m.CheckX, m.CheckT)
	if _, err := m.Check(got); err != nil {
		return fmt.Errorf("%s: the model file does not reproduce the network: %v", name, err)
	}
	rows := min(nativeRows, c.batch)
	x := append([]float32(nil), noise[:rows*dim]...)
	if _, err := sampler.Solve(mlp, x, sampler.Options{Method: sampler.Midpoint, Steps: c.steps, T0: 0, T1: 1}); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "models", name+".final.bin"), f32bytes(x), 0o644); err != nil {
		return err
	}
	return nil
}

// explorerInfo is what the page is told about the explorer figure's model.
type explorerInfo struct {
	Name    string `json:"name"`
	Dim     int    `json:"dim"`
	Hidden  []int  `json:"hidden"`
	MACs    int    `json:"macs"` // multiply-adds of one network evaluation
	Workers int    `json:"workers"`
}

// assembleExplorer puts the explorer figure's model in dir/models, with the first rows of
// the native explorer worker's solve of noise from t = 0 to 1 (in data space, as the page's
// workers integrate). It returns nil when there is no figure to time.
func assembleExplorer(c *config, dir string, noise []float32, dim int) (*explorerInfo, error) {
	if c.explorerModel == "" {
		return nil, nil
	}
	path := c.explorerModel
	if !filepath.IsAbs(path) {
		path = filepath.Join(c.root, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("the explorer figure's model: %v (-explorer-model \"\" skips the figure)", err)
	}
	f, err := weights.DecodeBytes(b)
	if err != nil {
		return nil, fmt.Errorf("the explorer figure's model: %v", err)
	}
	spec := f.Meta.Model
	if f.Meta.Arch != weights.ArchMLP || spec.Dim != dim || len(spec.Hidden) == 0 {
		return nil, fmt.Errorf("%s: a %s network of dimension %d: the explorer figure wants a %d-dimensional MLP", path, f.Meta.Arch, spec.Dim, dim)
	}
	info := &explorerInfo{Name: strings.TrimSuffix(filepath.Base(path), ".safetensors"), Dim: dim, Hidden: spec.Hidden, Workers: c.explorerWorkers}
	for _, t := range f.Tensors {
		if len(t.Shape) == 2 {
			info.MACs += t.Shape[0] * t.Shape[1]
		}
	}
	rows := min(nativeRows, c.batch)
	x, err := explorerSolve(b, noise[:rows*dim], c.steps)
	if err != nil {
		return nil, fmt.Errorf("%s: the native explorer worker: %v", path, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "models", "explorer.safetensors"), b, 0o644); err != nil {
		return nil, err
	}
	return info, os.WriteFile(filepath.Join(dir, "models", "explorer.final.bin"), f32bytes(x), 0o644)
}

// explorerSolve integrates x0 through the model file by the explorer's own worker
// (explorer.Worker, what wasm/worker runs in the page's Web Workers), natively: steps
// midpoint steps from t = 0 to 1.
func explorerSolve(file []byte, x0 []float32, steps int) ([]float32, error) {
	w := explorer.NewWorker()
	if err := w.AddModel("explorer", file); err != nil {
		return nil, err
	}
	tr := &oneJob{job: explorer.Job{ID: 1, Model: "explorer", Method: "midpoint", Steps: steps, T0: 0, T1: 1, X0: x0}}
	w.Serve(tr)
	return tr.out, tr.err
}

// oneJob is an explorer.Transport that hands a worker one job and keeps its last step.
type oneJob struct {
	job        explorer.Job
	sent, done bool
	out        []float32
	err        error
}

func (o *oneJob) Receive(bool) explorer.Message {
	switch {
	case !o.sent:
		o.sent = true
		return explorer.Message{Type: explorer.JobMessage, Job: o.job}
	case o.done:
		return explorer.Message{Type: explorer.StopMessage}
	}
	return explorer.Message{Type: explorer.NoMessage}
}

func (o *oneJob) Send(r explorer.Result) {
	switch {
	case r.Err != nil:
		o.err, o.done = r.Err, true
	case r.Step == o.job.Steps:
		o.out, o.done = append([]float32(nil), r.X...), true
	}
}

func (o *oneJob) ModelAdded(string, error) {}

func f32bytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// result is one line of the page's results: benchnet.Result's fields and boot_ms.
type result struct {
	benchnet.Result
	BootMs float64 `json:"boot_ms,omitempty"`
	Model  string  `json:"model,omitempty"` // the explorer figure's model
}

type pageState struct {
	State   string            `json:"state"`
	Error   string            `json:"error"`
	Log     []string          `json:"log"`
	Results []json.RawMessage `json:"results"`
	Info    map[string]any    `json:"info"`
}

// run runs the benchmark and returns its results, each also printed to c.out as it comes.
func run(c *config) ([]result, error) {
	if err := c.locate(); err != nil {
		return nil, err
	}
	exe, err := findChromium(c.chromium)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "flowmatch-benchweb")
	if err != nil {
		return nil, err
	}
	if c.keep {
		defer fmt.Fprintln(os.Stderr, "benchweb: the served folder is", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	ex, err := assemble(c, dir)
	if err != nil {
		return nil, err
	}

	pg, err := openPage(c, exe, dir, "bench.html")
	if err != nil {
		return nil, err
	}
	defer pg.close()
	c.progress("%s, %d CPUs, load average %s; serving %s", pg.version, runtime.NumCPU(), benchnet.LoadAvg(), pg.url)
	if err := waitIdle(pg, "bench"); err != nil {
		return nil, err
	}
	pcfg, _ := json.Marshal(map[string]any{
		"hidden": c.hidden, "workers": c.workers, "scalarWorkers": c.scalarWorkers, "explorer": ex,
		"batch": c.batch, "steps": c.steps,
		"budgetMs": c.budget.Milliseconds(), "rounds": c.rounds, "tfjsCpuMaxHidden": c.tfjsCPUMax,
		"tol": benchnet.Tolerance, "opTimeoutMs": c.timeout.Milliseconds(),
	})
	if _, err := chromedp.Run(pg.ctx, chromedp.Evaluate[bool](`window.bench.start(`+string(pcfg)+`)`)); err != nil {
		return nil, fmt.Errorf("starting the benchmark: %v%s", err, consoleTail(pg.cons))
	}
	results, info, err := collect(c, pg)
	if err != nil {
		return nil, err
	}
	if c.table {
		fmt.Fprint(os.Stderr, table(c, results, pg.version, info))
	}
	return results, nil
}

// locate fills in the folders a command line left empty: the repository root (found
// from the working directory), its www/ and the TF.js packages under bench/.
func (c *config) locate() error {
	if c.root == "" {
		root, err := findRoot()
		if err != nil {
			return err
		}
		c.root = root
	}
	c.root, _ = filepath.Abs(c.root)
	if c.www == "" {
		c.www = filepath.Join(c.root, "www")
	}
	if c.tfjs == "" {
		c.tfjs = filepath.Join(c.root, "bench", "node_modules", "@tensorflow")
	}
	return nil
}

// progress logs a line to stderr unless -quiet.
func (c *config) progress(format string, a ...any) {
	if !c.quiet {
		fmt.Fprintf(os.Stderr, "benchweb: "+format+"\n", a...)
	}
}

// waitIdle waits for the page's scripts to load and its benchmark object, the global
// obj (bench, trainBench), to be idle.
func waitIdle(pg *chromePage, obj string) error {
	expr := strings.ReplaceAll(`document.readyState === 'complete' && window.OBJ ? window.OBJ.state + '|' + (window.OBJ.error || '') : 'loading|'`, "OBJ", obj)
	for {
		s, err := chromedp.Run(pg.ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			return fmt.Errorf("the page: %v%s", err, consoleTail(pg.cons))
		}
		state, msg, _ := strings.Cut(s, "|")
		if state == "error" {
			return fmt.Errorf("the page: %s%s", msg, consoleTail(pg.cons))
		}
		if state == "idle" {
			return nil
		}
		if err := sleep(pg.ctx, 100*time.Millisecond); err != nil {
			return fmt.Errorf("the page did not load: %v%s", err, consoleTail(pg.cons))
		}
	}
}

// collect polls the running benchmark until it is done, relaying its log lines to
// stderr and writing each result to c.out as a JSON line as it arrives; it returns the
// results and the page's info about the run (versions, backends).
func collect(c *config, pg *chromePage) ([]result, map[string]any, error) {
	var results []result
	nlog, nres := 0, 0
	var info map[string]any
	for {
		expr := fmt.Sprintf(`({state: bench.state, error: bench.error || '', log: bench.log.slice(%d), results: bench.results.slice(%d), info: bench.info})`, nlog, nres)
		st, err := chromedp.Run(pg.ctx, chromedp.Evaluate[pageState](expr))
		if err != nil {
			return nil, nil, fmt.Errorf("polling the page: %v%s", err, consoleTail(pg.cons))
		}
		for _, l := range st.Log {
			c.progress("%s", l)
		}
		nlog += len(st.Log)
		for _, raw := range st.Results {
			var r result
			if err := json.Unmarshal(raw, &r); err != nil {
				return nil, nil, fmt.Errorf("a result is not JSON: %v", err)
			}
			var line bytes.Buffer
			json.Compact(&line, raw)
			fmt.Fprintln(c.out, line.String())
			results = append(results, r)
		}
		nres += len(st.Results)
		info = st.Info
		if st.State == "error" {
			return nil, nil, fmt.Errorf("%s%s", st.Error, consoleTail(pg.cons))
		}
		if st.State == "done" {
			return results, info, nil
		}
		if err := sleep(pg.ctx, 250*time.Millisecond); err != nil {
			return nil, nil, fmt.Errorf("the benchmark did not finish within -timeout %v%s", c.timeout, consoleTail(pg.cons))
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// consoleTail is the page's last console errors, for error messages.
func consoleTail(c *headless.Console) string {
	errs := c.Errors()
	if len(errs) == 0 {
		return ""
	}
	return " (console: " + strings.Join(errs, " / ") + ")"
}

// chromeVersion turns the browser's product ("HeadlessChrome/156.0.8078.108") into
// "Chromium 156.0.8078.108".
func chromeVersion(product string) string {
	if _, v, ok := strings.Cut(product, "/"); ok {
		return "Chromium " + v
	}
	return "Chromium"
}

// table is the summary: the best of each measurement, and the Go workers' throughput
// over TF.js wasm's.
func table(c *config, rs []result, browser string, info map[string]any) string {
	best := map[string]result{}
	var keys []string
	for _, r := range rs {
		k := fmt.Sprintf("%s|%s|%s|%d|%d", r.Peer, r.Kernel, r.What, r.Hidden, r.Threads)
		old, ok := best[k]
		if !ok {
			keys = append(keys, k)
			best[k] = r
			continue
		}
		if r.BestMs < old.BestMs {
			old.Result = r.Result
		}
		if r.BootMs > 0 && r.BootMs < old.BootMs {
			old.BootMs = r.BootMs
		}
		best[k] = old
	}
	sort.SliceStable(keys, func(i, j int) bool { return best[keys[i]].Hidden < best[keys[j]].Hidden })
	var w strings.Builder
	fmt.Fprintf(&w, "\nIn the browser (%s, headless, one page): %d particles; Go: %d-step midpoint over W Web Workers\n", browser, c.batch, c.steps)
	fmt.Fprintf(&w, "(%d network evaluations per particle); TF.js: one forward pass. %d CPUs, load average %s.\n", 2*c.steps, runtime.NumCPU(), benchnet.LoadAvg())
	if tw, ok := info["tfjsWasm"].(map[string]any); ok {
		fmt.Fprintf(&w, "TF.js wasm: SIMD %v, %v thread(s); cross-origin isolated %v.\n", tw["simd"], tw["threads"], info["crossOriginIsolated"])
	}
	fmt.Fprintf(&w, "\n| peer | kernel | H | threads | best ms | mean ms | particle evals/s | boot ms | ÷ TF.js wasm |\n|---|---|---|---|---|---|---|---|---|\n")
	tfjs := map[int]result{}
	for _, k := range keys {
		if r := best[k]; r.Peer == "browser-tfjs-wasm" {
			tfjs[r.Hidden] = r
		}
	}
	var explorerRows []result
	for _, k := range keys {
		r := best[k]
		if strings.HasPrefix(r.What, "explorer-") {
			explorerRows = append(explorerRows, r)
			continue
		}
		ratio := ""
		if t, ok := tfjs[r.Hidden]; ok && t.EvalsPerS > 0 {
			ratio = fmt.Sprintf("%.2f×", r.EvalsPerS/t.EvalsPerS)
		}
		boot := ""
		if r.BootMs > 0 {
			boot = fmt.Sprintf("%.0f", r.BootMs)
		}
		fmt.Fprintf(&w, "| %s | %s | %d | %d | %.1f | %.1f | %s | %s | %s |\n", r.Peer, r.Kernel, r.Hidden, r.Threads, r.BestMs, r.MeanMs, benchnet.Human(r.EvalsPerS), boot, ratio)
	}
	for _, r := range explorerRows {
		fmt.Fprintf(&w, "\nThe explorer: %d particles of %s (H=%d) through %d midpoint steps reach t = 1 over %d Web Workers\n", r.Batch, r.Model, r.Hidden, c.steps, r.Threads)
		fmt.Fprintf(&w, "(%s build) in %.2f s at best, %.2f s on average over %d solves (goal: ≤ 2 s); boot %.0f ms.\n", r.Kernel, r.BestMs/1000, r.MeanMs/1000, r.Reps, r.BootMs)
	}
	return w.String()
}

// chromePage is a headless Chromium showing a page of a folder served on a local port.
type chromePage struct {
	ctx     context.Context // the browser's, within the run's timeout
	cons    *headless.Console
	url     string
	version string // "Chromium 156.0.…"
	close   func() // closes the browser, removes its profile and stops the server
}

// openPage serves dir on a local port and opens its page in a headless Chromium (exe)
// with a fresh profile, all within c.timeout.
func openPage(c *config, exe, dir, page string) (*chromePage, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir))}
	go srv.Serve(ln)
	p := &chromePage{url: "http://" + ln.Addr().String() + "/" + page}
	closers := []func(){func() { srv.Close() }}
	p.close = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	ctx, cancelT := context.WithTimeout(context.Background(), c.timeout)
	closers = append(closers, cancelT)
	profile, err := os.MkdirTemp("", "flowmatch-benchweb-profile")
	if err != nil {
		p.close()
		return nil, err
	}
	closers = append(closers, func() { os.RemoveAll(profile) })
	bctx, cancelB, err := headless.Start(ctx, exe, profile)
	if err != nil {
		p.close()
		return nil, err
	}
	closers = append(closers, cancelB)
	p.ctx, p.cons = bctx, headless.Watch(bctx, 5)
	if err := chromedp.Do(bctx, chromedp.Navigate(p.url)); err != nil {
		p.close()
		return nil, fmt.Errorf("opening %s: %v", p.url, err)
	}
	p.version = "Chromium"
	if v, err := chromedp.CallBrowser(bctx, browser.GetVersion, cdp.Empty{}); err == nil {
		p.version = chromeVersion(v.Product)
	}
	return p, nil
}
