#!/usr/bin/env bash
# zoo.sh: retrain the default models in weights/ (make zoo). Each model's file records
# the command below in its metadata (provenance.command) with its paths reduced to base
# names, `flowmatch train ... -ckpt NAME.ckpt -o NAME.safetensors`: nothing about this
# machine's folders goes into the published files, and the command reproduces the model
# in whatever folder it is run. The runs go one after another (the trainer uses every
# core); each takes a few minutes on 2 CPU cores.
#
#   scripts/gotch/zoo.sh              all of them
#   scripts/gotch/zoo.sh moons-ot ... only these
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BIN=${BIN:-bin/flowmatch}

# The recipe shared by every default model: 3 hidden layers of 128 and float16 storage
# (70 KB a file; the twenty together 1.4 MB), independent pairing (I-CFM) on every
# path so that the OT/VP/VE comparison differs only in the path, 12,000 steps of AdamW with
# warmup + cosine, gradient clipping, and an EMA of the weights. This is the recipe the
# committed models were trained with (their provenance.command says so). -resume continues
# an interrupted run from its checkpoint (and starts afresh when there is none).
# Beside them, OT-CFM models of the OT path (-coupling ot: noise and data paired by exact
# optimal transport within groups of 128), same recipe otherwise, named DATASET-ot-otcfm:
# their straighter trajectories need far fewer steps (the explorer's "coupling" control).
COMMON=(-hidden 128 -layers 3 -batch 1024 -steps 12000 -lr 2e-3 -ema 0.999 -dtype f16 -seed 1 -resume)

# DATASET PATH COUPLING
MODELS=(
	"8gaussians ot independent" "moons ot independent" "checkerboard ot independent" "2spirals ot independent"
	"pinwheel ot independent" "rings ot independent" "swissroll ot independent" "circles ot independent"
	"moons vp independent" "moons ve independent" "8gaussians vp independent" "8gaussians ve independent"
	"moons ot ot" "8gaussians ot ot" "checkerboard ot ot" "2spirals ot ot"
	"pinwheel ot ot" "rings ot ot" "swissroll ot ot" "circles ot ot"
)

# name DATASET PATH COUPLING: the model's file name without .safetensors.
name() { if [[ $3 == ot ]]; then echo "$1-$2-otcfm"; else echo "$1-$2"; fi; }

want=("$@")
interrupted=0
trap 'interrupted=1' INT
for m in "${MODELS[@]}"; do
	read -r data path coupling <<<"$m"
	name=$(name "$data" "$path" "$coupling")
	if ((${#want[@]})) && [[ " ${want[*]} " != *" $name "* ]]; then continue; fi
	echo "==> zoo: $name"
	mkdir -p build/zoo
	# A run stopped by a signal writes a checkpoint and exits 1: continue it (-resume),
	# up to 5 tries. Exit status 2 is a usage error, such as a checkpoint left by a run
	# of other flags: no retry can mend it, so stop at once. So does an interrupt
	# (Ctrl-C) of this script, which the trainer's exit 1 must not hide.
	for try in 1 2 3 4 5; do
		rc=0
		"$BIN" train -data "$data" -path "$path" -coupling "$coupling" "${COMMON[@]}" -ckpt "build/zoo/$name.ckpt" -o "weights/$name.safetensors" || rc=$?
		if ((interrupted)); then
			echo "zoo: interrupted during $name (its checkpoint, if any, is build/zoo/$name.ckpt: make zoo continues it)" >&2
			exit 130
		fi
		((rc == 0)) && break
		if ((rc == 2)); then
			echo "zoo: $name: usage error (exit 2, the message above says what); not retrying. If the checkpoint build/zoo/$name.ckpt is of other flags, delete it to start $name over." >&2
			exit 2
		fi
		[[ -f build/zoo/$name.ckpt && $try -lt 5 ]] || { echo "zoo: $name failed (exit $rc)" >&2; exit 1; }
		echo "==> zoo: $name stopped (exit $rc); resuming from build/zoo/$name.ckpt (try $((try + 1)) of 5)"
	done
done

# Quality of each default model: W2 of 2,000 samples (20-NFE midpoint) against fresh
# data, over the data-vs-data floor and over the i.i.d. floor (see
# train/internal/quality for why both), averaged over 16 seeds.
echo "==> zoo: quality"
files=()
for m in "${MODELS[@]}"; do
	read -r data path coupling <<<"$m"
	name=$(name "$data" "$path" "$coupling")
	if ((${#want[@]})) && [[ " ${want[*]} " != *" $name "* ]]; then continue; fi
	files+=("$PWD/weights/$name.safetensors")
done
(cd train && go run ./cmd/zooeval -seeds 16 "${files[@]}")
