package readme

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The documents whose commands are the contract, relative to the repository root.
var docs = []string{"README.md", "www/README.md", "weights/FORMAT.md", "results/README.md"}

// A clause is what the test does with one command a document shows: run is a bash
// script run from the repository root ($SCRATCH is a fresh folder for its outputs), or
// why says why it is not run. check, if set, looks at what the script printed.
type clause struct {
	shown   string
	run     string
	why     string
	timeout time.Duration
	check   func(t *testing.T, out string)
}

// contract lists every command the documents show, in the order they are run: the
// build first, then the commands that use its binary.
var contract = []clause{
	{shown: "make test", why: "this test is one of its steps"},
	{shown: "make build", timeout: 20 * time.Minute,
		run: `make build && bin/flowmatch -h && bin/flowmatch train -h`,
		check: func(t *testing.T, out string) {
			if !regexp.MustCompile(`(?m)^\s+train\s`).MatchString(out) {
				t.Errorf("bin/flowmatch -h lists no train command after make build:\n%s", tail(out))
			}
		}},
	{shown: "bin/flowmatch train -data moons -path ot -steps 20000 -o build/moons-ot.safetensors",
		run:     `bin/flowmatch train -data moons -path ot -steps 200 -hidden 32 -o "$SCRATCH/moons-ot.safetensors" && bin/flowmatch inspect "$SCRATCH/moons-ot.safetensors"`,
		timeout: 5 * time.Minute},
	{shown: "go run ./cmd/toydata -data moons -n 20000 -o build/moons.csv",
		run: `go run ./cmd/toydata -data moons -n 2000 -o "$SCRATCH/m.csv" && test "$(wc -l < "$SCRATCH/m.csv")" = 2001 && head -1 "$SCRATCH/m.csv" | grep -qx x0,x1`},
	{shown: "bin/flowmatch train -data build/moons.csv -hidden 128 -steps 6000 -o build/own.safetensors",
		run: ownModel + ` && bin/flowmatch inspect -json "$SCRATCH/own.safetensors" | grep '"sha256"' >/dev/null`, timeout: 5 * time.Minute},
	{shown: "bin/flowmatch sample -model build/own.safetensors -n 1000 -o build/samples.csv",
		run: ownModel + ` && bin/flowmatch sample -model "$SCRATCH/own.safetensors" -n 100 -o "$SCRATCH/s.csv" && head -1 "$SCRATCH/s.csv" | grep -qx x0,x1 &&
bin/flowmatch sample -model "$SCRATCH/own.safetensors" -n 100 -o "$SCRATCH/s.npy" && test "$(head -c 6 "$SCRATCH/s.npy" | tail -c 5)" = NUMPY`, timeout: 5 * time.Minute},
	{shown: "bin/flowmatch eval -model build/own.safetensors -data build/moons.csv",
		run: ownModel + ` && bin/flowmatch eval -model "$SCRATCH/own.safetensors" -data "$SCRATCH/m.csv" -n 100 -reps 1 -nll-steps 2 -json | grep held >/dev/null`, timeout: 5 * time.Minute},
	{shown: "bin/flowmatch train -engine go -data moons -path ot -steps 20000 -o build/moons-ot-go.safetensors",
		run:     `bin/flowmatch train -engine go -data moons -path ot -steps 200 -hidden 32 -o "$SCRATCH/go.safetensors" && bin/flowmatch inspect "$SCRATCH/go.safetensors" | grep 'engine.*go' >/dev/null`,
		timeout: 5 * time.Minute},
	{shown: "cd train && go test ./trainer -run GoTrainerMatchesTorch", why: "a test of the train module, which make test's test-train step runs"},
	{shown: "make zoo", why: "retrains all twenty shipped models: about 80 minutes on 2 cores (the training itself is tested by the train module's tests and the clause above)"},
	{shown: "make demo", timeout: 15 * time.Minute, run: "SERVE make demo DEMO_ADDR=127.0.0.1:0"},
	{shown: "make www", timeout: 15 * time.Minute,
		run: `make www && test -s www/main.wasm && test -s www/worker.wasm && test -s www/models/manifest.json`},
	{shown: "make desktop", timeout: 15 * time.Minute,
		run: `make desktop && env -u DISPLAY -u WAYLAND_DISPLAY bin/flowmatch-explorer -h && ! env -u DISPLAY -u WAYLAND_DISPLAY bin/flowmatch-explorer 2>"$SCRATCH/err" && cat "$SCRATCH/err" && test "$(wc -l < "$SCRATCH/err")" = 1`},
	{shown: "make results", why: "evaluates every shipped model: several minutes; its command, flowmatch report, runs below on two models"},
	{shown: "report [-models DIR] [-o DIR]",
		run: `mkdir "$SCRATCH/models" && cp weights/moons-ot.safetensors weights/8gaussians-vp.safetensors "$SCRATCH/models/" &&
bin/flowmatch report -models "$SCRATCH/models" -o "$SCRATCH/results" -sweep-n 50 && test -s "$SCRATCH/results/README.md"`,
		timeout: 10 * time.Minute},
	{shown: "flowmatch report", run: `bin/flowmatch report -h`},
	{shown: "make bench", why: "runs every peer benchmark for about 20 minutes; make bench-quick is its short form, and the benchmark programs' own tests run in make test"},
	{shown: "make bench-train", why: "times training against PyTorch for minutes; a measurement, not a check"},
	{shown: "make bench-web", why: "times the browser sampler against TF.js for minutes; a measurement, not a check"},
	{shown: "make test-web", why: "a step of make test, which runs it before this test"},
	{shown: "go vet", why: "names a step of make test"},
	{shown: "GOOS=js GOARCH=wasm go test -exec=$(go env GOROOT)/lib/wasm/go_js_wasm_exec", why: "make test runs it (the test-wasm step)"},
	{shown: "bin/flowmatch inspect weights/moons-ot.safetensors", run: `bin/flowmatch inspect weights/moons-ot.safetensors`},
	{shown: "inspect F", run: `bin/flowmatch inspect -json weights/moons-vp.safetensors`},
	{shown: "bin/flowmatch eval -model weights/X.safetensors -solver euler -nfe 2",
		run: `bin/flowmatch eval -model weights/moons-ot-otcfm.safetensors -solver euler -nfe 2 -n 300`, timeout: 3 * time.Minute},
	{shown: "eval -model F [-data FILE] [-n N] [-solver S] [-nfe K] [-json]",
		run: `bin/flowmatch eval -model weights/8gaussians-ot.safetensors -n 300 -json`, timeout: 3 * time.Minute},
	{shown: "flowmatch eval", run: `bin/flowmatch eval -h`},
	{shown: "sample -model F -n N -solver S -nfe K -seed S -o OUT.csv",
		run: `bin/flowmatch sample -model weights/moons-ot.safetensors -n 500 -solver rk4 -nfe 8 -seed 3 -o "$SCRATCH/s.csv" && test "$(wc -l < "$SCRATCH/s.csv")" = 501 &&
bin/flowmatch sample -model weights/moons-ot.safetensors -n 500 -density -o "$SCRATCH/s.png" -trajectories "$SCRATCH/t.png" && test -s "$SCRATCH/s.png" && test -s "$SCRATCH/t.png"`},
	{shown: "encode -model F -in POINTS.csv -solver S -nfe K -o NOISE.csv",
		run: `bin/flowmatch sample -model weights/moons-ot.safetensors -n 200 -solver dopri5 -rtol 1e-7 -atol 1e-7 -o "$SCRATCH/s.csv" &&
bin/flowmatch encode -model weights/moons-ot.safetensors -in "$SCRATCH/s.csv" -solver dopri5 -rtol 1e-7 -atol 1e-7 -o "$SCRATCH/z.csv" && test "$(wc -l < "$SCRATCH/z.csv")" = 201`},
	{shown: "loglik -model F -in POINTS.csv [-solver S] [-nfe K] [-div D] -o LL.csv",
		run: `bin/flowmatch sample -model weights/moons-ot.safetensors -n 200 -o "$SCRATCH/s.csv" &&
bin/flowmatch loglik -model weights/moons-ot.safetensors -in "$SCRATCH/s.csv" -o "$SCRATCH/ll.csv" && test "$(head -1 "$SCRATCH/ll.csv")" = loglik && test "$(wc -l < "$SCRATCH/ll.csv")" = 201`},
	{shown: "serve [-addr A] [-dir D]", timeout: 15 * time.Minute, run: "SERVE make www >/dev/null && bin/flowmatch serve -addr 127.0.0.1:0 -dir www"},
	{shown: "flowmatch serve", run: `bin/flowmatch serve -h`},
	{shown: "go build ./cmd/flowmatch",
		run: `go build -o "$SCRATCH/flowmatch" ./cmd/flowmatch && ! "$SCRATCH/flowmatch" train 2>"$SCRATCH/err" && cat "$SCRATCH/err" && grep -q "make build" "$SCRATCH/err"`},
	{shown: "bin/flowmatch import -preset torchcfm -data moons moons-cfm.safetensors -o moons-cfm-flowmatch.safetensors",
		// The README's five Python lines, run with stand-ins for the safetensors and torchcfm
		// packages (PyPI is not reachable here; installed packages win over them).
		run: `root=$PWD && sed -n '/^from safetensors.torch import save_file$/,/^save_file(/p' README.md > "$SCRATCH/export.py" && test "$(wc -l < "$SCRATCH/export.py")" = 5 &&
cd "$SCRATCH" && PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$root/train/internal/importcheck/testdata/pyshim" PYTHONDONTWRITEBYTECODE=1 ${FLOWMATCH_PYTHON:-/usr/bin/python3} export.py &&
"$root/bin/flowmatch" import -preset torchcfm -data moons moons-cfm.safetensors -o moons-cfm-flowmatch.safetensors &&
"$root/bin/flowmatch" sample -model moons-cfm-flowmatch.safetensors -n 10 -o - >/dev/null &&
mkdir site && cp moons-cfm-flowmatch.safetensors site/ && (cd "$root/wasm" && go run ./cmd/manifest -dir "$SCRATCH/site") | grep "1 models"`},
	{shown: "import [-preset P] IN.safetensors -o OUT.safetensors", run: `bin/flowmatch import -h | grep -- -flip-time`},
	{shown: "flowmatch help <command>", run: `bin/flowmatch help sample | grep "usage: flowmatch sample"`},
	{shown: "bin/flowmatch <command> -h",
		run: `for c in $(bin/flowmatch -h | awk '/^commands:/{on=1; next} on && NF {print $1}'); do bin/flowmatch $c -h >/dev/null || { echo "$c -h failed"; exit 1; }; done`},
	{shown: "flowmatch inspect", run: `bin/flowmatch inspect weights/fashion-classifier.safetensors | grep classifier >/dev/null`},
	{shown: "make zoo-images", why: "retrains the shipped image model: 38,000 steps, about 100 minutes on 2 cores; the clause of the train command below trains the same recipe for 5 steps, and the train module's image tests check it"},
	{shown: "bin/flowmatch train -data fashion-mnist -o F",
		run:     `bin/flowmatch train -data fashion-mnist -channels 8 -batch 8 -steps 5 -ckpt-every 0 -o "$SCRATCH/f.safetensors" && bin/flowmatch inspect "$SCRATCH/f.safetensors" | grep "arch unet" >/dev/null`,
		timeout: 5 * time.Minute},
	{shown: "bin/flowmatch inspect weights/fashion-unet.safetensors", run: `bin/flowmatch inspect weights/fashion-unet.safetensors | grep 'multiply-adds a sample' >/dev/null`},
	{shown: "bin/flowmatch sample -model weights/fashion-unet.safetensors -class all -n 100 -o build/fashion.png",
		run: `bin/flowmatch sample -model weights/fashion-unet.safetensors -class all -n 20 -nfe 2 -o "$SCRATCH/g.png" && test "$(head -c 4 "$SCRATCH/g.png" | tail -c 3)" = PNG`},
	{shown: "bin/flowmatch sample -model weights/fashion-unet.safetensors -class sneaker -guidance 2 -n 16 -scale 4 -o build/sneakers.png",
		run: `bin/flowmatch sample -model weights/fashion-unet.safetensors -class sneaker -guidance 2 -n 4 -nfe 2 -scale 4 -o "$SCRATCH/s.png" && test -s "$SCRATCH/s.png"`},
	{shown: "bin/flowmatch sample -model weights/fashion-unet.safetensors -n 1000 -o build/x.npy -labels build/y.npy",
		run: `bin/flowmatch sample -model weights/fashion-unet.safetensors -n 20 -nfe 2 -o "$SCRATCH/x.npy" -labels "$SCRATCH/y.npy" && head -c 128 "$SCRATCH/x.npy" | grep -aq "'shape': (20, 28, 28)" && head -c 128 "$SCRATCH/y.npy" | grep -aq "'shape': (20,)"`},
	{shown: "bin/flowmatch eval -model weights/fashion-unet.safetensors -n 2000",
		run: `bin/flowmatch eval -model weights/fashion-unet.safetensors -n 20 -nfe 2 -guidance 0,1 | grep "floor: 20 real" >/dev/null`, timeout: 5 * time.Minute},
	{shown: "bin/flowmatch eval -model weights/fashion-unet.safetensors -n 1000", why: "the clause of the -n 2000 form above runs the same command at -n 20"},
	{shown: "eval -model IMAGES.safetensors [-n N] [-guidance 0,1,2]",
		run: `bin/flowmatch eval -model weights/fashion-unet.safetensors -n 10 -nfe 2 -guidance 1 -json | grep '"fd"' >/dev/null`, timeout: 5 * time.Minute},
	{shown: "flowmatch eval -images x.npy -labels y.npy",
		run: `bin/flowmatch sample -model weights/fashion-unet.safetensors -n 20 -nfe 2 -o "$SCRATCH/x.npy" -labels "$SCRATCH/y.npy" &&
bin/flowmatch eval -images "$SCRATCH/x.npy" -labels "$SCRATCH/y.npy" | grep "floor: 20 real" >/dev/null`, timeout: 5 * time.Minute},
	{shown: "eval -images X.npy -labels Y.npy", why: "the command above, with other file names"},
	{shown: "cd train && go test ./trainer -run TestImageRunExport", why: "a test of the train module, which make test's test-train step runs"},
	{shown: "cd train && go run ./cmd/trainclassifier -o ../weights/fashion-classifier.safetensors",
		run:     `cd train && go run ./cmd/trainclassifier -epochs 1 -limit 1280 -o "$SCRATCH/c.safetensors" && test -s "$SCRATCH/c.safetensors"`,
		timeout: 10 * time.Minute},
	{shown: "cd wasm && FLOWMATCH_E2E=1 go test -run 'TestBrowserImages$' -v ./e2e/", why: "one test of make test-web's end-to-end step, which make test runs"},
	{shown: "make bench-train-images", why: "times the U-Net's training against PyTorch for minutes; a measurement, not a check"},
	{shown: "go test ./sampler -run '^$' -bench AVX512 -cpu 1", why: "a benchmark of the AVX-512 kernel against the AVX2 one (it skips without AVX-512); make test runs the sampler's tests, TestAVX512BitIdentical among them"},
	{shown: `GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd GOOS=js GOARCH=wasm go test -exec="$(GOTOOLCHAIN=go1.27.3 go env GOROOT)/lib/wasm/go_js_wasm_exec" ./unet -run '^$' -bench 'Guided8$'`,
		run:     `GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd GOOS=js GOARCH=wasm go test -exec="$(GOTOOLCHAIN=go1.27.3 go env GOROOT)/lib/wasm/go_js_wasm_exec" ./unet -run '^$' -bench 'Guided8$' -benchtime 1x > "$SCRATCH/b.txt" && grep -q Guided8 "$SCRATCH/b.txt"`,
		timeout: 10 * time.Minute},
	{shown: "go test ./unet -run '^$' -bench 'Guided8$' -cpu 1", run: `go test ./unet -run '^$' -bench 'Guided8$' -cpu 1 -benchtime 1x > "$SCRATCH/b.txt" && grep -q Guided8 "$SCRATCH/b.txt"`, timeout: 5 * time.Minute},
	{shown: "cd train && go run ./cmd/zooeval -seeds 8 ../weights/*.safetensors",
		run: `cd train && go run ./cmd/zooeval -seeds 1 -n 300 ../weights/moons-ot.safetensors`, timeout: 10 * time.Minute},
}

