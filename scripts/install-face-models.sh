#!/usr/bin/env bash
# Installs the two face-api networks emsync runs (tiny face detector, face expression) from the
# npm package @vladmandic/face-api (MIT), pinned, into emsync's data directory:
#   root: /usr/local/share/emsync/models   otherwise: ${XDG_DATA_HOME:-$HOME/.local/share}/emsync/models
# EMSYNC_DATA, when set, overrides both. Safe to run again: it does nothing when the files are
# already there and intact (checked against the published files' SHA-256). The weights are
# never committed to the repository.
#
# usage: install-face-models.sh                      fetch with npm and install, as above
#        install-face-models.sh --copy-to DIR [SRC]  copy the checked files from SRC, or from the
#                                                    first data directory emsync searches that
#                                                    holds them, into DIR; never downloads (make
#                                                    install); none found: says so, exits 0
#        install-face-models.sh --list               the names of the files it installs
set -euo pipefail

version=1.7.15
files=(
  tiny_face_detector_model-weights_manifest.json tiny_face_detector_model.bin
  face_expression_model-weights_manifest.json face_expression_model.bin
)
# the files as published in that version; anything else is refused
sums="5d1af4849ac48d5b985f4a9b16010c512353ddd6fcc63d50fd0bc9e9e64296e5  tiny_face_detector_model-weights_manifest.json
b7503ce7df31039b1c43316a9b865cab6a70dd748cc602d3fa28b551503c3871  tiny_face_detector_model.bin
5b349c17c7836da506e03422cd6461c74085d8bb2713ad4114647dc5d28174c8  face_expression_model-weights_manifest.json
9a9840f2cf1f4c7eab95f197512569345c00d2426754d4608b92af30e0300f3d  face_expression_model.bin"

note() { echo "install-face-models: $*" >&2; }
usage() { sed -n '9,15s/^# \{0,1\}//p' "$0"; }
# intact DIR: DIR holds the files as published
intact() { [ -d "$1" ] && (cd "$1" && echo "$sums" | sha256sum --quiet -c -) >/dev/null 2>&1; }
# copy_into FROM TO: each file through a temporary name, so no reader sees half a file
copy_into() {
  mkdir -p "$2"
  for f in "${files[@]}"; do
    install -m 0644 "$1/$f" "$2/$f.tmp"
    mv -f "$2/$f.tmp" "$2/$f"
  done
}

case ${1:-} in
  "") ;;
  --list) printf '%s\n' "${files[@]}"; exit 0 ;;
  --copy-to)
    [ $# -ge 2 ] && [ $# -le 3 ] || { usage >&2; exit 2; }
    dest=$2 src=${3:-}
    if [ -n "$src" ]; then
      intact "$src" || { note "$src does not hold the face-api $version model files"; exit 1; }
    else
      # the data directories emsync searches, in its order
      for root in ${EMSYNC_DATA:+"$EMSYNC_DATA"} ${XDG_DATA_HOME:+"$XDG_DATA_HOME/emsync"} \
                  ${HOME:+"$HOME/.local/share/emsync"} /usr/local/share/emsync /usr/share/emsync; do
        if intact "$root/models"; then src=$root/models; break; fi
      done
      if [ -z "$src" ]; then
        note "face models not found, so not installed (run scripts/install-face-models.sh, or pass FACE_MODELS=DIR)"
        exit 0
      fi
    fi
    if [ "$(realpath "$src")" = "$(realpath -m "$dest")" ]; then note "face models present in $dest"; exit 0; fi
    copy_into "$src" "$dest"
    note "face models copied from $src into $dest"
    exit 0 ;;
  -h|--help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

if [ -n "${EMSYNC_DATA:-}" ]; then
  root=$EMSYNC_DATA
elif [ "$(id -u)" -eq 0 ]; then
  root=/usr/local/share/emsync
else
  root=${XDG_DATA_HOME:-$HOME/.local/share}/emsync
fi
dest=$root/models

if intact "$dest"; then
  echo "install-face-models: face-api $version models present in $dest" >&2
  exit 0
fi

command -v npm >/dev/null || { echo "install-face-models: npm is needed (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "install-face-models: fetching @vladmandic/face-api@$version" >&2
(cd "$tmp" && npm pack --silent "@vladmandic/face-api@$version" >/dev/null)
tar -xzf "$tmp"/vladmandic-face-api-"$version".tgz -C "$tmp" \
  $(printf 'package/model/%s ' "${files[@]}")
if ! (cd "$tmp/package/model" && echo "$sums" | sha256sum --quiet -c -); then
  echo "install-face-models: the package's model files are not the expected ones" >&2
  exit 1
fi
copy_into "$tmp/package/model" "$dest"
echo "install-face-models: installed into $dest" >&2
