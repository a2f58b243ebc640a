#!/usr/bin/env bash
# Clips with broken timing for the decode and mux tests, made once into DIR:
# jump.ts: two 2 s transport streams (25 fps, h264 + aac) joined byte-wise, the second's clock
# 100 s ahead of the first's end, as a capture resumed after a pause; the analysis and the mux
# both close such a gap (media/decode.h ES_TS_JUMP_S), so the output's frames are at 0..4 s.
set -euo pipefail
dir=${1:-build/testdata}
stamp="$dir/.media-v1"
[ -f "$stamp" ] && exit 0
mkdir -p "$dir"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
ff -f lavfi -i "testsrc2=s=160x90:r=25:d=2" -f lavfi -i "sine=f=440:d=2" -pix_fmt yuv420p -c:v libx264 \
   -preset ultrafast -c:a aac -shortest "$dir/jump-a.ts"
ff -f lavfi -i "smptebars=s=160x90:r=25:d=2" -f lavfi -i "sine=f=660:d=2" -pix_fmt yuv420p -c:v libx264 \
   -preset ultrafast -c:a aac -shortest -output_ts_offset 102 "$dir/jump-b.ts"
cat "$dir/jump-a.ts" "$dir/jump-b.ts" > "$dir/jump.ts"
rm -f "$dir/jump-a.ts" "$dir/jump-b.ts"
touch "$stamp"
