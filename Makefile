# flowmatch: the first two targets are the README's front door.
#   make demo   build and serve the browser demo with the shipped default models
#   make test   every test, installing what it needs on a fresh Debian machine
#
# Each area keeps its rules in mk/<area>.mk and appends its test step to TEST_STEPS,
# so `make test` runs them all in order and fails on the first failure.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
export GOFLAGS ?= -mod=mod

# Every Go command this Makefile runs (and the scripts and programs it starts) uses Go
# 1.27.3, whatever Go is installed (1.21 or newer): the go command fetches it from the
# module proxy the first time, about 10 s, into the module cache (go-toolchain says so).
# make test GOTOOLCHAIN=local uses the installed Go as it is. The modules' go lines stay
# at 1.26, so a plain Go 1.26 builds and tests everything too (test-plain checks it).
GO_RELEASE := go1.27.3
export GOTOOLCHAIN := $(GO_RELEASE)
# The toolchain of the WebAssembly SIMD builds and tests (GOEXPERIMENT=simd for js/wasm
# needs Go 1.27), even when GOTOOLCHAIN says otherwise.
SIMD_TOOLCHAIN ?= $(GO_RELEASE)
# GOEXPERIMENT of the native builds and tests: simd compiles the sampler's Go SIMD kernel
# (simd/archsimd, amd64 and arm64) where there is one; NATIVE_GOEXPERIMENT= builds
# without it. The WebAssembly builds choose theirs in mk/web.mk (SIMD and scalar).
NATIVE_GOEXPERIMENT ?= simd
GONATIVE = GOEXPERIMENT=$(NATIVE_GOEXPERIMENT) $(GO)
# The Go of test-plain: the installed Go when it is a release of the go line's (1.26.x),
# else the go line's first release, fetched like Go 1.27.3.
GO_LINE := $(shell sed -n 's/^go \([0-9.]*\)$$/\1/p' go.mod)
PLAIN_TOOLCHAIN ?= $(shell v=$$(cd / && GOTOOLCHAIN=local $(GO) env GOVERSION 2>/dev/null); \
	case "$$v" in (go$(GO_LINE)|go$(GO_LINE).*) echo local;; (*) echo go$(GO_LINE).0;; esac)

TEST_STEPS :=
BENCH_STEPS :=

# bin/flowmatch: the pure-Go command by default; mk/train.mk switches BIN_RULE to the
# build from the train module, which adds the cgo-only `train` subcommand. `build` is
# defined after the includes, so that it sees the switched value.
BIN_RULE := bin-pure

.PHONY: all demo test test-go test-wasm test-plain vet build bin-pure bench clean go-toolchain
all: build

# Says, once, that the go command is about to fetch $(GOTOOLCHAIN) (the fetch itself is
# the go command's own, on first use); every rule that runs Go comes after it.
go-toolchain:
	@case "$(GOTOOLCHAIN)" in go1.*[0-9]) \
		set -- $$(cd / && GOTOOLCHAIN=local GOFLAGS= $(GO) env GOVERSION GOMODCACHE GOHOSTOS GOHOSTARCH GOPROXY); \
		if [ "$$1" != "$(GOTOOLCHAIN)" ] && [ ! -d "$$2/golang.org/toolchain@v0.0.1-$(GOTOOLCHAIN).$$3-$$4" ]; then \
			echo "==> fetching $(GOTOOLCHAIN) for $$3/$$4 through the Go module proxy ($${5%%,*}), once: about 10 s"; \
		fi; \
		(cd / && $(GO) version >/dev/null) ;; \
	esac

