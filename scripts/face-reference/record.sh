#!/usr/bin/env bash
# Records the reference outputs in tests/data/faces/*.json by running @vladmandic/face-api on
# Node's pure-JS CPU backend over the test pictures. Needs node, npm and the ffmpeg tools.
# With --images it first remakes the test pictures: three of the package's demo photos
# (sample1/4/5.jpg, shipped in the MIT package), pictures derived from its demo photos (grayscale,
# odd size, 16x16, a short clip) and a generated test pattern without faces. Dependencies are installed into a temporary
# directory, never into the repository. The package's default detector input size (416) goes to
# tests/data/faces/NAME.json; the smaller sizes 320 and 224 to tests/data/faces/sizeN/NAME.json.
#   usage: scripts/face-reference/record.sh [--images]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
data=$root/tests/data/faces
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cp "$here/package.json" "$here/record.mjs" "$tmp/"
(cd "$tmp" && npm install --silent --no-audit --no-fund --ignore-scripts >/dev/null)
pkg=$tmp/node_modules/@vladmandic/face-api

if [ "${1:-}" = "--images" ]; then
  mkdir -p "$data"
  ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
  demo=$pkg/demo
  cp "$demo/sample1.jpg" "$demo/sample4.jpg" "$demo/sample5.jpg" "$data/"
  ff -f lavfi -i "testsrc2=s=320x240:r=1:d=1" -frames:v 1 "$data/noface.png"
  ff -i "$demo/sample2.jpg" -vf "scale=480:-2,format=gray" -frames:v 1 "$data/gray.png"
  ff -i "$demo/sample5.jpg" -vf "format=yuvj444p,crop=701:999:1000:150" -q:v 3 -frames:v 1 "$data/odd.jpg"
  ff -i "$demo/sample3.jpg" -vf "crop=330:330:1000:220,scale=16:16" -frames:v 1 "$data/tiny16.png"
  ff -i "$demo/sample4.jpg" -vf "format=yuvj444p,crop=1150:600:300:160" -q:v 5 -frames:v 1 "$data/edge.jpg"
  fit="scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=25"
  ff -loop 1 -t 1 -i "$demo/sample1.jpg" -loop 1 -t 1 -i "$demo/sample3.jpg" -loop 1 -t 1 -i "$data/noface.png" \
     -filter_complex "[0]$fit[a];[1]$fit[b];[2]$fit[c];[a][b][c]concat=n=3:v=1:a=0,format=yuv420p[v]" \
     -map "[v]" -c:v libx264 -preset veryfast -crf 23 -g 25 "$data/clip.mp4"
fi

cd "$data"
inputs=(sample1.jpg sample4.jpg sample5.jpg noface.png gray.png odd.jpg tiny16.png edge.jpg
        clip.mp4@0.48 clip.mp4@2.48 sample1.jpg@8k)
for size in 416 320 224; do
  out=$data
  [ "$size" = 416 ] || out=$data/size$size
  node "$tmp/record.mjs" --input-size "$size" "$pkg/model" "$out" "${inputs[@]}" 2>&1 |
    grep -v -e '^=*$' -e 'TensorFlow.js in Node.js' || true
done
