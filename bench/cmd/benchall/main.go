// Command benchall is `make bench`: it measures, in one run on this machine, the pure-Go
// sampler against its peers on the same networks and batches, prints a table of ratios
// and writes it to bench/RESULTS.md:
//
//	(a) forward pass natively: Go (assembly kernel, the Go SIMD kernel of build tag gosimd,
//	    and the pure-Go kernel) vs libtorch through gotch, at the same thread count (1 and 2);
//	(b) the same Go code under Node (js/wasm) vs TF.js 4.22's wasm (XNNPACK, SIMD, one
//	    thread) and plain-JS cpu backends;
//	(c) training steps/s, gotch trainer vs PyTorch eager (the train module's trainbench);
//	(d) end to end: sampling 10,000 points with a 20-step midpoint solve, natively and
//	    under Node;
//	(e) in the browser, in one page of headless Chromium (wasm/cmd/benchweb): that solve
//	    by the Go sampler spread over W = 1, 2, 4 Web Workers (www/worker.wasm) against
//	    TF.js's wasm backend on one thread (and its plain-JS backend at H = 64);
//	(f) training in the browser (benchweb -train): the pure-Go trainer in a Web Worker of
//	    the SIMD build vs a TF.js wasm training loop of the same network, steps/s, and the
//	    seconds of training to reach 1.3× and 2× the i.i.d. W2 floor on moons.
//
// Every peer reads the same benchnet model file and must reproduce its float64
// reference on a check batch before it is timed. The machine is shared, so the peers
// run in alternating rounds and each keeps its fastest repetition: a burst of load from
// elsewhere hurts no side more than the other. Run from the repository root:
//
//	go run ./bench/cmd/benchall [-rounds 2] [-budget 1.5s] [-batch 10000] [-out bench/RESULTS.md] [-web=false] [-web-train=false]
//
// -batch is the particle count every peer measures with: each forward pass, each
// end-to-end solve and the browser's run (the training benchmark keeps its own batch).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flowmatch/flowmatch/bench/benchnet"
	"github.com/flowmatch/flowmatch/sampler"
)

// config is what one run measures and where it writes it: benchall's flags.
type config struct {
	rounds      int           // rounds of every forward and sampling measurement
	trainRounds int           // rounds of the training benchmark (0: skip)
	budget      time.Duration // timed repetitions per measurement
	out         string        // where to write the results ("": nowhere)
	dir         string        // scratch folder for models and binaries
	hidden      []int         // hidden widths, 3 hidden layers each
	batch       int           // particles in every measurement
	web         bool          // run (e), the browser benchmark, when it can
	webTrain    bool          // run (f), the browser training benchmark, when it can
}

// defaultBatch is the particles of the measurements, unless -batch says otherwise.
const defaultBatch = 10000

// simdToolchain builds the js/wasm peer with the SIMD kernel, which needs Go 1.27 and
// GOEXPERIMENT=simd (as make www's SIMD_TOOLCHAIN does).
const simdToolchain = "go1.27.3"

// parseConfig reads benchall's command line.
func parseConfig(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("benchall", flag.ContinueOnError)
	fs.IntVar(&c.rounds, "rounds", 2, "rounds of every forward and sampling measurement")
	fs.IntVar(&c.trainRounds, "train-rounds", 1, "rounds of the training benchmark (0: skip)")
	fs.DurationVar(&c.budget, "budget", 1500*time.Millisecond, "timed repetitions per measurement")
	fs.StringVar(&c.out, "out", "bench/RESULTS.md", "where to write the results")
	fs.StringVar(&c.dir, "dir", "build/bench", "scratch folder for models and binaries")
	widths := fs.String("hidden", "64,256", "hidden widths (3 hidden layers each)")
	fs.IntVar(&c.batch, "batch", defaultBatch, "particles in every forward pass, end-to-end solve and browser run")
	fs.BoolVar(&c.web, "web", true, "run (e), the browser benchmark, when chromium, TF.js and www/worker.wasm are at hand")
	fs.BoolVar(&c.webTrain, "web-train", true, "run (f), the browser training benchmark, when chromium, TF.js and www/worker-simd.wasm are at hand")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	for _, w := range strings.Split(*widths, ",") {
		h, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || h < 1 {
			return c, fmt.Errorf("bad -hidden %q", *widths)
		}
		c.hidden = append(c.hidden, h)
	}
	switch {
	case c.batch < 1 || c.batch > 10_000_000:
		return c, fmt.Errorf("bad -batch %d: want 1 … 10000000", c.batch)
	case c.rounds < 0 || c.trainRounds < 0:
		return c, fmt.Errorf("bad -rounds %d or -train-rounds %d: want 0 or more", c.rounds, c.trainRounds)
	case c.budget <= 0:
		return c, fmt.Errorf("bad -budget %v: want more than 0", c.budget)
	}
	return c, nil
}

