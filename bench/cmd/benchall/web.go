package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/flowmatch/flowmatch/bench/benchnet"
)

// The browser benchmark's peers, as wasm/cmd/benchweb names them.
const (
	webGo        = "browser-go-workers"
	webTFWasm    = "browser-tfjs-wasm"
	webTFCPU     = "browser-tfjs-cpu"
	webGoWhat    = "sample20-midpoint"
	webWorkers   = "1,2,4" // the SIMD build (kernel simd)
	webScalar    = "2"     // the scalar build (kernel asm)
	webExplorer  = "explorer-sample20-midpoint"
	webModel     = "weights/moons-ot.safetensors" // the explorer figure's model
	webGoal      = 1.6                            // Go over 2 workers (SIMD) ÷ TF.js wasm
	webGoalW     = 2
	webExploreMs = 2000 // the explorer figure's goal
)

// webRun says whether (e) ran, and if not, why.
type webRun struct {
	ran     bool
	why     string // why it was skipped or failed
	browser string // chromium --version
}

func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// runWeb runs (e), the browser benchmark (wasm/cmd/benchweb), with cfg's widths,
// batch and rounds, when chromium, the worker (make www) and TF.js are at hand, and notes
// why not otherwise.
func (b *bench) runWeb(cfg config, d string, budgetArg string, haveTF bool) {
	exe := findChromium()
	switch {
	case !cfg.web:
		b.web.why = "benchall -web=false"
	case !haveTF:
		b.web.why = "TF.js is missing (npm ci --prefix bench)"
	case exe == "":
		b.web.why = "no chromium on PATH (apt-get install chromium)"
	}
	for _, f := range []string{"www/worker.js", "www/worker.wasm", "www/worker-simd.wasm", "www/wasm_exec.js"} {
		if _, err := os.Stat(f); err != nil && b.web.why == "" {
			b.web.why = f + " is missing (make www builds it)"
		}
	}
	if b.web.why != "" {
		b.note("browser benchmark (e) skipped: %s", b.web.why)
		return
	}
	b.web.browser = "Chromium"
	if f := strings.Fields(output(exe, "--version")); len(f) >= 2 { // "Chromium 156.0.8078.108 built on …"
		b.web.browser = f[0] + " " + f[1]
	}
	fmt.Fprintln(b.log, "==> (e) in the browser: wasm/cmd/benchweb (Go over Web Workers vs TF.js wasm, headless Chromium)")
	bin := filepath.Join(d, "benchweb")
	c := exec.Command("go", "build", "-o", bin, "./cmd/benchweb")
	c.Dir = "wasm"
	if o, err := c.CombinedOutput(); err != nil {
		b.web.why = "building wasm/cmd/benchweb failed"
		b.note("browser benchmark (e) skipped: building wasm/cmd/benchweb failed: %s", lastLines(string(o), 3))
		return
	}
	root, _ := filepath.Abs(".")
	var hidden []string
	for _, h := range cfg.hidden {
		hidden = append(hidden, strconv.Itoa(h))
	}
	model := webModel
	if _, err := os.Stat(model); err != nil {
		b.note("no explorer figure in (e): %s is missing", model)
		model = ""
	}
	if err := b.cmd(nil, "", bin, "-root", root, "-model-dir", d, "-hidden", strings.Join(hidden, ","),
		"-workers", webWorkers, "-scalar-workers", webScalar, "-explorer-model", model, "-explorer-workers", strconv.Itoa(webGoalW),
		"-budget", budgetArg, "-rounds", strconv.Itoa(max(1, cfg.rounds)), "-batch", strconv.Itoa(cfg.batch),
		"-q", "-table=false"); err != nil {
		b.web.why = "it failed (see the notes)"
		b.note("browser benchmark (e) failed: %v", err)
		return
	}
	b.web.ran = true
}

// webWorkerCounts lists the worker counts measured at width h with a build's kernel.
func (b *bench) webWorkerCounts(h int, kernel string) []int {
	var ws []int
	for _, r := range b.best {
		if r.Peer == webGo && r.Kernel == kernel && r.What == webGoWhat && r.Hidden == h {
			ws = append(ws, r.Threads)
		}
	}
	sort.Ints(ws)
	return ws
}

// webLine is one of benchweb's result lines: benchnet.Result, the workers' boot time and
// the explorer figure's model.
type webLine struct {
	benchnet.Result
	BootMs float64 `json:"boot_ms"`
	Model  string  `json:"model"`
}

