#!/usr/bin/env bash
# Installs the two face-api networks emsync runs (tiny face detector, face expression) from the
# npm package @vladmandic/face-api (MIT), pinned, into emsync's data directory:
#   root: /usr/local/share/emsync/models   otherwise: ${XDG_DATA_HOME:-$HOME/.local/share}/emsync/models
# EMSYNC_DATA, when set, overrides both. Safe to run again: it does nothing when the files are
# already there and intact. The weights are never committed to the repository.
set -euo pipefail

version=1.7.15
files=(
  tiny_face_detector_model-weights_manifest.json tiny_face_detector_model.bin
  face_expression_model-weights_manifest.json face_expression_model.bin
)

if [ -n "${EMSYNC_DATA:-}" ]; then
  root=$EMSYNC_DATA
elif [ "$(id -u)" -eq 0 ]; then
  root=/usr/local/share/emsync
else
  root=${XDG_DATA_HOME:-$HOME/.local/share}/emsync
fi
dest=$root/models
stamp=$dest/.face-api-$version

have_all() {
  [ -f "$stamp" ] || return 1
  for f in "${files[@]}"; do [ -s "$dest/$f" ] || return 1; done
  (cd "$dest" && sha256sum --quiet -c "$stamp") >/dev/null 2>&1
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
mkdir -p "$dest"
for f in "${files[@]}"; do
  [ -s "$tmp/package/model/$f" ] || { echo "install-face-models: $f missing from the package" >&2; exit 1; }
  install -m 0644 "$tmp/package/model/$f" "$dest/$f.tmp"
  mv -f "$dest/$f.tmp" "$dest/$f"
done
(cd "$dest" && sha256sum "${files[@]}") > "$stamp.tmp"
mv -f "$stamp.tmp" "$stamp"
echo "install-face-models: installed into $dest" >&2
