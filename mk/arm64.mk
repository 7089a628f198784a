# arm64: the sampler cross-built for GOARCH=arm64 and its tests run under qemu's user-mode
# emulation (qemu-aarch64), with the NEON kernel in Go SIMD (GOEXPERIMENT=simd,
# sampler/kernel_archsimd_arm64.go) and with the pure-Go kernel (GOEXPERIMENT unset).
#   make test-arm64   both runs; installs Debian's qemu-user first when it is missing
#                     and this is root (apt-get, once); skips with a note, without
#                     failing, where qemu-aarch64 cannot be had or cannot run arm64 code.

.PHONY: test-arm64

TEST_STEPS += test-arm64

# The emulator the arm64 test binaries run under.
QEMU_ARM64 ?= qemu-aarch64

test-arm64: go-toolchain
	@if ! command -v $(QEMU_ARM64) >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "==> installing qemu-user (qemu-aarch64 runs the sampler's arm64 tests)"; \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends qemu-user >/dev/null 2>&1 || \
			{ apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends qemu-user >/dev/null 2>&1; } || true; \
		fi; \
	fi
	@if ! command -v $(QEMU_ARM64) >/dev/null; then \
		echo "==> SKIPPED the sampler's arm64 tests: no $(QEMU_ARM64) (apt-get install qemu-user, as root)"; exit 0; \
	fi; \
	bin=$$(mktemp -d)/sampler-arm64.test; \
	GOEXPERIMENT=simd GOARCH=arm64 $(GO) test -c -o $$bin ./sampler/; \
	if ! $(QEMU_ARM64) $$bin -test.run '^$$' >/dev/null 2>&1; then \
		echo "==> SKIPPED the sampler's arm64 tests: $(QEMU_ARM64) cannot run an arm64 test binary here"; rm -rf $$(dirname $$bin); exit 0; \
	fi; \
	rm -rf $$(dirname $$bin); \
	echo "==> the sampler's tests for arm64 under $(QEMU_ARM64): the NEON kernel ($(GOTOOLCHAIN), GOEXPERIMENT=simd)"; \
	GOEXPERIMENT=simd GOARCH=arm64 $(GO) test -count=1 -timeout 30m -exec=$(QEMU_ARM64) ./sampler/; \
	echo "==> the same with the pure-Go kernel (GOEXPERIMENT unset)"; \
	GOEXPERIMENT= GOARCH=arm64 $(GO) test -count=1 -timeout 30m -exec=$(QEMU_ARM64) ./sampler/
