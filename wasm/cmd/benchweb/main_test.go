//go:build !js

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFlags(t *testing.T) {
	c, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.hidden) != 2 || c.hidden[0] != 64 || c.hidden[1] != 256 || len(c.workers) != 3 || c.batch != 10000 || c.steps != 20 ||
		len(c.scalarWorkers) != 1 || c.scalarWorkers[0] != 2 || c.explorerModel != filepath.Join("weights", "moons-ot.safetensors") || c.explorerWorkers != 2 {
		t.Errorf("defaults: %+v", c)
	}
	// No scalar workers reach the page as an empty list: it iterates over them (null
	// stopped it with "cfg.scalarWorkers is not iterable").
	if c, err := parseFlags([]string{"-scalar-workers", "", "-explorer-model", ""}); err != nil || c.scalarWorkers == nil || len(c.scalarWorkers) != 0 || c.explorerModel != "" {
		t.Errorf("-scalar-workers '' -explorer-model '': %+v, %v", c, err)
	}
	for _, args := range [][]string{
		{"-hidden", "64,x"}, {"-hidden", "64,64"}, {"-hidden", ""}, {"-workers", "0"}, {"-batch", "0"},
		{"-steps", "0"}, {"-rounds", "0"}, {"-budget", "-1s"}, {"-timeout", "0s"}, {"-tfjs-cpu-max", "-1"},
		{"-scalar-workers", "0"}, {"-scalar-workers", "2,2"}, {"-explorer-workers", "0"},
		{"-nope"}, {"extra"},
	} {
		_, err := parseFlags(args)
		var u usageError
		if !errors.As(err, &u) {
			t.Errorf("%q: got %v, want a usage error", args, err)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: the message %q is not one line", args, err)
		}
	}
}

// The whole benchmark, small, when chromium, the worker (make www) and TF.js (npm ci
// --prefix bench) are at hand.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chromium")
	}
	root, _ := filepath.Abs(filepath.Join("..", "..", ".."))
	if _, err := findChromium(""); err != nil {
		t.Skip(err)
	}
	for _, f := range []string{"www/worker.wasm", "www/worker-simd.wasm", "www/worker.js", "www/wasm_exec.js",
		"bench/node_modules/@tensorflow/tfjs-backend-wasm", "weights/moons-ot.safetensors"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Skipf("%s is missing (make www; npm ci --prefix bench)", f)
		}
	}
	var out bytes.Buffer
	c := &config{root: root, www: filepath.Join(root, "www"), tfjs: filepath.Join(root, "bench", "node_modules", "@tensorflow"),
		hidden: []int{16}, workers: []int{1, 3}, scalarWorkers: []int{2}, batch: 301, steps: 3, rounds: 1, tfjsCPUMax: 16,
		explorerModel: filepath.Join("weights", "moons-ot.safetensors"), explorerWorkers: 2,
		budget: 0, timeout: 3 * time.Minute, quiet: true, out: &out}
	rs, err := run(c)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range rs {
		kernel := r.Kernel // the Go builds' kernel; TF.js's names its version
		if r.Peer != "browser-go-workers" {
			kernel = "-"
		}
		got[fmt.Sprintf("%s/%s/%s/%d", r.Peer, kernel, r.What, r.Threads)] = true
		wantH := 16
		if r.Model != "" {
			wantH = 128 // the shipped moons model
		}
		if r.BestMs <= 0 || r.EvalsPerS <= 0 || r.Hidden != wantH || r.Batch != 301 {
			t.Errorf("result %+v", r)
		}
		if r.Peer == "browser-go-workers" && r.BootMs <= 0 {
			t.Errorf("no boot time in %+v", r)
		}
	}
	for _, want := range []string{"browser-tfjs-wasm/-/forward/1", "browser-tfjs-cpu/-/forward/1",
		"browser-go-workers/simd/sample3-midpoint/1", "browser-go-workers/simd/sample3-midpoint/3",
		"browser-go-workers/asm/sample3-midpoint/2", "browser-go-workers/simd/explorer-sample3-midpoint/2"} {
		if !got[want] {
			t.Errorf("no %s result among %v", want, got)
		}
	}
	if n := strings.Count(out.String(), "\n"); n != len(rs) {
		t.Errorf("%d lines printed for %d results:\n%s", n, len(rs), out.String())
	}
}