// webBoot is the fastest boot (workers created to model loaded in all) of a measurement.
func (b *bench) webBoot(kernel, what string, h, w int) float64 {
	best := 0.0
	for _, line := range b.raw {
		var r webLine
		if json.Unmarshal([]byte(line), &r) != nil || r.Peer != webGo || r.Kernel != kernel || r.What != what ||
			r.Hidden != h || r.Threads != w || r.BootMs <= 0 {
			continue
		}
		if best == 0 || r.BootMs < best {
			best = r.BootMs
		}
	}
	return best
}

// explorerFigure is the explorer figure over all rounds: the fastest solve, the mean of
// all solves, and the fastest boot.
type explorerFigure struct {
	model                        string
	hidden, workers, reps, batch int
	bestMs, meanMs, bootMs       float64
}

func (b *bench) webExplorer() (explorerFigure, bool) {
	var f explorerFigure
	total := 0.0
	for _, line := range b.raw {
		var r webLine
		if json.Unmarshal([]byte(line), &r) != nil || r.Peer != webGo || r.What != webExplorer || r.Reps < 1 {
			continue
		}
		if f.reps == 0 || r.BestMs < f.bestMs {
			f.bestMs = r.BestMs
		}
		if r.BootMs > 0 && (f.bootMs == 0 || r.BootMs < f.bootMs) {
			f.bootMs = r.BootMs
		}
		f.model, f.hidden, f.workers, f.batch = r.Model, r.Hidden, r.Threads, r.Batch
		f.reps += r.Reps
		total += r.MeanMs * float64(r.Reps)
	}
	if f.reps == 0 {
		return f, false
	}
	f.meanMs = total / float64(f.reps)
	return f, true
}

// webRatioRows adds (e)'s rows to the table of ratios: the Go workers' particle
// evaluations per second over TF.js wasm's, both in wall time, with the SIMD build and
// the scalar one; then the explorer figure, a time.
func (b *bench) webRatioRows(p func(string, ...any), hs []int) {
	for _, h := range hs {
		t, ok := b.get(webTFWasm, "", "forward", h, 1)
		if !ok || t.EvalsPerS <= 0 {
			continue
		}
		for _, k := range []struct{ kernel, build string }{{"simd", "SIMD build"}, {"asm", "scalar build"}} {
			for _, w := range b.webWorkerCounts(h, k.kernel) {
				g, _ := b.get(webGo, k.kernel, webGoWhat, h, w)
				v := g.EvalsPerS / t.EvalsPerS
				tgt := ""
				if k.kernel == "simd" && w == webGoalW {
					tgt = fmt.Sprintf("≥ %.1f× (%s)", webGoal, status(v, webGoal))
				}
				p("| (e) | browser: Go over %d Web Worker%s (%s) vs TF.js wasm, 1 thread | %d | %.2f× | %s |\n", w, plural(w), k.build, h, v, tgt)
			}
		}
	}
	if f, ok := b.webExplorer(); ok {
		st := "met"
		if f.meanMs > webExploreMs {
			st = "**not met**"
		}
		p("| (e) | browser: explorer, %s particles of %s through 20 midpoint steps to t = 1, %d Web Workers (SIMD build), mean of %d | %d | %.2f s | ≤ %.0f s (%s) |\n",
			thousands(f.batch), f.model, f.workers, f.reps, f.hidden, f.meanMs/1000, webExploreMs/1000.0, st)
	}
}

// webRatioNote says what the (e) rows compare, or why there are none.
func (b *bench) webRatioNote(p func(string, ...any)) {
	if !b.web.ran {
		p("\nThe browser targets with Web Workers (Go over %d workers ≥ %.1f× TF.js wasm on one thread;\n", webGoalW, webGoal)
		p("the explorer's 10,000 particles in ≤ %.0f s) were not measured in this run: %s.\n", webExploreMs/1000.0, b.web.why)
		return
	}
	p("\nThe (e) rows compare wall time in one page of headless Chromium: the Go sampler's whole\n")
	p("20-step midpoint solve (40 network evaluations per particle, messages and copies included)\n")
	p("spread over W Web Workers (the SIMD build, worker-simd.wasm, and the scalar one,\n")
	p("worker.wasm), against one forward pass of TF.js's wasm backend on the page's thread; the\n")
	p("explorer row is a time, the mean of its solves. Section (e) below has the figures and the\n")
	p("machine's core count.\n")
}

