//go:build !js

package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestTrainFlags(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	tc := trainFlags(fs)
	if err := fs.Parse([]string{"-train", "-train-steps", "50", "-train-hidden", "8,8"}); err != nil {
		t.Fatal(err)
	}
	if !tc.on || tc.steps != 50 || tc.hidden != "8,8" || tc.batch != 256 {
		t.Errorf("flags %+v", tc)
	}
	bad := *tc
	bad.lr = 0
	if _, err := runTrain(&config{timeout: time.Minute}, &bad); err == nil {
		t.Error("a zero learning rate was taken")
	}
}

// The training benchmark, small, when chromium, the SIMD worker (make www) and TF.js
// (npm ci --prefix bench) are at hand. $FLOWMATCH_WWW names another built site;
// $FLOWMATCH_BENCH_TRAIN_STEPS runs it at full size (its table goes to the log).
func TestTrainBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chromium")
	}
	root, _ := filepath.Abs(filepath.Join("..", "..", ".."))
	www := os.Getenv("FLOWMATCH_WWW")
	if www == "" {
		www = filepath.Join(root, "www")
	}
	if _, err := findChromium(""); err != nil {
		t.Skip(err)
	}
	for _, f := range []string{filepath.Join(www, "worker-simd.wasm"), filepath.Join(root, "bench/node_modules/@tensorflow/tfjs-backend-wasm")} {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("%s is missing (make www; npm ci --prefix bench)", f)
		}
	}
	tc := &trainConfig{on: true, steps: 60, tfjsSteps: 30, batch: 64, hidden: "16,16", lr: 3e-3, points: 300, sampleRows: 200}
	if n, err := strconv.Atoi(os.Getenv("FLOWMATCH_BENCH_TRAIN_STEPS")); err == nil && n > 0 {
		tc = &trainConfig{on: true, steps: n, tfjsSteps: min(n, 1000), batch: 256, hidden: "64,64,64", lr: 3e-3, points: 2000, sampleRows: 2000}
		if lr, err := strconv.ParseFloat(os.Getenv("FLOWMATCH_BENCH_TRAIN_LR"), 64); err == nil {
			tc.lr = lr
		}
	}
	var out bytes.Buffer
	c := &config{root: root, www: www, timeout: 20 * time.Minute, quiet: true, table: false, out: &out}
	lines, err := runTrain(c, tc)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(trainTable(lines, map[string]any{"browser": "headless Chromium"}))
	t.Log(out.String())
	got := map[string]bool{}
	for _, l := range lines {
		got[l.Peer+"/"+l.What] = true
		if l.What == "train" && (l.Steps < 1 || !(l.StepsPerS > 0) || !(l.Loss > 0)) {
			t.Errorf("line %+v", l)
		}
		if l.What == "train-quality" && (l.Steps != tc.steps || !(l.Floor > 0) || !(l.BestRatio > 0)) {
			t.Errorf("quality line %+v", l)
		}
	}
	for _, k := range []string{"browser-go-worker/train", "browser-tfjs-wasm/train", "browser-go-worker/train-quality"} {
		if !got[k] {
			t.Errorf("no %s line", k)
		}
	}
}