// ownModel makes a small model of a CSV of moons in $SCRATCH, for the clauses of the
// README's own-data commands.
const ownModel = `go run ./cmd/toydata -data moons -n 2000 -o "$SCRATCH/m.csv" &&
bin/flowmatch train -data "$SCRATCH/m.csv" -steps 50 -hidden 16 -ckpt-every 0 -o "$SCRATCH/own.safetensors"`

// commandRE matches what reads as a command a user would type.
// Environment settings may come first (GOOS=js go test …); alone they are not one.
var commandRE = regexp.MustCompile(`^([A-Z_]+=\S+\s+)*(make|bin/flowmatch(-explorer)?|flowmatch|go|cd|python3|npm|scripts/\S+)\s`)

// subcommandRE matches a subcommand as the README's command table shows it.
var subcommandRE = regexp.MustCompile(`^(train|sample|eval|inspect|report|serve|version|import|encode|loglik)\s+[-\[A-Z]`)

// shownCommands returns the commands a Markdown document shows: the lines of its shell
// code blocks, and the inline code spans that read as commands.
func shownCommands(md string) []string {
	var out []string
	add := func(s string) {
		s = strings.Join(strings.Fields(s), " ")
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	inFence, shell := false, false
	var prose strings.Builder
	sc := bufio.NewScanner(strings.NewReader(md))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			lang := strings.TrimPrefix(strings.TrimSpace(line), "```")
			inFence, shell = !inFence, slices.Contains([]string{"", "sh", "bash", "shell", "console"}, lang)
			continue
		}
		if inFence {
			if !shell {
				continue
			}
			if i := strings.Index(line, " #"); i >= 0 {
				line = line[:i]
			}
			if commandRE.MatchString(strings.TrimSpace(line) + " ") {
				add(line)
			}
			continue
		}
		table := strings.HasPrefix(strings.TrimSpace(line), "|")
		for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(line, -1) {
			span := strings.TrimSpace(m[1])
			if commandRE.MatchString(span) || (table && subcommandRE.MatchString(span)) {
				add(span)
			}
		}
		prose.WriteString(line + " ")
	}
	// Spans broken across lines.
	for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(prose.String(), -1) {
		if span := strings.TrimSpace(m[1]); commandRE.MatchString(span) && !strings.Contains(span, "  ") {
			add(span)
		}
	}
	return out
}

