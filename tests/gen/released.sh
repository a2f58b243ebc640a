#!/usr/bin/env bash
# released-random.pt: random weights with the released EMSYNC generator's shapes (37 M
# parameters, float32), made once into DIR, for the checkpoint installer's verification.
set -euo pipefail
dir=${1:-build/testdata}
stamp="$dir/.released-v1"
[ -f "$stamp" ] && exit 0
mkdir -p "$dir"
python3 "$(dirname "$0")/../../scripts/make-random-checkpoint.py" "$dir/released-random.pt" --seed 3 >/dev/null
touch "$stamp"
