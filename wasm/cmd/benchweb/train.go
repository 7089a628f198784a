//go:build !js

package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/flowmatch/flowmatch/bench/benchnet"
	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/explorer"
	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// The training benchmark (-train): bench/web/train.html in headless Chromium, the pure-Go
// trainer in a Web Worker of the SIMD build against a TF.js wasm-backend training loop of
// the same MLP, batch and optimiser on the same 2,000 moons points (bench/web/train.js
// says what each side does), and, from the Go worker's model files (one every half
// second of training), the seconds of training it takes to reach 1.3× (and 2×) the W2 of
// two i.i.d. samples of moons (2,000 points each; the model's sampled with 20 midpoint
// steps, as the explorer does).

// trainConfig is the training benchmark's part of the command line.
type trainConfig struct {
	on         bool
	steps      int // Go's training steps
	tfjsSteps  int // TF.js's timed steps
	batch      int
	hidden     string
	lr         float64
	points     int // moons points trained on
	sampleRows int // rows each snapshot is scored on
}

// trainFlags adds the training benchmark's flags to fs.
func trainFlags(fs *flag.FlagSet) *trainConfig {
	t := &trainConfig{}
	fs.BoolVar(&t.on, "train", false, "run the training benchmark (bench/web/train.html) instead of the sampler's")
	fs.IntVar(&t.steps, "train-steps", 6000, "-train: the Go worker's training steps (the e2e test's count)")
	fs.IntVar(&t.tfjsSteps, "train-tfjs-steps", 1000, "-train: TF.js's timed training steps")
	fs.IntVar(&t.batch, "train-batch", 256, "-train: points per step")
	fs.StringVar(&t.hidden, "train-hidden", "64,64,64", "-train: hidden widths")
	fs.Float64Var(&t.lr, "train-lr", 1e-2, "-train: peak learning rate (the explorer's Your data default)")
	fs.IntVar(&t.points, "train-points", 2000, "-train: moons points to train on")
	fs.IntVar(&t.sampleRows, "train-score-rows", 2000, "-train: rows each model file is scored on (W2 by exact assignment)")
	return t
}

// trainLine is one result line of the training benchmark.
type trainLine = benchnet.TrainResult

type trainSnapshot struct {
	Step    int     `json:"step"`
	Seconds float64 `json:"seconds"`
	Loss    float64 `json:"loss"`
	File    string  `json:"file"`
}

type trainPage struct {
	State     string            `json:"state"`
	Error     string            `json:"error"`
	Log       []string          `json:"log"`
	Results   []json.RawMessage `json:"results"`
	Snapshots []trainSnapshot   `json:"snapshots"`
	Info      map[string]any    `json:"info"`
}

// runTrain runs the training benchmark; c gives the folders, the browser and the timeout.
func runTrain(c *config, t *trainConfig) ([]trainLine, error) {
	var hidden []int
	for _, f := range strings.Split(t.hidden, ",") {
		h, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || h < 1 || h > 4096 {
			return nil, usageError{fmt.Sprintf("bad -train-hidden %q: want widths 1 … 4096, comma-separated", t.hidden)}
		}
		hidden = append(hidden, h)
	}
	if t.steps < 1 || t.tfjsSteps < 1 || t.batch < 1 || !(t.lr > 0) || t.points < 2 || t.sampleRows < 2 {
		return nil, usageError{"bad -train-* flag: steps, batch, points and rows must be positive, and the learning rate above 0"}
	}
	if err := c.locate(); err != nil {
		return nil, err
	}
	exe, err := findChromium(c.chromium)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "flowmatch-benchweb-train")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	moons, err := assembleTrain(c, dir, t.points)
	if err != nil {
		return nil, err
	}
	page, err := driveTrain(c, exe, dir, map[string]any{"steps": t.steps, "tfjsSteps": t.tfjsSteps, "batch": t.batch,
		"hidden": hidden, "lr": t.lr, "timeoutMs": c.timeout.Milliseconds()})
	if err != nil {
		return nil, err
	}
	var lines []trainLine
	for _, raw := range page.Results {
		var l trainLine
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, fmt.Errorf("a result is not JSON: %v", err)
		}
		lines = append(lines, l)
	}
	q, err := scoreSnapshots(page.Snapshots, moons, t.sampleRows)
	if err != nil {
		return nil, err
	}
	q.Hidden, q.Batch = hidden, t.batch
	lines = append(lines, q)
	for _, l := range lines {
		b, _ := json.Marshal(l)
		fmt.Fprintln(c.out, string(b))
	}
	if c.table {
		fmt.Fprint(os.Stderr, trainTable(lines, page.Info))
	}
	return lines, nil
}

