# wasm/ and www/: the browser demo (an Ebiten app compiled to WebAssembly), the same app
# as a desktop program, and their tests.
#   make www       build the static site in www/ (main.wasm, worker.wasm, their SIMD builds
#                  main-simd.wasm and worker-simd.wasm, wasm_exec.js, models/)
#   make demo      build it and serve it at http://localhost:8080 (flowmatch serve)
#   make desktop   build bin/flowmatch-explorer (cgo + X11/GL headers)
# The Ebiten code is its own Go module (wasm/go.mod), so the root module stays cgo-free.

.PHONY: www desktop test-web web-deps desktop-deps

TEST_STEPS += test-web

# Where make www takes the models from, and which one the page shows first (empty: the
# explorer's rule, explorer.DefaultModel, the same as the desktop program's).
WWW_MODELS_FROM ?= weights
WWW_DEFAULT_MODEL ?=
# The WebAssembly SIMD build (www/main-simd.wasm, www/worker-simd.wasm): sampler's SIMD
# kernel needs Go 1.27 and GOEXPERIMENT=simd (SIMD_TOOLCHAIN, in the Makefile).
SIMD_GO ?= $(GO)
# Screenshots of the end-to-end tests.
E2E_OUT ?= build/e2e

www: go-toolchain
	@echo "==> www/main.wasm (GOOS=js GOARCH=wasm, $(GOTOOLCHAIN), the scalar kernel) and www/wasm_exec.js"
	cd wasm && GOEXPERIMENT= GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags="-s -w" -o ../www/main.wasm .
	@echo "==> www/worker.wasm: the Web Worker that shares the particles (wasm/worker, started by www/worker.js)"
	cd wasm && GOEXPERIMENT= GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags="-s -w" -o ../www/worker.wasm ./worker
	@echo "==> www/main-simd.wasm and www/worker-simd.wasm: the same with the WebAssembly SIMD kernel"
	@echo "    ($(SIMD_GO) with GOTOOLCHAIN=$(SIMD_TOOLCHAIN) GOEXPERIMENT=simd; the page loads them where the browser has SIMD)"
	cd wasm && GOTOOLCHAIN=$(SIMD_TOOLCHAIN) GOEXPERIMENT=simd GOOS=js GOARCH=wasm $(SIMD_GO) build -trimpath -ldflags="-s -w" -o ../www/main-simd.wasm .
	cd wasm && GOTOOLCHAIN=$(SIMD_TOOLCHAIN) GOEXPERIMENT=simd GOOS=js GOARCH=wasm $(SIMD_GO) build -trimpath -ldflags="-s -w" -o ../www/worker-simd.wasm ./worker
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" www/wasm_exec.js
	@# One wasm_exec.js serves both builds as long as the two toolchains ship the same one.
	@cmp -s www/wasm_exec.js "$$(GOTOOLCHAIN=$(SIMD_TOOLCHAIN) $(SIMD_GO) env GOROOT)/lib/wasm/wasm_exec.js" || \
		{ echo "wasm_exec.js of $$($(GO) env GOVERSION) and $(SIMD_TOOLCHAIN) differ: the SIMD build needs its own (see www/README.md)"; exit 1; }
	@echo "==> www/models/ from $(WWW_MODELS_FROM)/*.safetensors (the 2-D models and the image model, fashion-unet, for the Images mode)"
	rm -rf www/models && mkdir -p www/models
	@shopt -s nullglob; files=($(WWW_MODELS_FROM)/*.safetensors); \
	if [ $${#files[@]} -eq 0 ]; then \
		echo "    no models in $(WWW_MODELS_FROM)/ yet: the page will say so (train them with make zoo)"; \
	else \
		cp "$${files[@]}" www/models/ && \
		(cd wasm && $(GO) run ./cmd/manifest -dir ../www/models -default '$(WWW_DEFAULT_MODEL)' -prune); \
	fi
	@for f in main.wasm worker.wasm main-simd.wasm worker-simd.wasm; do raw=$$(stat -c %s www/$$f); gz=$$(gzip -9 -c www/$$f | wc -c); \
	echo "    $$f: $$raw bytes raw, $$gz bytes gzipped (gzip -9)"; done

# make demo DEMO_ADDR=0.0.0.0:8080 serves other machines too; port 0 picks a free one.
DEMO_ADDR ?= localhost:8080
demo: www
	@echo "==> serving www/ at $(DEMO_ADDR) (Ctrl-C to stop)"
	$(GONATIVE) run ./cmd/flowmatch serve -addr $(DEMO_ADDR) -dir www

# The X11/GL headers Ebiten's desktop build compiles against.
DESKTOP_DEBS := libgl1-mesa-dev libxcursor-dev libxi-dev libxinerama-dev libxrandr-dev libxxf86vm-dev

desktop: go-toolchain
	@missing=""; for p in $(DESKTOP_DEBS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "the desktop build needs:$$missing (make desktop-deps installs them as root)"; exit 1; fi
	@echo "==> bin/flowmatch-explorer (native Ebiten, cgo)"
	@mkdir -p bin
	cd wasm && CGO_ENABLED=1 $(GONATIVE) build -o ../bin/flowmatch-explorer .
	@echo "    run bin/flowmatch-explorer (models from www/models or weights/; -h for flags)"

# apt-get installs, each only when missing.
define apt_need
	@missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "==> installing$$missing ($(2))"; \
		if [ "$$(id -u)" != 0 ]; then echo "    not root: run apt-get install$$missing yourself"; exit 1; fi; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null || \
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; }; \
	fi
endef

desktop-deps:
	$(call apt_need,$(DESKTOP_DEBS),headers for the desktop build)

web-deps: desktop-deps
	$(call apt_need,chromium,headless browser for the end-to-end test)
	$(call apt_need,xvfb libgl1-mesa-dri,virtual display for the desktop test)

test-web: web-deps www
	@echo "==> explorer tests under Node (js/wasm)"
	GOOS=js GOARCH=wasm $(GO) test -count=1 -exec="$$($(GO) env GOROOT)/lib/wasm/go_js_wasm_exec" ./explorer/...
	@echo "==> wasm module: gofmt, go vet (js/wasm and native), the desktop host's flags, the manifest tool's test"
	@test -z "$$(cd wasm && gofmt -l .)" || { echo "gofmt needed in wasm/:"; cd wasm && gofmt -l .; exit 1; }
	cd wasm && GOOS=js GOARCH=wasm $(GO) vet . && $(GONATIVE) vet ./...
	cd wasm && $(GONATIVE) test -count=1 ./internal/desktopflags/ ./cmd/...
	@echo "==> end-to-end: headless chromium drives www/ served by flowmatch serve; the desktop build under Xvfb"
	@echo "    (screenshots in $(E2E_OUT)/)"
	@mkdir -p $(E2E_OUT)
	@# Until trained models are in weights/, the browser test runs on small random models
	@# (and skips the W2 check); with them, it checks the particles against the data.
	cd wasm && FLOWMATCH_E2E=1 FLOWMATCH_E2E_OUT=$(abspath $(E2E_OUT)) \
		FLOWMATCH_E2E_ALLOW_NO_MODELS=$$(ls $(WWW_MODELS_FROM)/*.safetensors >/dev/null 2>&1 && echo 0 || echo 1) \
		$(GO) test -count=1 -timeout 30m -v ./e2e/ 2>&1 | grep -v '^=== \(RUN\|PAUSE\|CONT\)'
