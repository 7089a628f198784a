package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/flowmatch/flowmatch/bench/benchnet"
)

// (f), training in the browser: wasm/cmd/benchweb -train at its defaults (the explorer's
// Your data settings), the pure-Go trainer in a Web Worker of the SIMD build against a
// TF.js wasm training loop of the same network, batch and optimiser.
const (
	webTrainGo      = "browser-go-worker"
	webTrainTF      = "browser-tfjs-wasm"
	webTrainGoal    = 1.0 // Go worker's steps/s ÷ TF.js wasm's
	webTrainQuality = "train-quality"
)

// webTrainLine is one of benchweb -train's result lines.
type webTrainLine = benchnet.TrainResult

// webTrainRun says whether (f) ran, and if not, why, with its result lines.
type webTrainRun struct {
	ran     bool
	why     string // why it was skipped or failed
	browser string // chromium --version
	lines   []webTrainLine
}

// runWebTrain runs (f) when chromium, the SIMD worker (make www) and TF.js are at hand,
// and notes why not otherwise. It builds benchweb into d unless (e) just did.
func (b *bench) runWebTrain(cfg config, d string, haveTF bool) {
	exe := findChromium()
	switch {
	case !cfg.webTrain:
		b.webTrain.why = "benchall -web-train=false"
	case !haveTF:
		b.webTrain.why = "TF.js is missing (npm ci --prefix bench)"
	case exe == "":
		b.webTrain.why = "no chromium on PATH (apt-get install chromium)"
	}
	for _, f := range []string{"www/worker.js", "www/worker-simd.wasm", "www/wasm_exec.js"} {
		if _, err := os.Stat(f); err != nil && b.webTrain.why == "" {
			b.webTrain.why = f + " is missing (make www builds it)"
		}
	}
	if b.webTrain.why != "" {
		b.note("browser training benchmark (f) skipped: %s", b.webTrain.why)
		return
	}
	b.webTrain.browser = "Chromium"
	if f := strings.Fields(output(exe, "--version")); len(f) >= 2 {
		b.webTrain.browser = f[0] + " " + f[1]
	}
	fmt.Fprintln(b.log, "==> (f) training in the browser: wasm/cmd/benchweb -train (gotrain in a Web Worker vs TF.js wasm, headless Chromium)")
	bin := filepath.Join(d, "benchweb")
	if !b.web.ran {
		c := exec.Command("go", "build", "-o", bin, "./cmd/benchweb")
		c.Dir = "wasm"
		if o, err := c.CombinedOutput(); err != nil {
			b.webTrain.why = "building wasm/cmd/benchweb failed"
			b.note("browser training benchmark (f) skipped: building wasm/cmd/benchweb failed: %s", lastLines(string(o), 3))
			return
		}
	}
	root, _ := filepath.Abs(".")
	if err := b.measureWebTrain(bin, root); err != nil {
		b.webTrain.why = "it failed (see the notes)"
		b.note("browser training benchmark (f) failed: %v", err)
	}
}

// measureWebTrain runs benchweb -train and keeps its result lines; it needs both peers'
// speeds and the quality line.
func (b *bench) measureWebTrain(bin, root string) error {
	out, err := b.run(nil, "", bin, "-root", root, "-train", "-q", "-table=false")
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		var l webTrainLine
		if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &l) != nil || l.Peer == "" {
			continue
		}
		fmt.Fprintf(b.log, "  %-18s %-12s %-13s MLP %s, batch %d: %d steps in %.2f s, %.1f steps/s\n",
			l.Peer, l.Kernel, l.What, mlp(l.Hidden), l.Batch, l.Steps, l.Seconds, l.StepsPerS)
		b.webTrain.lines = append(b.webTrain.lines, l)
	}
	g, okG := b.webTrainGet(webTrainGo, "train")
	t, okT := b.webTrainGet(webTrainTF, "train")
	_, okQ := b.webTrainGet(webTrainGo, webTrainQuality)
	if !okG || !okT || !okQ || g.StepsPerS <= 0 || t.StepsPerS <= 0 {
		return fmt.Errorf("benchweb -train printed %d result lines, not both peers' steps/s and the quality line", len(b.webTrain.lines))
	}
	b.webTrain.ran = true
	return nil
}

// webTrainGet is (f)'s last line of a peer and kind.
func (b *bench) webTrainGet(peer, what string) (webTrainLine, bool) {
	for i := len(b.webTrain.lines) - 1; i >= 0; i-- {
		if l := b.webTrain.lines[i]; l.Peer == peer && l.What == what {
			return l, true
		}
	}
	return webTrainLine{}, false
}

