# train/: native training with gotch (libtorch bindings). Its own Go module, built with
# cgo against the libtorch that scripts/setup-gotch.sh adapts gotch to:
#   default               Debian's libtorch-dev (1.13.1) + OpenBLAS, apt-installed if missing
#   LIBTORCH=/opt/libtorch an official libtorch (CPU or CUDA build) unpacked there
# The first build compiles gotch's C++ wrappers: about 3-4 minutes on 2 cores.

.PHONY: setup-gotch build-train test-train bench-train bench-train-images train zoo zoo-images

TEST_STEPS += test-train
# make bench measures training inside bench-sampler (bench/cmd/benchall runs trainbench),
# so bench-train is not one of its steps: it is the quick way to measure training alone.

# `make train TRAIN_ARGS='-data rings -path ot -steps 20000 -o build/rings.safetensors'`
TRAIN_ARGS ?= -data moons -path ot -steps 20000 -o build/moons-ot.safetensors

setup-gotch: go-toolchain
	@scripts/setup-gotch.sh

# make build builds bin/flowmatch from the train module (every subcommand plus train).
BIN_RULE := build-train
build-train: setup-gotch
	@echo "==> go build bin/flowmatch (train module: every subcommand plus train)"
	@echo "    (the first build compiles gotch's C++ wrappers: about 3-4 minutes on 2 cores)"
	cd train && $(GONATIVE) build -o ../bin/flowmatch ./cmd/flowmatch

test-train: setup-gotch
	@dpkg-query -W -f='$${Status}' python3-torch 2>/dev/null | grep "install ok installed" >/dev/null || \
		{ echo "==> installing python3-torch (the PyTorch import check compares velocities with PyTorch's)"; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-torch >/dev/null; }
	@echo "==> go vet + go test (train module: gotch setup, trainer, export, resume, CLI, import from PyTorch)"
	@echo "    (the first build compiles gotch's C++ wrappers: about 3-4 minutes on 2 cores)"
	@test -z "$$(cd train && gofmt -l .)" || { echo "gofmt needed in train/:"; cd train && gofmt -l .; exit 1; }
	cd train && $(GONATIVE) vet ./...
	cd train && FLOWMATCH_REQUIRE_TORCH=1 $(GONATIVE) test -count=1 -timeout 60m ./...

# Training steps/s against PyTorch eager on the same libtorch, measured in one run.
PYTORCH_BENCH ?= $(abspath ../shared/bench/pytorch_train.py)
bench-train: setup-gotch
	@echo "==> bench-train: gotch trainer vs PyTorch eager (MLP 3x256, batch 1024, CPU)"
	@dpkg-query -W -f='$${Status}' python3-torch 2>/dev/null | grep "install ok installed" >/dev/null || \
		{ echo "installing python3-torch for the PyTorch baseline"; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-torch; }
	cd train && $(GONATIVE) run ./cmd/trainbench -pytorch $(PYTORCH_BENCH)

# The image U-Net's training steps/s against pytorch_fmnist.py --bench (C = 16, batch 64).
PYTORCH_FMNIST ?= $(abspath ../shared/bench/pytorch_fmnist.py)
bench-train-images: setup-gotch fashion-mnist
	@echo "==> bench-train-images: gotch U-Net trainer vs PyTorch eager (pytorch_fmnist.py's U-Net, C=16, batch 64, CPU)"
	cd train && $(GONATIVE) run ./cmd/trainbench -images -pytorch-fmnist $(PYTORCH_FMNIST) -steps 40 -warmup 5

train: build-train
	@mkdir -p build
	bin/flowmatch train $(TRAIN_ARGS)

# Retrain every default model in weights/ with the command recorded in its metadata.
zoo: build-train
	scripts/gotch/zoo.sh

# Retrain the shipped image model, weights/fashion-unet.safetensors: the class-conditional
# U-Net on Fashion-MNIST with the trainer's image recipe (38,000 steps of batch 64, about 100 minutes on 2 cores),
# resumable (-resume; the checkpoint is build/fashion-unet.ckpt). Add -device cuda to
# ZOO_IMAGES_ARGS on a machine with a CUDA libtorch.
ZOO_IMAGES_ARGS ?=
zoo-images: build-train fashion-mnist
	@mkdir -p build
	bin/flowmatch train -data fashion-mnist -dtype f16 -resume -ckpt build/fashion-unet.ckpt -o weights/fashion-unet.safetensors $(ZOO_IMAGES_ARGS)
