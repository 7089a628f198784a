# bench/: `make bench` measures the pure-Go sampler against its peers in one run on this
# machine and writes the table of ratios to bench/RESULTS.md (bench/cmd/benchall):
#   (a) forward pass natively vs libtorch through gotch (train/cmd/benchforward), 1 and 2 threads
#   (b) the same Go code under Node (js/wasm) vs TF.js 4.22 wasm and plain-JS backends
#   (c) training steps/s vs PyTorch eager (train/cmd/trainbench, as bench-train)
#   (d) end to end: 10,000 points through a 20-step midpoint solve, natively and in wasm
#   (e) in headless Chromium, one page: that solve by the Go sampler over 1, 2, 4 Web Workers
#       of the SIMD build (www/worker-simd.wasm) and 2 of the scalar one (www/worker.wasm),
#       both built by make www, vs TF.js wasm on one thread; and the explorer's figure,
#       10,000 particles of weights/moons-ot.safetensors through 20 midpoint steps over 2
#       workers (wasm/cmd/benchweb; skipped with a note when chromium is missing)
#   (f) in headless Chromium: training, the pure-Go trainer (gotrain) in a Web Worker of the
#       SIMD build vs a TF.js wasm loop of the same MLP, batch and optimiser: steps/s (goal
#       ≥ 1.0×) and the seconds of training to 1.3× and 2× the i.i.d. W2 floor on moons
#       (wasm/cmd/benchweb -train at its defaults; benchall -web-train=false skips it)
# Every peer runs the same network and first reproduces its float64 reference.
#   make bench-sampler BENCH_ARGS='-rounds 3'      more rounds (default 2)
#   make bench-quick                               H=64 only, one round, no training
#   make bench-web                                 (e) alone, about 3 minutes; prints its table
#   make bench-web BENCH_WEB_ARGS='-hidden 64 -workers 1,2 -scalar-workers ""'

.PHONY: bench-sampler bench-quick bench-node-deps bench-web

BENCH_STEPS += bench-sampler
BENCH_ARGS ?=

# TF.js 4.22 (core, cpu and wasm backends), pinned by bench/package-lock.json; npm ci
# reruns only when the lock file changes.
bench-node-deps: bench/node_modules/.package-lock.json
bench/node_modules/.package-lock.json: bench/package.json bench/package-lock.json
	@echo "==> npm ci in bench/ (TF.js 4.22 peers)"
	npm ci --prefix bench --no-audit --no-fund --loglevel=error

bench-sampler: setup-gotch bench-node-deps www
	@dpkg-query -W -f='$${Status}' python3-torch 2>/dev/null | grep "install ok installed" >/dev/null || \
		{ echo "installing python3-torch for the PyTorch baseline"; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-torch; }
	@echo "==> bench-sampler: Go sampler vs libtorch, TF.js wasm/cpu; training vs PyTorch; end to end; in the browser (several minutes)"
	$(GO) run ./bench/cmd/benchall $(BENCH_ARGS)

bench-quick: setup-gotch bench-node-deps www
	$(GO) run ./bench/cmd/benchall -rounds 1 -hidden 64 -train-rounds 0 -web-train=false -out build/bench/RESULTS-quick.md $(BENCH_ARGS)

# (e) alone: the JSON result lines go to build/bench/web.jsonl, the table to the terminal.
BENCH_WEB_ARGS ?=
bench-web: bench-node-deps www
	@mkdir -p build/bench
	@echo "==> bench-web: Go over 1, 2, 4 Web Workers (SIMD and scalar builds) vs TF.js wasm, and the explorer's 10,000 particles, in headless Chromium (results: build/bench/web.jsonl)"
	cd wasm && $(GO) run ./cmd/benchweb -root .. $(BENCH_WEB_ARGS) > ../build/bench/web.jsonl
