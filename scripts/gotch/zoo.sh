#!/usr/bin/env bash
# zoo.sh: retrain the default models in weights/ (make zoo). Each model's file records
# the exact command below in its metadata (provenance.command). The runs go one after
# another (the trainer uses every core); each takes a few minutes on 2 CPU cores.
#
#   scripts/gotch/zoo.sh              all of them
#   scripts/gotch/zoo.sh moons-ot ... only these
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BIN=${BIN:-bin/flowmatch}

# The recipe shared by every default model: 3 hidden layers of 128, float16 storage
# (the 14 files together stay under 2 MB), OT-CFM pairing, AdamW with warmup + cosine,
# gradient clipping and an EMA of the weights.
COMMON=(-hidden 128 -layers 3 -coupling ot -batch 1024 -steps 20000 -lr 2e-3 -ema 0.999 -dtype f16 -seed 1)

MODELS=(
	"8gaussians ot" "moons ot" "checkerboard ot" "2spirals ot"
	"pinwheel ot" "rings ot" "swissroll ot" "circles ot"
	"moons vp" "moons ve" "8gaussians vp" "8gaussians ve"
)

want=("$@")
for m in "${MODELS[@]}"; do
	read -r data path <<<"$m"
	name="$data-$path"
	if ((${#want[@]})) && [[ " ${want[*]} " != *" $name "* ]]; then continue; fi
	echo "==> zoo: $name"
	"$BIN" train -data "$data" -path "$path" "${COMMON[@]}" -o "weights/$name.safetensors"
done

# Quality of each default model: W2 of 2,000 samples (20-NFE midpoint) against fresh
# data, over the W2 between two fresh data draws (the floor).
echo "==> zoo: W2 / floor (2,000 points, 20-NFE midpoint)"
for m in "${MODELS[@]}"; do
	read -r data path <<<"$m"
	name="$data-$path"
	if ((${#want[@]})) && [[ " ${want[*]} " != *" $name "* ]]; then continue; fi
	"$BIN" eval -model "weights/$name.safetensors" -nll-steps 0 -reps 6 | sed "s/^/$name: /" | grep -i "w2" || true
done
