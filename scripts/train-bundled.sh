#!/usr/bin/env bash
# Retrains the bundled model (models/emsync-pop909.pt) from POP909 with the fixed recipe and
# seed: prepare (emsync tokenize on every song), train, export to float16, and check the
# engine's logits against the trainer's. About 75 minutes on 2 CPU cores; extra arguments go to
# train/train.py (e.g. --device cuda, or a larger --d-model/--layers on a GPU).
#
# usage: scripts/train-bundled.sh POP909_DIR [WORK_DIR [OUT.pt]] [-- train.py options...]
# POP909: https://github.com/music-x-lab/POP909-Dataset (MIT), the folder that holds 001/ ... 909/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { sed -n '6,7s/^# //p' "$0" >&2; exit 2; }
corpus=$1; shift
work=build/train; out=$root/models/emsync-pop909.pt
[ $# -gt 0 ] && [ "$1" != -- ] && { work=$1; shift; }
[ $# -gt 0 ] && [ "$1" != -- ] && { out=$1; shift; }
[ "${1:-}" = -- ] && shift
[ -d "$corpus" ] || { echo "train-bundled: $corpus: not a folder" >&2; exit 1; }
py=""
for c in python3 /usr/bin/python3; do "$c" -c "import torch" 2>/dev/null && { py=$c; break; }; done
[ -n "$py" ] || { echo "train-bundled: python3 with torch is needed (apt-get install python3-torch)" >&2; exit 1; }
mkdir -p "$work"
[ -f "$work/pop909.pt" ] || "$py" "$root/train/prepare.py" "$corpus" -o "$work/pop909.pt" --emsync "$root/emsync"
# --resume continues an interrupted run; a finished one is left as it is
"$py" "$root/train/train.py" "$work/pop909.pt" -o "$work/run" --resume \
    --d-model 256 --layers 4 --heads 4 --d-ff 1024 --context 384 --batch 12 --steps 1800 --seed 909 "$@"
"$py" "$root/train/export.py" "$work/run/model.pt" "$out"
"$root/emsync" tokenize "$corpus/001/001.mid" --chords "$corpus/001/chord_midi.txt" -o "$work/check.tok" -y -q
"$py" "$root/train/crosscheck.py" "$out" "$work/check.tok" --emsync "$root/emsync"