include $(sort $(wildcard mk/*.mk))

# Prerequisites expand when the rule is read: here, after mk/train.mk set BIN_RULE.
build: $(BIN_RULE)

# Last of all, the README's commands themselves (readme/contract_test.go): every command
# the READMEs show is run at a small size, or listed there with the reason it is not.
TEST_STEPS += test-readme
.PHONY: test-readme
test-readme: go-toolchain
	@echo "==> the README as a contract: its commands at small sizes (readme/contract_test.go)"
	FLOWMATCH_README_TEST=1 $(GO) test -count=1 -timeout 60m -v ./readme/ 2>&1 | grep -v '^=== \(RUN\|PAUSE\|CONT\)'

vet: go-toolchain
	@echo "==> gofmt and go vet (root module, native and js/wasm, $(GOTOOLCHAIN), GOEXPERIMENT=$(NATIVE_GOEXPERIMENT) natively)"
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '^third_party/'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GONATIVE) vet ./...
	GOEXPERIMENT= GOOS=js GOARCH=wasm $(GO) build ./...
	GOTOOLCHAIN=$(SIMD_TOOLCHAIN) GOEXPERIMENT=simd GOOS=js GOARCH=wasm $(GO) build ./...

test-go: go-toolchain fashion-mnist
	@echo "==> go test (root module, native, $(GOTOOLCHAIN), GOEXPERIMENT=$(NATIVE_GOEXPERIMENT))"
	$(GONATIVE) test -count=1 ./...

# Without the SIMD experiment, with the go line's Go: the root module vets and builds
# (natively and for js/wasm) and the sampler's tests pass on the assembly and scalar
# kernels, the fallback of every build that is not GOEXPERIMENT=simd.
test-plain: go-toolchain
	@echo "==> Go 1.26 without GOEXPERIMENT=simd (GOTOOLCHAIN=$(PLAIN_TOOLCHAIN)): go vet, js/wasm build, the sampler's tests"
	GOTOOLCHAIN=$(PLAIN_TOOLCHAIN) GOEXPERIMENT= $(GO) vet ./...
	GOTOOLCHAIN=$(PLAIN_TOOLCHAIN) GOEXPERIMENT= GOOS=js GOARCH=wasm $(GO) build ./...
	GOTOOLCHAIN=$(PLAIN_TOOLCHAIN) GOEXPERIMENT= $(GO) test -count=1 ./sampler/...

test-wasm: go-toolchain
	@echo "==> go test under Node (root module, js/wasm)"
	GOEXPERIMENT= GOOS=js GOARCH=wasm $(GO) test -count=1 -exec="$$($(GO) env GOROOT)/lib/wasm/go_js_wasm_exec" ./sampler/... ./weights/... ./dataset/... ./npy/... ./metrics/... ./recipe/... ./gotrain/... ./unet/...
	@echo "==> the sampler's, the pure-Go trainer's and the U-Net's tests under Node with the WebAssembly SIMD kernel ($(SIMD_TOOLCHAIN), GOEXPERIMENT=simd)"
	GOTOOLCHAIN=$(SIMD_TOOLCHAIN) GOEXPERIMENT=simd GOOS=js GOARCH=wasm $(GO) test -count=1 -exec="$$(GOTOOLCHAIN=$(SIMD_TOOLCHAIN) $(GO) env GOROOT)/lib/wasm/go_js_wasm_exec" ./sampler/... ./gotrain/... ./unet/...

test: vet test-go test-plain test-wasm $(TEST_STEPS)
	@echo "==> make test: all steps passed"

bin-pure: go-toolchain
	@echo "==> building bin/flowmatch (pure Go)"
	@mkdir -p bin
	CGO_ENABLED=0 $(GONATIVE) build -o bin/flowmatch ./cmd/flowmatch

bench: $(BENCH_STEPS)

clean:
	rm -rf bin build

# The paths-and-solvers comparison for the shipped models (issue: evaluation), and the
# image section: the image models judged by weights/fashion-classifier.safetensors beside
# the reference, pytorch_fmnist.py's U-Net trained with its default recipe (4,000 steps,
# about 5 minutes on a quiet 2-core machine), whose samples are made once into build/.
.PHONY: results
PYTORCH_FMNIST ?= $(abspath ../shared/bench/pytorch_fmnist.py)
FMNIST_REFERENCE_DIR := build/pytorch-fmnist-4000
FMNIST_REFERENCE := $(FMNIST_REFERENCE_DIR)/ref
results: go-toolchain fashion-mnist $(FMNIST_REFERENCE).w2.labels.npy
	@echo "==> evaluating weights/*.safetensors into results/ (the image section's 10,000-sample headline alone takes tens of minutes)"
	$(GONATIVE) run ./cmd/flowmatch report -models weights -o results -reference $(FMNIST_REFERENCE)

# The reference's samples, 10,000 per guidance weight 0, 1, 2 at 20-NFE midpoint: written
# into a temporary folder renamed into place, so an interrupted run leaves none behind.
$(FMNIST_REFERENCE).w2.labels.npy: | fashion-mnist
	@echo "==> the image reference: pytorch_fmnist.py --steps 4000 (about 5 min) into $(FMNIST_REFERENCE_DIR)/, once"
	@dpkg-query -W -f='$${Status}' python3-torch 2>/dev/null | grep "install ok installed" >/dev/null || \
		{ echo "installing python3-torch for the reference"; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-torch; }
	rm -rf $(FMNIST_REFERENCE_DIR).tmp $(FMNIST_REFERENCE_DIR)
	mkdir -p $(FMNIST_REFERENCE_DIR).tmp
	/usr/bin/python3 $(PYTORCH_FMNIST) --steps 4000 --out $(FMNIST_REFERENCE_DIR).tmp/ref
	mv $(FMNIST_REFERENCE_DIR).tmp $(FMNIST_REFERENCE_DIR)
