#!/usr/bin/env bash
# Installs the two face-api networks emsync runs (tiny face detector, face expression) from the
# npm package @vladmandic/face-api (MIT), pinned, into emsync's data directory:
#   root: /usr/local/share/emsync/models   otherwise: ${XDG_DATA_HOME:-$HOME/.local/share}/emsync/models
# EMSYNC_DATA, when set, overrides both. Safe to run again: it does nothing when the files are
# already there and intact (checked against the published files' SHA-256). The weights are
# never committed to the repository.
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

if [ -n "${EMSYNC_DATA:-}" ]; then
  root=$EMSYNC_DATA
elif [ "$(id -u)" -eq 0 ]; then
  root=/usr/local/share/emsync
else
  root=${XDG_DATA_HOME:-$HOME/.local/share}/emsync
fi
dest=$root/models

have_all() {
  [ -d "$dest" ] && (cd "$dest" && echo "$sums" | sha256sum --quiet -c -) >/dev/null 2>&1
}

if have_all; then
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
mkdir -p "$dest"
for f in "${files[@]}"; do
  install -m 0644 "$tmp/package/model/$f" "$dest/$f.tmp"
  mv -f "$dest/$f.tmp" "$dest/$f"
done
echo "install-face-models: installed into $dest" >&2
