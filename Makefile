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

TEST_STEPS :=
BENCH_STEPS :=

# bin/flowmatch: the pure-Go command by default; mk/train.mk switches BIN_RULE to the
# build from the train module, which adds the cgo-only `train` subcommand. `build` is
# defined after the includes, so that it sees the switched value.
BIN_RULE := bin-pure

.PHONY: all demo test test-go test-wasm vet build bin-pure bench clean
all: build

include $(sort $(wildcard mk/*.mk))

# Prerequisites expand when the rule is read: here, after mk/train.mk set BIN_RULE.
build: $(BIN_RULE)

# Last of all, the README's commands themselves (readme/contract_test.go): every command
# the READMEs show is run at a small size, or listed there with the reason it is not.
TEST_STEPS += test-readme
.PHONY: test-readme
test-readme:
	@echo "==> the README as a contract: its commands at small sizes (readme/contract_test.go)"
	FLOWMATCH_README_TEST=1 $(GO) test -count=1 -timeout 60m -v ./readme/ 2>&1 | grep -v '^=== \(RUN\|PAUSE\|CONT\)'

vet:
	@echo "==> gofmt and go vet (root module, native and js/wasm)"
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '^third_party/'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) build ./...

test-go:
	@echo "==> go test (root module, native)"
	$(GO) test -count=1 ./...

test-wasm:
	@echo "==> go test under Node (root module, js/wasm)"
	GOOS=js GOARCH=wasm $(GO) test -count=1 -exec="$$($(GO) env GOROOT)/lib/wasm/go_js_wasm_exec" ./sampler/... ./weights/... ./dataset/... ./metrics/...
	@echo "==> the sampler's tests under Node with the WebAssembly SIMD kernel ($(SIMD_TOOLCHAIN), GOEXPERIMENT=simd)"
	GOTOOLCHAIN=$(SIMD_TOOLCHAIN) GOEXPERIMENT=simd GOOS=js GOARCH=wasm $(GO) test -count=1 -exec="$$(GOTOOLCHAIN=$(SIMD_TOOLCHAIN) $(GO) env GOROOT)/lib/wasm/go_js_wasm_exec" ./sampler/...

test: vet test-go test-wasm $(TEST_STEPS)
	@echo "==> make test: all steps passed"

bin-pure:
	@echo "==> building bin/flowmatch (pure Go)"
	@mkdir -p bin
	CGO_ENABLED=0 $(GO) build -o bin/flowmatch ./cmd/flowmatch

bench: $(BENCH_STEPS)

clean:
	rm -rf bin build

# The paths-and-solvers comparison for the shipped models (issue: evaluation).
.PHONY: results
results:
	@echo "==> evaluating weights/*.safetensors into results/ (several minutes)"
	$(GO) run ./cmd/flowmatch report -models weights -o results