// webTrainRatioRows adds (f)'s rows to the table of ratios: the steps/s ratio with its
// goal, and the seconds of training to 1.3× the floor (a time, no target).
func (b *bench) webTrainRatioRows(p func(string, ...any)) {
	const what = "browser training: Go (gotrain, SIMD worker) vs TF.js wasm, steps/s"
	if !b.webTrain.ran {
		p("| (f) | %s | | not measured: %s | ≥ %.1f× |\n", what, b.webTrain.why, webTrainGoal)
		return
	}
	g, _ := b.webTrainGet(webTrainGo, "train")
	t, _ := b.webTrainGet(webTrainTF, "train")
	q, _ := b.webTrainGet(webTrainGo, webTrainQuality)
	v := g.StepsPerS / t.StepsPerS
	p("| (f) | %s | %s | %.2f× | ≥ %.1f× (%s) |\n", what, mlp(g.Hidden), v, webTrainGoal, status(v, webTrainGoal))
	p("| (f) | browser training: seconds of Go training to 1.3× the i.i.d. W2 floor on moons | %s | %s | |\n",
		mlp(g.Hidden), toFloor(q.To13, q.Steps))
}

// webTrainSection is the report's section (f), when it ran.
func (b *bench) webTrainSection(p func(string, ...any)) {
	if !b.webTrain.ran {
		return
	}
	g, _ := b.webTrainGet(webTrainGo, "train")
	t, _ := b.webTrainGet(webTrainTF, "train")
	q, _ := b.webTrainGet(webTrainGo, webTrainQuality)
	p("\n## (f) Training in the browser (headless Chromium, same page): Go (gotrain) in a Web Worker vs TF.js wasm\n\n")
	p("%s, headless; one page (bench/web/train.html, driven by\n", b.webTrain.browser)
	p("wasm/cmd/benchweb -train at its defaults, the explorer's Your data settings) trains the\n")
	p("same network on each side in turn: an MLP on [x, t] with hidden widths %s and SiLU,\n", mlp(g.Hidden))
	p("batch %d, conditional flow matching on moons with independent pairs, Adam with warmup and\n", g.Batch)
	p("cosine decay, gradient clipping at 1 and EMA 0.999.\n\n")
	p("- Go: the pure-Go trainer (package gotrain) in a Web Worker of the SIMD build\n")
	p("  (www/worker-simd.wasm), sent the explorer's training job; steps/s by the worker's own clock.\n")
	p("- TF.js 4.22 wasm backend on the page's thread, one thread; steps/s from performance.now()\n")
	p("  around the timed loop, after untimed warmup steps.\n\n")
	p("| peer | kernel | steps | seconds | steps/s | last loss | ÷ TF.js wasm |\n|---|---|---|---|---|---|---|\n")
	for _, l := range []webTrainLine{g, t} {
		p("| %s | %s | %d | %.2f | %.1f | %.4f | %.2f× |\n", l.Peer, l.Kernel, l.Steps, l.Seconds, l.StepsPerS, l.Loss, l.StepsPerS/t.StepsPerS)
	}
	p("\nQuality: each model file the Go worker sent (the EMA weights, one every half second of\n")
	p("training) sampled natively with 20 midpoint steps from fixed noise and scored by W2 against\n")
	p("fresh moons points; the i.i.d. floor (metrics.W2IIDFloor: what a model indistinguishable from the data scores) is %.4f. 2× the floor:\n", q.Floor)
	p("**%s**; 1.3× the floor: **%s**; the best model file, at step %d, is %.2f× the floor.\n",
		toFloor(q.To2, q.Steps), toFloor(q.To13, q.Steps), q.BestStep, q.BestRatio)
	p("Goal: Go worker's steps/s ≥ %.1f× TF.js wasm's.\n", webTrainGoal)
}

// toFloor says how long training took to reach a multiple of the floor: s seconds, or
// not within the run's steps when s < 0.
func toFloor(s float64, steps int) string {
	if s < 0 {
		return fmt.Sprintf("not reached in %s steps", thousands(steps))
	}
	return fmt.Sprintf("%.1f s of training", s)
}

// mlp writes hidden widths as 64×64×64.
func mlp(hidden []int) string {
	s := make([]string, len(hidden))
	for i, h := range hidden {
		s[i] = strconv.Itoa(h)
	}
	return strings.Join(s, "×")
}