func main() {
	cfg, err := parseConfig(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchall:", err)
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "benchall:", err)
		os.Exit(1)
	}
}

type bench struct {
	goroot   string
	notes    []string
	best     map[string]benchnet.Result // by key()
	raw      []string
	log      io.Writer
	web      webRun      // whether (e) ran, and if not, why
	webTrain webTrainRun // whether (f) ran, why not, and its lines
	// exec runs a command and returns its standard output; nil runs it for real. Tests
	// record the commands instead.
	exec func(env []string, dir, name string, args ...string) ([]byte, error)
}

func key(r benchnet.Result) string {
	return fmt.Sprintf("%s|%s|%s|%d|%d", r.Peer, r.Kernel, r.What, r.Hidden, r.Threads)
}

func (b *bench) note(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	b.notes = append(b.notes, s)
	fmt.Fprintln(b.log, "note:", s)
}

// run runs a command (through b.exec when set) and returns its standard output.
func (b *bench) run(env []string, dir string, name string, args ...string) ([]byte, error) {
	if b.exec != nil {
		return b.exec(env, dir, name, args...)
	}
	c := exec.Command(name, args...)
	c.Dir = dir
	c.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	stdout, err := c.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, lastLines(stderr.String(), 5))
	}
	return stdout, nil
}

// cmd runs a command, echoing its JSON result lines and keeping the best of each.
func (b *bench) cmd(env []string, dir string, name string, args ...string) error {
	stdout, err := b.run(env, dir, name, args...)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		var r benchnet.Result
		if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &r) != nil || r.BestMs == 0 {
			continue
		}
		fmt.Fprintf(b.log, "  %-9s %-7s %-18s H=%-3d threads=%d  best %9.3f ms (CPU %9.3f ms)  mean %9.3f ms  (%d reps, check error %.2g)\n",
			r.Peer, short(r.Kernel), r.What, r.Hidden, r.Threads, r.BestMs, r.BestCPUMs, r.MeanMs, r.Reps, r.MaxErr)
		b.raw = append(b.raw, line)
		b.keep(r)
	}
	return nil
}

// keep keeps the fastest wall and the fastest CPU repetition of a peer, each over all
// rounds.
func (b *bench) keep(r benchnet.Result) {
	k := key(r)
	old, ok := b.best[k]
	if !ok {
		b.best[k] = r
		return
	}
	if r.BestMs < old.BestMs {
		cpu := old.BestCPUMs
		old = r
		old.BestCPUMs = cpu
	}
	if r.BestCPUMs > 0 && (old.BestCPUMs == 0 || r.BestCPUMs < old.BestCPUMs) {
		old.BestCPUMs = r.BestCPUMs
	}
	old.MaxErr = max(old.MaxErr, r.MaxErr)
	b.best[k] = old
}

func short(k string) string {
	if strings.HasPrefix(k, "libtorch") {
		return "torch"
	}
	if strings.HasPrefix(k, "tfjs") {
		return "tfjs"
	}
	return k
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}

func output(name string, args ...string) string {
	o, err := exec.Command(name, args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(o))
}

// peers are the programs that measure, as built or found for this run.
type peers struct {
	model     func(h int) string // the benchnet model file of width h
	goBins    map[string]string  // "native", "native-purego", "wasm", "wasm-purego" → binary
	torchBin  string             // "" without libtorch
	haveTF    bool               // TF.js is installed under bench/node_modules
	node      string
	execJS    string // Go's wasm_exec_node.js
	dir       string // the scratch folder, absolute
	budgetArg string
}