// assembleTrain fills dir with the page, the SIMD worker, TF.js and the moons points
// (moons.json); it returns the points' dataset name for scoring.
func assembleTrain(c *config, dir string, n int) (string, error) {
	type pair struct{ dst, src string }
	files := []pair{{"train.html", filepath.Join(c.root, "bench", "web", "train.html")}, {"train.js", filepath.Join(c.root, "bench", "web", "train.js")}}
	for _, f := range []string{"worker.js", "worker-simd.wasm", "wasm_exec.js"} {
		files = append(files, pair{f, filepath.Join(c.www, f)})
	}
	for _, f := range []string{"tfjs-core/dist/tf-core.min.js", "tfjs-backend-cpu/dist/tf-backend-cpu.min.js",
		"tfjs-backend-wasm/dist/tf-backend-wasm.min.js", "tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm",
		"tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm"} {
		files = append(files, pair{filepath.Join("tfjs", filepath.Base(f)), filepath.Join(c.tfjs, filepath.FromSlash(f))})
	}
	if err := os.MkdirAll(filepath.Join(dir, "tfjs"), 0o755); err != nil {
		return "", err
	}
	for _, f := range files {
		if err := copyFile(filepath.Join(dir, f.dst), f.src); err != nil {
			if strings.HasPrefix(f.dst, "tfjs") {
				return "", fmt.Errorf("%v: install TF.js first (make bench-node-deps)", err)
			}
			return "", fmt.Errorf("%v: build the site first (make www)", err)
		}
	}
	pts, err := dataset.Sample("moons", n, rand.New(rand.NewPCG(2026, 13)))
	if err != nil {
		return "", err
	}
	b, _ := json.Marshal(pts)
	return "moons", os.WriteFile(filepath.Join(dir, "moons.json"), b, 0o644)
}

// driveTrain serves dir, runs the page with cfg and returns its final state.
func driveTrain(c *config, exe, dir string, cfg map[string]any) (*trainPage, error) {
	pg, err := openPage(c, exe, dir, "train.html")
	if err != nil {
		return nil, err
	}
	defer pg.close()
	bctx, cons, url, version := pg.ctx, pg.cons, pg.url, pg.version
	say := func(format string, a ...any) {
		if !c.quiet {
			fmt.Fprintf(os.Stderr, "benchweb -train: "+format+"\n", a...)
		}
	}
	say("%s, %d CPUs, load average %s; serving %s", version, runtime.NumCPU(), benchnet.LoadAvg(), url)
	if err := waitIdle(pg, "trainBench"); err != nil {
		return nil, err
	}
	pcfg, _ := json.Marshal(cfg)
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`window.trainBench.start(`+string(pcfg)+`)`)); err != nil {
		return nil, fmt.Errorf("starting the benchmark: %v%s", err, consoleTail(cons))
	}
	var all trainPage
	nlog, nsnap := 0, 0
	for {
		expr := fmt.Sprintf(`({state: trainBench.state, error: trainBench.error || '', log: trainBench.log.slice(%d), results: trainBench.results,
			snapshots: trainBench.snapshots.slice(%d), info: trainBench.info})`, nlog, nsnap)
		st, err := chromedp.Run(bctx, chromedp.Evaluate[trainPage](expr))
		if err != nil {
			return nil, fmt.Errorf("polling the page: %v%s", err, consoleTail(cons))
		}
		for _, l := range st.Log {
			say("%s", l)
		}
		nlog += len(st.Log)
		nsnap += len(st.Snapshots)
		all.Snapshots = append(all.Snapshots, st.Snapshots...)
		all.Results, all.Info = st.Results, st.Info
		if all.Info == nil {
			all.Info = map[string]any{}
		}
		all.Info["browser"] = version
		switch st.State {
		case "error":
			return nil, fmt.Errorf("%s%s", st.Error, consoleTail(cons))
		case "done":
			return &all, nil
		}
		if err := sleep(bctx, 250*time.Millisecond); err != nil {
			return nil, fmt.Errorf("the benchmark did not finish within -timeout %v%s", c.timeout, consoleTail(cons))
		}
	}
}

