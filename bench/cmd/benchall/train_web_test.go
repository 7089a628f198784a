package main

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowmatch/flowmatch/bench/benchnet"
)

// benchweb -train's lines as it prints them (the training speeds of both peers, then the
// quality of the Go worker's model files), at its default network and batch.
const webTrainOut = `{"peer":"browser-go-worker","kernel":"simd","what":"train","hidden":[64,64,64],"batch":256,"steps":3000,"seconds":12.5,"steps_per_s":240,"loss":1.0312}
{"peer":"browser-tfjs-wasm","kernel":"tfjs 4.22.0","what":"train","hidden":[64,64,64],"batch":256,"steps":1000,"seconds":5,"steps_per_s":200,"loss":1.04}
{"peer":"browser-go-worker","kernel":"simd","what":"train-quality","hidden":[64,64,64],"batch":256,"steps":3000,"seconds":12.5,"steps_per_s":0,"loss":1.0312,"seconds_to_1_3x":7.5,"seconds_to_2x":2.04,"best_ratio":1.1234,"best_step":2900,"w2_floor":0.0651}
`

// webTrainBench is a bench whose commands print out, recording what they were run with.
func webTrainBench(out string, args *[]string) *bench {
	b := &bench{best: map[string]benchnet.Result{}, log: io.Discard}
	b.exec = func(env []string, dir, name string, a ...string) ([]byte, error) {
		*args = append([]string{name}, a...)
		return []byte("benchweb -train: progress on stdout is not a result\n" + out), nil
	}
	return b
}

// (f)'s lines reach the report: the steps/s ratio with its goal, the seconds to 1.3× the
// floor, and section (f) with both peers, the network, batch and both floor times.
func TestWebTrainReport(t *testing.T) {
	var args []string
	b := webTrainBench(webTrainOut, &args)
	if err := b.measureWebTrain("/d/benchweb", "/root"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"/d/benchweb", "-root", "/root", "-train", "-q", "-table=false"}; !slices.Equal(args, want) {
		t.Errorf("benchweb ran as %q, want %q (its defaults)", args, want)
	}
	b.webTrain.browser = "Chromium 1.2.3"
	r := b.report(config{rounds: 1, batch: 10000, hidden: []int{64}}, nil, time.Second)
	for _, want := range []string{
		"| (f) | browser training: Go (gotrain, SIMD worker) vs TF.js wasm, steps/s | 64×64×64 | 1.20× | ≥ 1.0× (met) |",
		"| (f) | browser training: seconds of Go training to 1.3× the i.i.d. W2 floor on moons | 64×64×64 | 7.5 s of training | |",
		"## (f) Training in the browser (headless Chromium, same page)",
		"Chromium 1.2.3, headless;",
		"hidden widths 64×64×64 and SiLU,\nbatch 256,",
		"| browser-go-worker | simd | 3000 | 12.50 | 240.0 | 1.0312 | 1.20× |",
		"| browser-tfjs-wasm | tfjs 4.22.0 | 1000 | 5.00 | 200.0 | 1.0400 | 1.00× |",
		"floor (metrics.W2IIDFloor: what a model indistinguishable from the data scores) is 0.0651",
		"2× the floor:\n**2.0 s of training**; 1.3× the floor: **7.5 s of training**; the best model file, at step 2900, is 1.12× the floor.",
	} {
		if !strings.Contains(r, want) {
			t.Errorf("the report lacks %q:\n%s", want, r)
		}
	}
	// (f) follows the ratio table's other rows and comes last of the sections.
	if i, j := strings.Index(r, "| (f) |"), strings.Index(r, "## (f)"); i < 0 || j < strings.Index(r, "## (d)") {
		t.Errorf("(f)'s row at %d, its section at %d:\n%s", i, j, r)
	}
}

// Goals not reached say so with the run's steps, and a slower Go worker misses its goal.
func TestWebTrainNotReached(t *testing.T) {
	out := strings.NewReplacer(`"steps_per_s":240`, `"steps_per_s":150`, `"seconds_to_1_3x":7.5`, `"seconds_to_1_3x":-1`,
		`"seconds_to_2x":2.04`, `"seconds_to_2x":-1`).Replace(webTrainOut)
	var args []string
	b := webTrainBench(out, &args)
	if err := b.measureWebTrain("benchweb", "."); err != nil {
		t.Fatal(err)
	}
	r := b.report(config{rounds: 1, batch: 10000, hidden: []int{64}}, nil, time.Second)
	for _, want := range []string{
		"| (f) | browser training: Go (gotrain, SIMD worker) vs TF.js wasm, steps/s | 64×64×64 | 0.75× | ≥ 1.0× (**not met**) |",
		"| (f) | browser training: seconds of Go training to 1.3× the i.i.d. W2 floor on moons | 64×64×64 | not reached in 3,000 steps | |",
		"2× the floor:\n**not reached in 3,000 steps**; 1.3× the floor: **not reached in 3,000 steps**;",
	} {
		if !strings.Contains(r, want) {
			t.Errorf("the report lacks %q:\n%s", want, r)
		}
	}
}

// Output without both peers and the quality line is a failure, not a half row; a skipped
// (f) says why in its row and in the notes, and has no section.
func TestWebTrainMissing(t *testing.T) {
	var args []string
	b := webTrainBench(strings.SplitAfter(webTrainOut, "\n")[0], &args)
	err := b.measureWebTrain("benchweb", ".")
	if err == nil || !strings.Contains(err.Error(), "printed 1 result lines") || b.webTrain.ran {
		t.Fatalf("one line of three: err %v, ran %v", err, b.webTrain.ran)
	}
	b = &bench{best: map[string]benchnet.Result{}, log: io.Discard}
	b.runWebTrain(config{webTrain: false}, t.TempDir(), true)
	r := b.report(config{rounds: 1, batch: 10000, hidden: []int{64}}, nil, time.Second)
	for _, want := range []string{
		"| (f) | browser training: Go (gotrain, SIMD worker) vs TF.js wasm, steps/s | | not measured: benchall -web-train=false | ≥ 1.0× |",
		"- browser training benchmark (f) skipped: benchall -web-train=false",
	} {
		if !strings.Contains(r, want) {
			t.Errorf("the report lacks %q:\n%s", want, r)
		}
	}
	if strings.Contains(r, "## (f)") {
		t.Errorf("a skipped (f) has a section:\n%s", r)
	}
}

func TestWebTrainFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{{nil, true}, {[]string{"-web-train=false"}, false}} {
		cfg, err := parseConfig(c.args)
		if err != nil || cfg.webTrain != c.want {
			t.Errorf("parseConfig(%q): webTrain %v, err %v; want %v", c.args, cfg.webTrain, err, c.want)
		}
	}
}
