// Command trainbench times the gotch training loop against PyTorch eager running the
// seed's loop on the same libtorch, in one run, and prints the ratio (make bench-train).
//
// Both train the same MLP (3 → 256 → 256 → 256 → 2, SiLU) on two-moons batches of
// 1,024 on the CPU. The PyTorch script (../shared/bench/pytorch_train.py) uses plain
// Adam; the Go side is timed twice: "plain" (Adam, no clipping, no EMA, as the script)
// and "full" (the trainer's default recipe: AdamW, warmup + cosine, clipping, EMA).
// Runs alternate between the two peers, and each peer's best round counts, so that a
// burst of load from other processes on the machine hurts neither side more.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"

	"github.com/flowmatch/flowmatch/train/internal/tt"
	"github.com/flowmatch/flowmatch/train/trainer"
)

func main() {
	script := flag.String("pytorch", "../shared/bench/pytorch_train.py", "PyTorch baseline script")
	python := flag.String("python", "/usr/bin/python3", "Python with torch")
	hidden := flag.Int("hidden", 256, "hidden width")
	layers := flag.Int("layers", 3, "hidden layers")
	batch := flag.Int("batch", 1024, "batch size")
	steps := flag.Int("steps", 300, "timed steps per round")
	warmup := flag.Int("warmup", 20, "untimed steps per round")
	rounds := flag.Int("rounds", 3, "rounds per peer")
	device := flag.String("device", "cpu", "device for the Go trainer: cpu, cuda, auto (PyTorch runs on the CPU)")
	threads := flag.Int("threads", 0, "libtorch intra-op threads for both peers (0: each one's default)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the Go side to this file")
	images := flag.Bool("images", false, "time the image U-Net (pytorch_fmnist.py's, -channels C, -batch default 64) against that script's --bench")
	channels := flag.Int("channels", 16, "-images: the U-Net's base width")
	fmnist := flag.String("pytorch-fmnist", "../shared/bench/pytorch_fmnist.py", "-images: PyTorch's image script")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "trainbench:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}

	if *images {
		benchImages(*python, *fmnist, *channels, imageBatch(*batch), *steps, *warmup, *rounds, *threads, *device)
		return
	}
	o := mlpBench{hidden: *hidden, layers: *layers, batch: *batch, steps: *steps, warmup: *warmup, rounds: *rounds, threads: *threads, device: *device}
	if err := o.run(*python, *script); err != nil {
		fmt.Fprintln(os.Stderr, "trainbench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// mlpBench is the MLP comparison's settings: pytorch_train.py's against the Go
// trainer's, with and without the full recipe (clipping, EMA, warmup).
type mlpBench struct {
	hidden, layers, batch, steps, warmup, rounds, threads int
	device                                                string
}

// run times o.rounds rounds of each peer, printing a JSON line per run and the best of
// each at the end.
func (o mlpBench) run(python, script string) error {
	cfg := trainer.Default()
	cfg.Data, cfg.Hidden, cfg.Layers, cfg.Batch = "moons", o.hidden, o.layers, o.batch
	cfg.Steps = o.warmup + o.steps
	cfg.Device = o.device
	if o.threads > 0 {
		tt.SetNumThreads(o.threads)
	}
	plain := cfg
	plain.Clip, plain.EMA, plain.Warmup, plain.LR = 0, 0, 0, 1e-3

	var bestPy, bestPlain, bestFull float64
	havePy := true
	if _, err := os.Stat(script); err != nil {
		fmt.Printf("{\"note\": %q}\n", "PyTorch baseline script not found at "+script+"; timing the Go trainer alone")
		havePy = false
	}
	for r := 0; r < o.rounds; r++ {
		if havePy {
			v, line, err := runPy(python, script, o.hidden, o.layers, o.batch, o.steps, o.warmup, o.threads)
			if err != nil {
				fmt.Fprintln(os.Stderr, "trainbench: pytorch:", err)
				havePy = false
			} else {
				fmt.Println(line)
				bestPy = max(bestPy, v)
			}
		}
		for _, c := range []struct {
			name string
			cfg  trainer.Config
			best *float64
		}{{"plain", plain, &bestPlain}, {"full", cfg, &bestFull}} {
			res, err := trainer.Bench(c.cfg, o.warmup, o.steps)
			if err != nil {
				return err
			}
			out, _ := json.Marshal(map[string]any{"peer": "gotch-" + c.name, "device": res.Device, "threads": res.Threads, "steps_per_s": round2(res.StepsPerSec),
				"libtorch_calls_per_step": res.CallsPerStep, "gotch_tensors_per_step": res.TensorsPerStep,
				"final_loss": round2(res.Loss), "hidden": o.hidden, "layers": o.layers, "batch": o.batch, "steps": o.steps})
			fmt.Println(string(out))
			*c.best = max(*c.best, res.StepsPerSec)
		}
	}
	if havePy && bestPy > 0 {
		fmt.Printf("bench-train: best of %d rounds: gotch %.1f steps/s plain (%.2fx PyTorch), %.1f steps/s full recipe (%.2fx); PyTorch eager %.1f steps/s\n",
			o.rounds, bestPlain, bestPlain/bestPy, bestFull, bestFull/bestPy, bestPy)
	} else {
		fmt.Printf("bench-train: best of %d rounds: gotch %.1f steps/s plain, %.1f steps/s full recipe (no PyTorch baseline)\n", o.rounds, bestPlain, bestFull)
	}
	return nil
}

func runPy(python, script string, hidden, layers, batch, steps, warmup, threads int) (float64, string, error) {
	cmd := exec.Command(python, script, "--hidden", strconv.Itoa(hidden), "--layers", strconv.Itoa(layers),
		"--batch", strconv.Itoa(batch), "--steps", strconv.Itoa(steps), "--warmup", strconv.Itoa(warmup),
		"--threads", strconv.Itoa(threads))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return 0, "", fmt.Errorf("%v: %s", err, bytes.TrimSpace(errb.Bytes()))
	}
	line := string(bytes.TrimSpace(out.Bytes()))
	var v struct {
		StepsPerS float64 `json:"steps_per_s"`
	}
	if err := json.Unmarshal([]byte(line), &v); err != nil {
		return 0, "", fmt.Errorf("unexpected output %q", line)
	}
	return v.StepsPerS, line, nil
}

func round2(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }

// imageBatch is -batch when given, else the image script's default of 64.
func imageBatch(batch int) int {
	b := 64
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "batch" {
			b = batch
		}
	})
	return b
}