func repoRoot(t *testing.T) string {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestContractCoversDocs needs no build: it fails when a document shows a command that
// has no clause, or a clause names a command no document shows.
func TestContractCoversDocs(t *testing.T) {
	root := repoRoot(t)
	var shown []string
	for _, d := range docs {
		b, err := os.ReadFile(filepath.Join(root, d))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range shownCommands(string(b)) {
			if !slices.Contains(shown, c) {
				shown = append(shown, c)
			}
			if !slices.ContainsFunc(contract, func(k clause) bool { return k.shown == c }) {
				t.Errorf("%s shows `%s`, which readme/contract_test.go neither runs nor excuses: add a clause", d, c)
			}
		}
	}
	for _, k := range contract {
		if !slices.Contains(shown, k.shown) {
			t.Errorf("the clause for `%s` names a command no document shows any more: remove or update it", k.shown)
		}
		if (k.run == "") == (k.why == "") {
			t.Errorf("the clause for `%s` must either run it or say why not", k.shown)
		}
	}
}

func TestShownCommands(t *testing.T) {
	md := "Run `make demo` then `bin/flowmatch\ninspect x.safetensors`; the binary is `bin/flowmatch`.\n" +
		"```sh\nmake build   # everything\n# a comment\nbin/flowmatch train -o y\n```\n```json\n{\"make\": 1}\n```\n" +
		"| `sample -model F` | draws |\n| `-o` | a flag |\nprose `sample -model G` is not a table\n"
	got := shownCommands(md)
	want := []string{"make demo", "make build", "bin/flowmatch train -o y", "sample -model F", "bin/flowmatch inspect x.safetensors"}
	if !slices.Equal(got, want) {
		t.Fatalf("shownCommands = %q, want %q", got, want)
	}
}

// TestREADME runs every clause. It takes minutes (make build, make www, make desktop,
// a short training run), so it runs only when asked.
func TestREADME(t *testing.T) {
	if os.Getenv("FLOWMATCH_README_TEST") != "1" {
		t.Skip("set FLOWMATCH_README_TEST=1 (make test-readme does) to run the README's commands")
	}
	root := repoRoot(t)
	before := treeState(t, root)
	for _, k := range contract {
		if k.run == "" {
			t.Logf("not run: `%s`: %s", k.shown, k.why)
			continue
		}
		t.Run(k.shown, func(t *testing.T) {
			timeout := k.timeout
			if timeout == 0 {
				timeout = 2 * time.Minute
			}
			scratch := t.TempDir()
			var out string
			var err error
			if rest, ok := strings.CutPrefix(k.run, "SERVE "); ok {
				out, err = runServer(t, root, scratch, rest, timeout)
			} else {
				out, err = runScript(root, scratch, k.run, timeout)
			}
			if err != nil {
				t.Fatalf("`%s` (run as: %s) failed: %v\n%s", k.shown, k.run, err, tail(out))
			}
			for _, bad := range []string{"panic:", "goroutine ", "SIGSEGV"} {
				if strings.Contains(out, bad) {
					t.Fatalf("`%s` printed %q:\n%s", k.shown, bad, tail(out))
				}
			}
			if k.check != nil {
				k.check(t, out)
			}
		})
	}
	if after := treeState(t, root); after != before {
		t.Errorf("the README's commands changed tracked files:\n%s", diffLines(before, after))
	}
}

func runScript(root, scratch, script string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "SCRATCH="+scratch)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	b, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("still running after %v", timeout)
	}
	return string(b), err
}