// run is the whole benchmark with cfg's settings: models, builds, the rounds of (a),
// (b) and (d), then (c), (e) and (f), and the report.
func run(cfg config) error {
	start := time.Now()
	b := &bench{best: map[string]benchnet.Result{}, log: os.Stdout}
	b.goroot = output("go", "env", "GOROOT")
	ps, err := b.prepare(cfg)
	if err != nil {
		return err
	}
	for r := 1; r <= cfg.rounds; r++ {
		for _, h := range cfg.hidden {
			fmt.Fprintf(b.log, "==> round %d/%d, H=%d\n", r, cfg.rounds, h)
			if err := b.round(cfg, ps, h); err != nil {
				return err
			}
		}
	}
	train := b.train(cfg, ps.torchBin != "")
	b.runWeb(cfg, ps.dir, ps.budgetArg, ps.haveTF)
	b.runWebTrain(cfg, ps.dir, ps.haveTF)
	report := b.report(cfg, train, time.Since(start))
	fmt.Fprintln(b.log)
	fmt.Fprint(b.log, report)
	if cfg.out != "" {
		if err := os.WriteFile(cfg.out, []byte(report), 0o644); err != nil {
			return err
		}
		fmt.Fprintln(b.log, "wrote", cfg.out)
	}
	return nil
}

// prepare writes the benchmark networks and builds or finds the peers.
func (b *bench) prepare(cfg config) (*peers, error) {
	if err := os.MkdirAll(cfg.dir, 0o755); err != nil {
		return nil, err
	}
	d, err := filepath.Abs(cfg.dir)
	if err != nil {
		return nil, err
	}
	ps := &peers{
		model:     func(h int) string { return filepath.Join(d, fmt.Sprintf("h%d.json", h)) },
		node:      "node",
		execJS:    filepath.Join(b.goroot, "lib", "wasm", "wasm_exec_node.js"),
		dir:       d,
		budgetArg: cfg.budget.String(),
	}
	for _, h := range cfg.hidden {
		if err := benchnet.New(2, []int{h, h, h}, 1000, uint64(h)).Save(ps.model(h)); err != nil {
			return nil, err
		}
	}
	if ps.goBins, err = b.buildGo(d); err != nil {
		return nil, err
	}
	ps.torchBin = b.buildTorch(d)
	ps.haveTF = true
	if _, err := os.Stat("bench/node_modules/@tensorflow/tfjs-backend-wasm"); err != nil {
		ps.haveTF = false
		b.note("TF.js peers skipped: bench/node_modules is missing (npm ci --prefix bench)")
	}
	return ps, nil
}

// buildGo builds the Go peer, natively and for js/wasm, with the assembly and the
// pure-Go kernels, and for js/wasm with the SIMD kernel (Go 1.27, GOEXPERIMENT=simd,
// the toolchain simdToolchain) where that toolchain is at hand (else a note, no row).
func (b *bench) buildGo(d string) (map[string]string, error) {
	fmt.Fprintln(b.log, "==> building the Go peers (native and js/wasm, assembly, SIMD and pure-Go kernels)")
	type gobin struct{ path, goos, tags string }
	bins := map[string]gobin{
		"native":        {filepath.Join(d, "benchgo"), "", ""},
		"native-purego": {filepath.Join(d, "benchgo-purego"), "", "purego"},
		"wasm":          {filepath.Join(d, "benchgo.wasm"), "js", ""},
		"wasm-purego":   {filepath.Join(d, "benchgo-purego.wasm"), "js", "purego"},
	}
	paths := map[string]string{}
	for _, name := range []string{"native", "native-purego", "wasm", "wasm-purego"} {
		g := bins[name]
		args := []string{"build", "-o", g.path}
		if g.tags != "" {
			args = append(args, "-tags", g.tags)
		}
		c := exec.Command("go", append(args, "./bench/cmd/benchgo")...)
		if g.goos == "js" {
			c.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
		}
		if o, err := c.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %v: %s", name, err, o)
		}
		paths[name] = g.path
	}
	gosimd := filepath.Join(d, "benchgo-gosimd")
	c := exec.Command("go", "build", "-tags", "gosimd", "-o", gosimd, "./bench/cmd/benchgo")
	c.Env = append(os.Environ(), "GOEXPERIMENT=simd", "GOTOOLCHAIN="+simdToolchain)
	if o, err := c.CombinedOutput(); err != nil {
		b.note("no native Go SIMD peer: GOTOOLCHAIN=%s GOEXPERIMENT=simd go build -tags gosimd: %v: %s", simdToolchain, err, bytes.TrimSpace(o))
	} else {
		paths["native-gosimd"] = gosimd
	}
	simd := filepath.Join(d, "benchgo-simd.wasm")
	c = exec.Command("go", "build", "-o", simd, "./bench/cmd/benchgo")
	c.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "GOEXPERIMENT=simd", "GOTOOLCHAIN="+simdToolchain)
	if o, err := c.CombinedOutput(); err != nil {
		b.note("no SIMD wasm peer: GOTOOLCHAIN=%s GOEXPERIMENT=simd go build: %v: %s", simdToolchain, err, bytes.TrimSpace(o))
	} else {
		paths["wasm-simd"] = simd
	}
	return paths, nil
}

