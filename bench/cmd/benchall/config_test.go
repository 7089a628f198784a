package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowmatch/flowmatch/bench/benchnet"
)

func TestParseConfig(t *testing.T) {
	c, err := parseConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.rounds != 2 || c.trainRounds != 1 || c.budget != 1500*time.Millisecond || c.out != "bench/RESULTS.md" ||
		c.dir != "build/bench" || !slices.Equal(c.hidden, []int{64, 256}) || c.batch != defaultBatch || !c.web {
		t.Errorf("defaults: %+v", c)
	}
	c, err = parseConfig([]string{"-batch", "500", "-hidden", "16, 32", "-rounds", "1", "-web=false", "-out", ""})
	if err != nil {
		t.Fatal(err)
	}
	if c.batch != 500 || !slices.Equal(c.hidden, []int{16, 32}) || c.rounds != 1 || c.web || c.out != "" {
		t.Errorf("flags: %+v", c)
	}
	for _, bad := range [][]string{{"-batch", "0"}, {"-hidden", "64,x"}, {"-hidden", ""}, {"-budget", "0s"}, {"-rounds", "-1"}, {"extra"}} {
		if _, err := parseConfig(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// -batch reaches every peer that measures: each command of a round carries it, and the
// report states it.
func TestBatchDrivesMeasurement(t *testing.T) {
	cfg, err := parseConfig([]string{"-batch", "777", "-hidden", "64"})
	if err != nil {
		t.Fatal(err)
	}
	var cmds [][]string
	b := &bench{best: map[string]benchnet.Result{}, log: io.Discard}
	b.exec = func(env []string, dir, name string, args ...string) ([]byte, error) {
		cmds = append(cmds, append([]string{name}, args...))
		// A peer answers with a result of the batch it was given.
		n := ""
		for i, a := range args {
			if (a == "-batch" || a == "--batch") && i+1 < len(args) {
				n = args[i+1]
			}
		}
		return []byte(fmt.Sprintf(`{"peer":"p%d","kernel":"k","what":"forward","hidden":64,"threads":1,"batch":%s,"best_ms":1,"mean_ms":1}`, len(cmds), n)), nil
	}
	ps := &peers{
		model:    func(h int) string { return fmt.Sprintf("h%d.json", h) },
		goBins:   map[string]string{"native": "g", "native-purego": "gp", "wasm": "g.wasm", "wasm-purego": "gp.wasm"},
		torchBin: "torch", haveTF: true, node: "node", execJS: "exec.js", budgetArg: "1s",
	}
	if err := b.round(cfg, ps, 64); err != nil {
		t.Fatal(err)
	}
	// Go native ×2, libtorch ×2, Go wasm ×2, TF.js ×2, end to end ×2.
	if len(cmds) != 10 {
		t.Fatalf("%d commands: %q", len(cmds), cmds)
	}
	for _, c := range cmds {
		i := slices.IndexFunc(c, func(a string) bool { return a == "-batch" || a == "--batch" })
		if i < 0 || i+1 >= len(c) || c[i+1] != "777" {
			t.Errorf("command without -batch 777: %q", c)
		}
	}
	for _, r := range b.best {
		if r.Batch != 777 {
			t.Errorf("a result of batch %d", r.Batch)
		}
	}
	r := b.report(cfg, nil, time.Second)
	for _, want := range []string{"SiLU, batch 777,", "## Forward pass, batch 777", "## (d) End to end: 777 points", "benchall -rounds 2 -batch 777`"} {
		if !strings.Contains(r, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}