// benchImages times the U-Net's training step (the trainer's image recipe) against
// pytorch_fmnist.py --bench on the same architecture and batch, alternating rounds,
// best of each.
func benchImages(python, script string, channels, batch, steps, warmup, rounds, threads int, device string) {
	cfg := trainer.Default()
	cfg.Data, cfg.Channels, cfg.Batch, cfg.Device = trainer.DataFashion, channels, batch, device
	cfg.LR, cfg.MinLRFrac, cfg.Steps = 1e-3, 0.1, warmup+steps
	var bestPy, bestGo float64
	for r := 0; r < rounds; r++ {
		cmd := exec.Command(python, script, "--bench", "--channels", strconv.Itoa(channels), "--batch", strconv.Itoa(batch),
			"--bench-steps", strconv.Itoa(steps), "--threads", strconv.Itoa(threads))
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		var v map[string]any
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "trainbench: pytorch_fmnist: %v: %s\n", err, bytes.TrimSpace(errb.Bytes()))
		} else if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &v); err == nil {
			v["peer"] = "pytorch-eager-unet"
			line, _ := json.Marshal(v)
			fmt.Println(string(line))
			sps, _ := v["steps_per_s"].(float64)
			bestPy = max(bestPy, sps)
		}
		res, err := trainer.Bench(cfg, warmup, steps)
		if err != nil {
			fmt.Fprintln(os.Stderr, "trainbench:", err)
			os.Exit(1)
		}
		line, _ := json.Marshal(map[string]any{"peer": "gotch-unet", "device": res.Device, "threads": res.Threads,
			"steps_per_s": round2(res.StepsPerSec), "libtorch_calls_per_step": res.CallsPerStep,
			"final_loss": round2(res.Loss), "channels": channels, "batch": batch, "steps": steps})
		fmt.Println(string(line))
		bestGo = max(bestGo, res.StepsPerSec)
	}
	if bestPy > 0 {
		fmt.Printf("bench-train-images: best of %d rounds: gotch %.2f steps/s, PyTorch eager %.2f steps/s: %.2fx (U-Net C=%d, batch %d)\n",
			rounds, bestGo, bestPy, bestGo/bestPy, channels, batch)
	} else {
		fmt.Printf("bench-train-images: best of %d rounds: gotch %.2f steps/s (no PyTorch baseline)\n", rounds, bestGo)
	}
}
