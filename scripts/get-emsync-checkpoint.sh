#!/usr/bin/env bash
# Downloads the authors' EMSYNC generator checkpoint (midi_model.pt, linked from the EMSYNC
# demo code) and installs it as emsync.pt in emsync's data directory, where `--composer auto`
# prefers it to the bundled model. It is installed only after `emsync model-info` has loaded
# every tensor and found the released shapes (11 layers, d_model 512, 8 heads, feed-forward
# 2048, context 1216, vocab 1011); otherwise nothing is installed and the script exits 1.
#
# usage: get-emsync-checkpoint.sh [--from FILE] [--data-dir DIR] [--emsync BIN] [-y]
#   --from FILE     verify and install a checkpoint already on disk instead of downloading
#   --data-dir DIR  where to install (default: $EMSYNC_DATA, else $XDG_DATA_HOME/emsync,
#                   else ~/.local/share/emsync)
#   --emsync BIN    the emsync binary that verifies it (default: emsync beside this script's
#                   checkout, else the one on PATH)
#   -y              replace an installed emsync.pt
set -euo pipefail

DRIVE_ID=1SWiA-vb4DNTxorX92K91Y31zMpJRANUz
RELEASED='{"layers":11,"d_model":512,"heads":8,"d_ff":2048,"context":1216,"vocab":1011}'

die() { echo "get-emsync-checkpoint: $*" >&2; exit 1; }
usage() { sed -n '8,15s/^# \{0,1\}//p' "$0"; }

from="" data_dir="" emsync="" overwrite=0
while [ $# -gt 0 ]; do
  case $1 in
    --from) [ $# -ge 2 ] || { usage >&2; exit 2; }; from=$2; shift 2 ;;
    --data-dir) [ $# -ge 2 ] || { usage >&2; exit 2; }; data_dir=$2; shift 2 ;;
    --emsync) [ $# -ge 2 ] || { usage >&2; exit 2; }; emsync=$2; shift 2 ;;
    -y) overwrite=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "get-emsync-checkpoint: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

if [ -z "$emsync" ]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  if [ -x "$here/emsync" ]; then emsync=$here/emsync; else emsync=$(command -v emsync) || die "emsync not found (build it or pass --emsync)"; fi
fi
command -v jq >/dev/null || die "jq is needed to read emsync's report"
if [ -z "$data_dir" ]; then
  if [ -n "${EMSYNC_DATA:-}" ]; then data_dir=$EMSYNC_DATA
  elif [ -n "${XDG_DATA_HOME:-}" ]; then data_dir=$XDG_DATA_HOME/emsync
  else data_dir=$HOME/.local/share/emsync; fi
fi
dest=$data_dir/emsync.pt
[ -e "$dest" ] && [ "$overwrite" = 0 ] && die "$dest exists (pass -y to replace it)"
mkdir -p "$data_dir"

# the candidate goes to a temporary file beside the destination, renamed into place when good
tmp=$(mktemp "$data_dir/.emsync.pt.XXXXXX")
trap 'rm -f "$tmp"' EXIT
if [ -n "$from" ]; then
  [ -f "$from" ] || die "$from: no such file"
  cp "$from" "$tmp"
else
  command -v curl >/dev/null || die "curl is needed to download (or pass --from FILE)"
  echo "get-emsync-checkpoint: downloading the EMSYNC generator (about 150 MB)" >&2
  curl -fL --retry 3 -o "$tmp" "https://drive.usercontent.google.com/download?id=$DRIVE_ID&export=download&confirm=t" ||
    die "download failed"
fi

info=$("$emsync" model-info --model "$tmp" --json 2>&1) || die "${from:-download}: not a usable EMSYNC checkpoint: ${info#emsync: }"
shape=$(jq -c '{layers, d_model, heads, d_ff, context, vocab}' <<<"$info")
[ "$shape" = "$RELEASED" ] || die "${from:-download}: shapes $shape are not the released model's $RELEASED"
chmod 644 "$tmp"
mv -f "$tmp" "$dest"
trap - EXIT
echo "get-emsync-checkpoint: installed $dest ($(jq .parameters <<<"$info") parameters)" >&2
