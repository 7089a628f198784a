package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowmatch/flowmatch/bench/benchnet"
)

// The browser benchmark's lines (as wasm/cmd/benchweb prints them) reach the report:
// the (e) ratio rows of both builds with the goal on the SIMD build over 2 workers, the
// best of two rounds, the boot times, the explorer figure and the core count.
func TestWebReport(t *testing.T) {
	lines := `{"peer":"browser-tfjs-wasm","kernel":"tfjs 4.22.0 wasm SIMD","what":"forward","hidden":64,"threads":1,"batch":10000,"reps":9,"best_ms":20,"mean_ms":25,"evals_per_s":500000,"gflops":8.5,"max_err":1e-7}
{"peer":"browser-tfjs-wasm","kernel":"tfjs 4.22.0 wasm SIMD","what":"forward","hidden":64,"threads":1,"batch":10000,"reps":9,"best_ms":25,"mean_ms":30,"evals_per_s":400000,"gflops":6.8,"max_err":1e-7}
{"peer":"browser-go-workers","kernel":"simd","what":"sample20-midpoint","hidden":64,"threads":1,"batch":10000,"reps":2,"best_ms":1600,"mean_ms":1700,"evals_per_s":250000,"gflops":4.2,"max_err":3e-7,"boot_ms":300}
{"peer":"browser-go-workers","kernel":"simd","what":"sample20-midpoint","hidden":64,"threads":2,"batch":10000,"reps":2,"best_ms":800,"mean_ms":900,"evals_per_s":500000,"gflops":8.5,"max_err":3e-7,"boot_ms":700}
{"peer":"browser-go-workers","kernel":"simd","what":"sample20-midpoint","hidden":64,"threads":2,"batch":10000,"reps":2,"best_ms":400,"mean_ms":450,"evals_per_s":1000000,"gflops":17,"max_err":3e-7,"boot_ms":900}
{"peer":"browser-go-workers","kernel":"asm","what":"sample20-midpoint","hidden":64,"threads":2,"batch":10000,"reps":2,"best_ms":1000,"mean_ms":1100,"evals_per_s":400000,"gflops":6.8,"max_err":3e-7,"boot_ms":250}
{"peer":"browser-go-workers","kernel":"simd","what":"explorer-sample20-midpoint","model":"moons-ot","hidden":128,"threads":2,"batch":10000,"reps":3,"best_ms":900,"mean_ms":1000,"evals_per_s":444444,"gflops":15,"max_err":2e-7,"boot_ms":200}
{"peer":"browser-go-workers","kernel":"simd","what":"explorer-sample20-midpoint","model":"moons-ot","hidden":128,"threads":2,"batch":10000,"reps":1,"best_ms":2200,"mean_ms":2200,"evals_per_s":181818,"gflops":6,"max_err":2e-7,"boot_ms":150}
`
	path := filepath.Join(t.TempDir(), "lines")
	if err := os.WriteFile(path, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	b := &bench{best: map[string]benchnet.Result{}, log: io.Discard}
	if err := b.cmd(nil, "", "cat", path); err != nil {
		t.Fatal(err)
	}
	b.web.ran, b.web.browser = true, "Chromium 1.2.3"
	r := b.report(config{rounds: 2, batch: 10000, hidden: []int{64}}, nil, time.Second)
	for _, want := range []string{
		"| (e) | browser: Go over 1 Web Worker (SIMD build) vs TF.js wasm, 1 thread | 64 | 0.50× |  |",
		"| (e) | browser: Go over 2 Web Workers (SIMD build) vs TF.js wasm, 1 thread | 64 | 2.00× | ≥ 1.6× (met) |",
		"| (e) | browser: Go over 2 Web Workers (scalar build) vs TF.js wasm, 1 thread | 64 | 0.80× |  |",
		// The mean of all four solves: (3 × 1000 + 2200) / 4 ms.
		"| (e) | browser: explorer, 10,000 particles of moons-ot through 20 midpoint steps to t = 1, 2 Web Workers (SIMD build), mean of 4 | 128 | 1.30 s | ≤ 2 s (met) |",
		"## (e) In the browser (headless Chromium, same page)",
		"| 64 | browser-go-workers | simd | 2 | 400.0 | 450.0 | 1.00 M | 17.00 | 700 | 2.00× |",
		"| 64 | browser-go-workers | asm | 2 | 1000.0 | 1100.0 | 400.0 k | 6.80 | 250 | 0.80× |",
		"| 64 | browser-tfjs-wasm | tfjs | 1 | 20.0 | 25.0 | 500.0 k | 8.50 |  | 1.00× |",
		"**1.30 s** on average over 4 solves, 0.90 s at best; the workers booted\nin 150 ms.",
		"(runtime.NumCPU())",
	} {
		if !strings.Contains(r, want) {
			t.Errorf("the report lacks %q:\n%s", want, r)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 10000: "10,000", 1234567: "1,234,567", -1000: "-1,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