// buildTorch builds the libtorch peer; "" (with a note) where it cannot.
func (b *bench) buildTorch(d string) string {
	fmt.Fprintln(b.log, "==> building the libtorch peer (train/cmd/benchforward, gotch)")
	torchBin := filepath.Join(d, "benchforward")
	if _, err := os.Stat("third_party/gotch"); err != nil {
		b.note("libtorch peer skipped: third_party/gotch is missing (run scripts/setup-gotch.sh or make setup-gotch)")
		return ""
	}
	c := exec.Command("go", "build", "-o", torchBin, "./cmd/benchforward")
	c.Dir = "train"
	if o, err := c.CombinedOutput(); err != nil {
		b.note("libtorch peer skipped: building train/cmd/benchforward failed: %s", lastLines(string(o), 3))
		return ""
	}
	return torchBin
}

// round is one round at width h: (a) the forward pass natively, (b) under Node, and
// (d) end to end, every peer with cfg.batch particles.
func (b *bench) round(cfg config, ps *peers, h int) error {
	if err := b.forwardNative(cfg, ps, h); err != nil {
		return err
	}
	if err := b.forwardNode(cfg, ps, h); err != nil {
		return err
	}
	return b.endToEnd(cfg, ps, h)
}

// forwardNative is (a): Go with each kernel, and libtorch, at 1 and 2 threads.
func (b *bench) forwardNative(cfg config, ps *peers, h int) error {
	batch := strconv.Itoa(cfg.batch)
	for _, name := range []string{"native", "native-gosimd", "native-purego"} {
		if ps.goBins[name] == "" {
			continue // native-gosimd without its toolchain
		}
		err := b.cmd(nil, "", ps.goBins[name], "-model", ps.model(h), "-threads", "1,2", "-budget", ps.budgetArg,
			"-batch", batch, "-peer", "go-native")
		if err != nil {
			return err
		}
	}
	if ps.torchBin == "" {
		return nil
	}
	for _, th := range []string{"1", "2"} {
		env := []string{"OPENBLAS_NUM_THREADS=" + th, "OMP_NUM_THREADS=" + th, "MKL_NUM_THREADS=" + th}
		if err := b.cmd(env, "", ps.torchBin, "-model", ps.model(h), "-threads", th, "-budget", ps.budgetArg, "-batch", batch); err != nil {
			b.note("libtorch peer failed: %v", err)
			ps.torchBin = ""
			break
		}
	}
	return nil
}