// webSection is the report's section (e), for cfg's widths, batch and rounds.
func (b *bench) webSection(p func(string, ...any), cfg config) {
	if !b.web.ran {
		return
	}
	hs, rounds := cfg.hidden, max(1, cfg.rounds)
	p("\n## (e) In the browser (headless Chromium, same page): Go over W Web Workers vs TF.js wasm on one thread\n\n")
	p("%s, headless, software rendering; one page (bench/web, driven by wasm/cmd/benchweb) runs\n", b.web.browser)
	p("every peer in turn, per width: TF.js, then the Go workers of the SIMD build for W = %s and\n", strings.ReplaceAll(webWorkers, ",", ", "))
	p("of the scalar build for W = %s (the workers of one W are terminated before the next start),\n", strings.ReplaceAll(webScalar, ",", ", "))
	p("%d round%s, each keeping its fastest repetition.\n\n", rounds, plural(rounds))
	p("- Go: www/worker-simd.wasm (kernel simd: the sampler's WebAssembly SIMD kernel, Go 1.27\n")
	p("  with GOEXPERIMENT=simd, what the explorer loads where the browser has SIMD) and\n")
	p("  www/worker.wasm (kernel asm: the scalar WebAssembly kernel), one thread per worker. The\n")
	p("  %d particles (fixed noise) are split into W contiguous slices, one run per worker; the\n", cfg.batch)
	p("  time runs from posting the runs to the last slice's final frame; particle evals/s =\n")
	p("  particles × 40 / time. Boot is from creating the W workers to all of them having\n")
	p("  compiled their .wasm and loaded the model (Chromium may reuse its compiled code after the\n")
	p("  first boot).\n")
	p("- TF.js 4.22 wasm backend: XNNPACK with SIMD on one thread (the page is not cross-origin\n")
	p("  isolated, so there is no SharedArrayBuffer for its threads); one forward pass of the\n")
	p("  batch, read back, as in (b). The plain-JS cpu backend is timed at H = 64 only.\n")
	p("- Checks before timing: TF.js's outputs match the float64 reference; a one-step Euler run\n")
	p("  of every worker gives velocities matching TF.js's and the reference; the sample matches\n")
	p("  the native Go sampler's first rows; every W and both builds give bit-identical samples.\n\n")
	b.webCores(p)
	p("| H | peer | kernel | threads | best ms | mean ms | particle evals/s | GFLOP/s | boot ms | ÷ TF.js wasm |\n")
	p("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, h := range hs {
		t, okT := b.get(webTFWasm, "", "forward", h, 1)
		row := func(r benchnet.Result, boot float64) {
			rt, bt := "", ""
			if okT && t.EvalsPerS > 0 {
				rt = fmt.Sprintf("%.2f×", r.EvalsPerS/t.EvalsPerS)
			}
			if boot > 0 {
				bt = fmt.Sprintf("%.0f", boot)
			}
			p("| %d | %s | %s | %d | %.1f | %.1f | %s | %.2f | %s | %s |\n", h, r.Peer, short(r.Kernel), r.Threads, r.BestMs, r.MeanMs, benchnet.Human(r.EvalsPerS), r.GFLOPs, bt, rt)
		}
		if okT {
			row(t, 0)
		}
		if c, ok := b.get(webTFCPU, "", "forward", h, 1); ok {
			row(c, 0)
		}
		for _, k := range []string{"simd", "asm"} {
			for _, w := range b.webWorkerCounts(h, k) {
				g, _ := b.get(webGo, k, webGoWhat, h, w)
				row(g, b.webBoot(k, webGoWhat, h, w))
			}
		}
	}
	if f, ok := b.webExplorer(); ok {
		p("\nThe explorer: %s particles of the shipped %s model (width %d) through 20 midpoint\n", thousands(f.batch), f.model, f.hidden)
		p("steps from t = 0 to t = 1 over %d Web Workers of the SIMD build, as the explorer's page farms\n", f.workers)
		p("them out (explorer.Worker, the page's own worker code; the first rows match the native\n")
		p("explorer worker's): **%.2f s** on average over %d solves, %.2f s at best; the workers booted\n", f.meanMs/1000, f.reps, f.bestMs/1000)
		p("in %.0f ms. Goal: ≤ %.0f s.\n", f.bootMs, webExploreMs/1000.0)
	}
}

// webCores says how many cores the workers had.
func (b *bench) webCores(p func(string, ...any)) {
	n := runtime.NumCPU()
	p("This machine has %d cores (runtime.NumCPU()), shared with other work (load average\n", n)
	p("%s at the end). ", benchnet.LoadAvg())
	switch {
	case n < 4:
		p("Each worker is a thread of its own, so W = 2 can use at most the %d cores and\n", n)
		p("W = 4 oversubscribes them: the W = 4 rows measure four busy worker threads sharing\n")
		p("%d cores, not a 4-core machine.\n\n", n)
	default:
		p("With W up to %d, every worker can have a core of its own.\n\n", n)
	}
}

// thousands writes n with commas: 10,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
