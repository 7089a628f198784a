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
// the (e) ratio rows, the best of two rounds, the boot times and the core count.
func TestWebReport(t *testing.T) {
	lines := `{"peer":"browser-tfjs-wasm","kernel":"tfjs 4.22.0 wasm SIMD","what":"forward","hidden":64,"threads":1,"batch":10000,"reps":9,"best_ms":20,"mean_ms":25,"evals_per_s":500000,"gflops":8.5,"max_err":1e-7}
{"peer":"browser-tfjs-wasm","kernel":"tfjs 4.22.0 wasm SIMD","what":"forward","hidden":64,"threads":1,"batch":10000,"reps":9,"best_ms":25,"mean_ms":30,"evals_per_s":400000,"gflops":6.8,"max_err":1e-7}
{"peer":"browser-go-workers","kernel":"asm","what":"sample20-midpoint","hidden":64,"threads":1,"batch":10000,"reps":2,"best_ms":1600,"mean_ms":1700,"evals_per_s":250000,"gflops":4.2,"max_err":3e-7,"boot_ms":300}
{"peer":"browser-go-workers","kernel":"asm","what":"sample20-midpoint","hidden":64,"threads":4,"batch":10000,"reps":2,"best_ms":800,"mean_ms":900,"evals_per_s":500000,"gflops":8.5,"max_err":3e-7,"boot_ms":700}
{"peer":"browser-go-workers","kernel":"asm","what":"sample20-midpoint","hidden":64,"threads":4,"batch":10000,"reps":2,"best_ms":640,"mean_ms":700,"evals_per_s":625000,"gflops":10.6,"max_err":3e-7,"boot_ms":900}
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
		"| (e) | browser: Go over 1 Web Worker vs TF.js wasm, 1 thread | 64 | 0.50× |",
		"| (e) | browser: Go over 4 Web Workers vs TF.js wasm, 1 thread | 64 | 1.25× | ahead (> 1×) with workers on a 4-core machine",
		"## (e) In the browser (headless Chromium, same page)",
		"| 64 | browser-go-workers | 4 | 640.0 | 700.0 | 625.0 k | 10.60 | 700 | 1.25× |",
		"| 64 | browser-tfjs-wasm | 1 | 20.0 | 25.0 | 500.0 k | 8.50 |  | 1.00× |",
		"(runtime.NumCPU())",
	} {
		if !strings.Contains(r, want) {
			t.Errorf("the report lacks %q:\n%s", want, r)
		}
	}
}