// forwardNode is (b): the same Go code under Node, and TF.js's wasm and plain-JS
// backends.
func (b *bench) forwardNode(cfg config, ps *peers, h int) error {
	batch := strconv.Itoa(cfg.batch)
	for _, name := range []string{"wasm", "wasm-simd", "wasm-purego"} {
		if ps.goBins[name] == "" {
			continue // wasm-simd without its toolchain
		}
		if err := b.cmd(nil, "", ps.node, ps.execJS, ps.goBins[name], "-model", ps.model(h), "-budget", ps.budgetArg,
			"-batch", batch, "-peer", "go-wasm"); err != nil {
			return err
		}
	}
	if !ps.haveTF {
		return nil
	}
	budget := fmt.Sprint(cfg.budget.Seconds())
	if err := b.cmd(nil, "bench", ps.node, "tfjs_mlp.js", "--model", ps.model(h), "--backends", "wasm",
		"--budget", budget, "--batch", batch); err != nil {
		b.note("TF.js wasm failed: %v", err)
	}
	// The plain-JS backend takes seconds per pass at H=256: fewer repetitions.
	minReps := "3"
	if h > 128 {
		minReps = "1"
	}
	if err := b.cmd(nil, "bench", ps.node, "tfjs_mlp.js", "--model", ps.model(h), "--backends", "cpu",
		"--budget", budget, "--batch", batch, "--min-reps", minReps, "--warmup", "1"); err != nil {
		b.note("TF.js cpu failed: %v", err)
	}
	return nil
}

// endToEnd is (d): sampling with a 20-step midpoint solve, natively and under Node.
func (b *bench) endToEnd(cfg config, ps *peers, h int) error {
	batch := strconv.Itoa(cfg.batch)
	// A wasm solve at H=256 takes tens of seconds: fewer repetitions.
	minReps := "2"
	if h > 128 {
		minReps = "1"
	}
	if err := b.cmd(nil, "", ps.goBins["native"], "-model", ps.model(h), "-what", "sample", "-threads", "1,2",
		"-budget", ps.budgetArg, "-batch", batch, "-min-reps", minReps, "-warmup", "1", "-peer", "go-native"); err != nil {
		return err
	}
	return b.cmd(nil, "", ps.node, ps.execJS, ps.goBins["wasm"], "-model", ps.model(h), "-what", "sample",
		"-budget", ps.budgetArg, "-batch", batch, "-min-reps", minReps, "-warmup", "1", "-peer", "go-wasm")
}

// train is (c): the train module's trainbench, gotch against PyTorch eager, when the
// train module builds here.
func (b *bench) train(cfg config, haveTorch bool) []map[string]any {
	if cfg.trainRounds <= 0 {
		return nil
	}
	fmt.Fprintln(b.log, "==> training: train/cmd/trainbench (gotch trainer vs PyTorch eager)")
	if _, err := os.Stat("train/cmd/trainbench"); err != nil {
		b.note("training benchmark skipped: train/cmd/trainbench is missing")
		return nil
	}
	if !haveTorch {
		b.note("training benchmark skipped: the train module does not build here (see above)")
		return nil
	}
	script, _ := filepath.Abs("../shared/bench/pytorch_train.py")
	fmnist, _ := filepath.Abs("../shared/bench/pytorch_fmnist.py")
	var o []byte
	// The MLP of the 2-D models, then the image U-Net (pytorch_fmnist.py's, C = 16, batch 64).
	for _, args := range [][]string{{"-pytorch", script}, {"-images", "-pytorch-fmnist", fmnist, "-steps", "40", "-warmup", "5"}} {
		c := exec.Command("go", append([]string{"run", "./cmd/trainbench", "-rounds", strconv.Itoa(cfg.trainRounds)}, args...)...)
		c.Dir = "train"
		var stderr bytes.Buffer
		c.Stderr = &stderr
		out, err := c.Output()
		if err != nil {
			b.note("training benchmark %v failed: %v: %s", args[0], err, lastLines(stderr.String(), 3))
		}
		o = append(o, out...)
	}
	var train []map[string]any
	for _, line := range strings.Split(string(o), "\n") {
		line = strings.TrimSpace(line)
		fmt.Fprintln(b.log, "  "+line)
		var m map[string]any
		if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &m) == nil {
			train = append(train, m)
		}
	}
	return train
}

// get returns the best result for a peer.
func (b *bench) get(peer, kernel, what string, h, threads int) (benchnet.Result, bool) {
	for _, r := range b.best {
		if r.Peer == peer && (kernel == "" || r.Kernel == kernel || strings.HasPrefix(r.Kernel, kernel)) &&
			r.What == what && r.Hidden == h && r.Threads == threads {
			return r, true
		}
	}
	return benchnet.Result{}, false
}