// scoreSnapshots samples each model file natively (rows particles, 20 midpoint steps, from
// fixed noise) and finds when its W2 to fresh data first came within 1.3× and 2× of the
// i.i.d. floor.
func scoreSnapshots(snaps []trainSnapshot, ds string, rows int) (trainLine, error) {
	q := trainLine{Peer: "browser-go-worker", Kernel: "simd", What: "train-quality", To13: -1, To2: -1}
	if len(snaps) == 0 {
		return q, errors.New("the Go worker sent no model files")
	}
	draw := func(seed uint64) []float32 {
		x, _ := dataset.Sample(ds, rows, rand.New(rand.NewPCG(seed, 77)))
		return x
	}
	// The i.i.d. floor: what a model indistinguishable from the data scores (two moons
	// draws balance their moons exactly, so W2 between them is lower than any model's).
	floorRNG := rand.New(rand.NewPCG(10, 77))
	sample := func(n int) ([]float32, error) { return dataset.Sample(ds, n, floorRNG) }
	floor, _, err := metrics.W2IIDFloor(sample, 2, rows, 8, rand.New(rand.NewPCG(11, 77))) // 8 draws, as make results: one draw varies by 10–30%
	if err != nil {
		return q, err
	}
	q.Floor = floor
	fresh := draw(99)
	for _, s := range snaps {
		b, err := base64.StdEncoding.DecodeString(s.File)
		if err != nil {
			return q, fmt.Errorf("step %d: %v", s.Step, err)
		}
		f, err := weights.DecodeBytes(b)
		if err != nil {
			return q, fmt.Errorf("the model file of step %d: %v", s.Step, err)
		}
		net, _, err := f.Field()
		if err != nil {
			return q, err
		}
		x := explorer.Noise(5, rows, 2)
		if _, err := sampler.Solve(net, x, sampler.Options{Method: sampler.Midpoint, Steps: 20}); err != nil {
			return q, err
		}
		f.Meta.Data.ToData(x)
		w, err := metrics.W2(x, fresh, 2)
		if err != nil {
			return q, err
		}
		ratio := w / q.Floor
		if q.BestRatio == 0 || ratio < q.BestRatio {
			q.BestRatio, q.BestStep = ratio, s.Step
		}
		if ratio <= 2 && q.To2 < 0 {
			q.To2 = s.Seconds
		}
		if ratio <= 1.3 && q.To13 < 0 {
			q.To13 = s.Seconds
		}
		q.Steps, q.Seconds, q.Loss = s.Step, s.Seconds, s.Loss
	}
	return q, nil
}

// trainTable is the summary: steps per second of each side, their ratio, and the quality.
func trainTable(lines []trainLine, info map[string]any) string {
	var b strings.Builder
	var goS, tfS float64
	fmt.Fprintf(&b, "\nTraining in the browser (%v):\n", info["browser"])
	for _, l := range lines {
		switch {
		case l.What == "train" && l.Peer == "browser-go-worker":
			goS = l.StepsPerS
		case l.What == "train":
			tfS = l.StepsPerS
		}
		if l.What == "train" {
			fmt.Fprintf(&b, "  %-20s %-12s MLP %v, batch %d: %7.1f steps/s (%d steps, %.1f s)\n", l.Peer, l.Kernel, l.Hidden, l.Batch, l.StepsPerS, l.Steps, l.Seconds)
		}
	}
	if goS > 0 && tfS > 0 {
		fmt.Fprintf(&b, "  Go worker / TF.js wasm: %.2f× (goal ≥ 1.0×)\n", goS/tfS)
	}
	for _, l := range lines {
		if l.What == "train-quality" {
			fmt.Fprintf(&b, "  moons: W2 floor %.4f; best %.2f× the floor at step %d; 2×: %s; 1.3×: %s of training\n",
				l.Floor, l.BestRatio, l.BestStep, secs(l.To2), secs(l.To13))
		}
	}
	if tw, ok := info["tfjs"]; ok {
		fmt.Fprintf(&b, "  TF.js: %v\n", tw)
	}
	return b.String()
}

func secs(s float64) string {
	if s < 0 {
		return "not reached"
	}
	return fmt.Sprintf("%.1f s", s)
}
