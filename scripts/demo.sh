#!/usr/bin/env bash
# The whole job on a fresh Debian/Ubuntu machine: install what is missing, build emsync, make a
# 30 s demo video with scene cuts (from FFmpeg's own test sources), score it, and say where the
# result is. Run from anywhere; results go to ./emsync-demo/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
make -C "$root" -j"$(nproc)" emsync >/dev/null
out=$PWD/emsync-demo
mkdir -p "$out"
clip="$out/demo.mp4"
if [ ! -s "$clip" ]; then
  echo "demo: making a 30 s video with cuts at 8, 15 and 23 s" >&2
  S=854x480:r=30
  ffmpeg -nostdin -v error -y \
    -f lavfi -i "testsrc2=s=$S:d=8" -f lavfi -i "mandelbrot=s=$S" -f lavfi -i "life=s=$S:mold=10:ratio=0.1" \
    -f lavfi -i "smptehdbars=s=$S:d=7" \
    -filter_complex "[1:v]trim=duration=7[b];[2:v]trim=duration=8,format=yuv420p[c];[0:v][b][c][3:v]concat=n=4,format=yuv420p[v]" \
    -map "[v]" -c:v libx264 -preset veryfast -crf 23 "$clip"
fi
"$root/emsync" score "$clip" -o "$out/demo.emsync.mp4" --json "$out/demo.json" -y
echo
echo "result: $out/demo.emsync.mp4"
echo "        $out/demo.emsync.mid (MIDI), $out/demo.json (cuts, moods, chords, timings)"