// ms is the figure a ratio compares: CPU time with one thread (steadier on a shared
// machine), wall time with two.
func ms(r benchnet.Result) float64 {
	if r.Threads == 1 && r.BestCPUMs > 0 {
		return r.BestCPUMs
	}
	return r.BestMs
}

func rv(slow, fast benchnet.Result) float64 { return ms(slow) / ms(fast) }

func ratio(slow, fast benchnet.Result) string { return fmt.Sprintf("%.2f×", rv(slow, fast)) }

func status(v, target float64) string {
	if v >= target {
		return "met"
	}
	return "**not met**"
}

// report is RESULTS.md: the settings cfg measured with, the ratios, every figure and
// the notes.
func (b *bench) report(cfg config, train []map[string]any, took time.Duration) string {
	var w strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&w, format, args...) }
	reportHeader(p, cfg, took)
	b.ratioSection(p, cfg.hidden, train)
	b.forwardSection(p, cfg)
	b.endToEndSection(p, cfg)
	b.webSection(p, cfg)
	trainSection(p, train)
	b.webTrainSection(p)
	if len(b.notes) > 0 {
		p("\n## Notes\n\n")
		for _, n := range b.notes {
			p("- %s\n", n)
		}
	}
	again := fmt.Sprintf("-rounds %d", cfg.rounds)
	if cfg.batch != defaultBatch {
		again += fmt.Sprintf(" -batch %d", cfg.batch)
	}
	p("\nReproduce: `make bench` (or `go run ./bench/cmd/benchall %s`).\n", again)
	return w.String()
}