// runServer starts a script that ends in a server printing "serving DIR at URL", fetches
// the page, the WebAssembly and the model list from it, and stops the server.
func runServer(t *testing.T, root, scratch, script string, timeout time.Duration) (string, error) {
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "SCRATCH="+scratch)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return "", err
	}
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
		pw.Close()
	}()
	var log strings.Builder
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			log.WriteString(line + "\n")
			if m := regexp.MustCompile(`serving .* at (http://\S+)`).FindStringSubmatch(line); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
	}()
	var base string
	select {
	case base = <-urls:
	case <-time.After(timeout):
		return log.String(), fmt.Errorf("no \"serving … at URL\" line within %v", timeout)
	}
	for _, p := range []string{"", "index.html", "main.wasm", "worker.wasm", "wasm_exec.js", "models/manifest.json"} {
		resp, err := http.Get(strings.TrimSuffix(base, "/") + "/" + p)
		if err != nil {
			return log.String(), err
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n == 0 {
			return log.String(), fmt.Errorf("GET /%s: %s, %d bytes", p, resp.Status, n)
		}
		t.Logf("GET /%s: %d bytes", p, n)
	}
	return log.String(), nil
}

// treeState is what git sees of the tracked files: their status and a hash of the diff.
func treeState(t *testing.T, root string) string {
	run := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = root
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %s: %v", strings.Join(args, " "), err)
		}
		return string(b)
	}
	status := run("status", "--porcelain", "--untracked-files=no")
	diff := sha256.Sum256([]byte(run("diff", "HEAD", "--binary")))
	return fmt.Sprintf("%s(diff %x)", status, diff[:8])
}

func diffLines(a, b string) string {
	var out []string
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for _, l := range bl {
		if !slices.Contains(al, l) {
			out = append(out, "now: "+l)
		}
	}
	for _, l := range al {
		if !slices.Contains(bl, l) {
			out = append(out, "was: "+l)
		}
	}
	return strings.Join(out, "\n")
}

// tail keeps the end of a long output.
func tail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}