// reportHeader says when, where and how the figures were measured.
func reportHeader(p func(string, ...any), cfg config, took time.Duration) {
	p("# flowmatch benchmarks\n\n")
	p("Written by `make bench` (bench/cmd/benchall) on %s, in %s. One run on one machine: every\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), took.Round(time.Second))
	p("ratio below compares figures measured in the same run. Each peer ran in alternating rounds\n")
	p("(%d) and keeps its fastest repetition; before timing, each reproduced the float64 reference\n", cfg.rounds)
	p("of the same network on a check batch within %g·(1+|v|).\n\n", benchnet.Tolerance)
	cpu := cpuModel()
	p("Machine: %s, %d cores (GOMAXPROCS %d), load average %s (shared with other work: absolute\n",
		cpu, runtime.NumCPU(), runtime.GOMAXPROCS(0), benchnet.LoadAvg())
	p("figures are noisy, ratios less so). %s; Node %s.\n\n", runtime.Version(), output("node", "--version"))
	p("Network: MLP (x, t) → v, 3 → H → H → H → 2, SiLU, batch %d, float32. GFLOP/s count 2 flops\n", cfg.batch)
	p("per weight (multiply-add) per particle, as TF.js's script does. \"asm\" is the sampler's\n")
	p("default build: the assembly kernel on amd64 (AVX-512 where the CPU has AVX-512 F and VL, else\n")
	p("AVX2/FMA, else the pure-Go fallback; this machine's: %s), scalar\n", sampler.KernelName())
	p("WebAssembly kernel under js/wasm; \"simd\" the WebAssembly SIMD kernel (js/wasm built with\n")
	p("%s and GOEXPERIMENT=simd); \"gosimd\" the amd64 kernel in Go SIMD (simd/archsimd, same toolchain,\n", simdToolchain)
	p("build tag gosimd); \"purego\" is the portable Go kernel (build tag purego).\n\n")
}

// ratioSection is the table of ratios, (a) to (f), with the targets.
func (b *bench) ratioSection(p func(string, ...any), hs []int, train []map[string]any) {
	p("## Ratios (throughput of Go over the peer; > 1 means Go is faster)\n\n")
	p("One-thread ratios compare process CPU time (fastest repetition), which the other work on\n")
	p("the machine does not inflate; two-thread ratios compare wall time. Both figures of every\n")
	p("peer are in the tables below.\n\n")
	p("| | what | H | ratio | target |\n|---|---|---|---|---|\n")
	b.nativeRatioRows(p, hs)
	b.nodeRatioRows(p, hs)
	trainRatioRows(p, train)
	b.webRatioRows(p, hs)
	b.webTrainRatioRows(p)
	p("\nTwo-thread figures need a second core free of other work, which this shared machine seldom\n")
	p("had; libtorch's OpenMP and OpenBLAS worker threads spin-wait on each other and lose the most\n")
	p("when one of them is descheduled, so the two-thread ratios say more about the load than about\n")
	p("scaling.\n")
	b.webRatioNote(p)
	p("\n")
}

// nativeRatioRows are (a)'s ratios: Go native against libtorch.
func (b *bench) nativeRatioRows(p func(string, ...any), hs []int) {
	for _, h := range hs {
		for _, th := range []int{1, 2} {
			g, ok1 := b.get("go-native", "asm", "forward", h, th)
			t, ok2 := b.get("libtorch", "", "forward", h, th)
			if ok1 && ok2 {
				tgt := ""
				if h == 64 && th == 1 {
					tgt = "≥ 0.5× (" + status(rv(t, g), 0.5) + ")"
				}
				p("| (a) | Go native vs libtorch, %d thread%s | %d | %s | %s |\n", th, plural(th), h, ratio(t, g), tgt)
			}
			if gs, ok := b.get("go-native", "gosimd", "forward", h, th); ok {
				if ok2 {
					p("| (a) | Go native, Go SIMD kernel, vs libtorch, %d thread%s | %d | %s | |\n", th, plural(th), h, ratio(t, gs))
				}
				if ok1 {
					p("| (a) | Go SIMD kernel vs the assembly kernel, %d thread%s | %d | %s | ≥ 0.95× to drop the assembly |\n",
						th, plural(th), h, ratio(g, gs))
				}
			}
			if gp, ok := b.get("go-native", "purego", "forward", h, th); ok && ok2 {
				p("| (a) | Go native, pure-Go kernel, vs libtorch, %d thread%s | %d | %s | |\n", th, plural(th), h, ratio(t, gp))
			}
		}
	}
}

// nodeRatioRows are (b)'s ratios: Go under Node against TF.js.
func (b *bench) nodeRatioRows(p func(string, ...any), hs []int) {
	for _, h := range hs {
		for _, peer := range []struct {
			name   string
			target float64
		}{{"tfjs-wasm", 0.25}, {"tfjs-cpu", 4}} {
			t, ok := b.get(peer.name, "", "forward", h, 1)
			if !ok {
				continue
			}
			for _, k := range []string{"asm", "simd", "purego"} {
				g, ok := b.get("go-wasm", k, "forward", h, 1)
				if !ok {
					continue
				}
				tgt := ""
				if h == 64 && k == "asm" {
					tgt = fmt.Sprintf("≥ %g× (%s)", peer.target, status(rv(t, g), peer.target))
				}
				kn := map[string]string{"asm": "wasm kernel", "simd": "SIMD wasm kernel", "purego": "pure-Go kernel"}[k]
				p("| (b) | Go wasm (%s) vs %s, 1 thread | %d | %s | %s |\n", kn, peer.name, h, ratio(t, g), tgt)
			}
		}
	}
}

// trainRatioRows are (c)'s ratios: training steps/s against PyTorch eager.
func trainRatioRows(p func(string, ...any), train []map[string]any) {
	var py, plain, full, pyUNet, goUNet float64
	for _, m := range train {
		v, _ := m["steps_per_s"].(float64)
		switch m["peer"] {
		case "pytorch-eager-unet":
			pyUNet = max(pyUNet, v)
		case "gotch-unet":
			goUNet = max(goUNet, v)
		case "pytorch-eager":
			py = max(py, v)
		case "gotch-plain":
			plain = max(plain, v)
		case "gotch-full":
			full = max(full, v)
		}
	}
	if py > 0 && plain > 0 {
		p("| (c) | training steps/s, gotch (Adam, as the script) vs PyTorch eager | 256 | %.2f× | ≥ 1.0× (%s) |\n", plain/py, status(plain/py, 1))
		p("| (c) | training steps/s, gotch full recipe (AdamW, clip, EMA) vs PyTorch eager | 256 | %.2f× | |\n", full/py)
	} else {
		p("| (c) | training steps/s vs PyTorch eager | 256 | not measured (see notes) | ≥ 1.0× |\n")
	}
	if pyUNet > 0 && goUNet > 0 {
		p("| (c) | image U-Net training steps/s (C = 16, batch 64), gotch vs PyTorch eager | | %.2f× | ≥ 1.0× (%s) |\n", goUNet/pyUNet, status(goUNet/pyUNet, 1))
	} else {
		p("| (c) | image U-Net training steps/s vs PyTorch eager | | not measured (see notes) | ≥ 1.0× |\n")
	}
}

// forwardSection is the table of every forward-pass figure.
func (b *bench) forwardSection(p func(string, ...any), cfg config) {
	p("## Forward pass, batch %d\n\n", cfg.batch)
	p("Rates (evals/s, GFLOP/s) are at the fastest CPU-time repetition with one thread, at the\n")
	p("fastest wall-time repetition with two.\n\n")
	p("| peer | kernel | H | threads | best ms | best CPU ms | mean ms | particle evals/s | GFLOP/s |\n|---|---|---|---|---|---|---|---|---|\n")
	var rows []benchnet.Result
	for _, r := range b.best {
		if r.What == "forward" {
			rows = append(rows, r)
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		a, c := rows[i], rows[j]
		if a.Hidden != c.Hidden {
			return a.Hidden < c.Hidden
		}
		if a.Peer != c.Peer {
			if po, pc := peerOrder(a.Peer), peerOrder(c.Peer); po != pc {
				return po < pc
			}
			return a.Peer < c.Peer // the browser's peers share an order: keep the table stable
		}
		if a.Kernel != c.Kernel {
			return a.Kernel < c.Kernel
		}
		return a.Threads < c.Threads
	})
	for _, r := range rows {
		sec := ms(r) / 1e3
		p("| %s | %s | %d | %d | %.2f | %.2f | %.2f | %s | %.2f |\n", r.Peer, r.Kernel, r.Hidden, r.Threads, r.BestMs, r.BestCPUMs,
			r.MeanMs, benchnet.Human(float64(r.Batch)/sec), 2*float64(macs(r.Hidden))*float64(r.Batch)/sec/1e9)
	}
}

// endToEndSection is (d)'s table.
func (b *bench) endToEndSection(p func(string, ...any), cfg config) {
	p("\n## (d) End to end: %d points, 20-step midpoint (40 network evaluations)\n\n", cfg.batch)
	p("| where | H | threads | best ms | best CPU ms | mean ms |\n|---|---|---|---|---|---|\n")
	for _, h := range cfg.hidden {
		for _, c := range []struct {
			peer string
			th   int
		}{{"go-native", 1}, {"go-native", 2}, {"go-wasm", 1}} {
			if r, ok := b.get(c.peer, "asm", "sample20-midpoint", h, c.th); ok {
				p("| %s | %d | %d | %.1f | %.1f | %.1f |\n", strings.TrimPrefix(c.peer, "go-"), h, c.th, r.BestMs, r.BestCPUMs, r.MeanMs)
			}
		}
	}
}

// trainSection is (c)'s table, when it ran.
func trainSection(p func(string, ...any), train []map[string]any) {
	if len(train) == 0 {
		return
	}
	p("\n## (c) Training (train/cmd/trainbench: MLP 3×256, batch 1024; -images: the U-Net, C = 16, batch 64; CPU)\n\n")
	p("| peer | steps/s | threads |\n|---|---|---|\n")
	for _, m := range train {
		if m["peer"] == nil {
			continue
		}
		p("| %v | %v | %v |\n", m["peer"], m["steps_per_s"], m["threads"])
	}
}

// macs is the multiply-adds of one evaluation of the benchmark network at width h.
func macs(h int) int { return (&benchnet.Model{Dim: 2, Hidden: []int{h, h, h}}).MACs() }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func peerOrder(p string) int {
	switch p {
	case "go-native":
		return 0
	case "libtorch":
		return 1
	case "go-wasm":
		return 2
	case "tfjs-wasm":
		return 3
	}
	return 4
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "model name") {
			if i := strings.Index(line, ":"); i >= 0 {
				return strings.TrimSpace(line[i+1:])
			}
		}
	}
	return runtime.GOARCH
}
