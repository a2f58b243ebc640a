#!/usr/bin/env bash
# long.mp4: a 60 s clip (small: 160x120, 15 fps) with hard cuts every 10 s and a tone, for the
# tests that interrupt a run midway (signals) or watch its progress. Made once into DIR.
set -euo pipefail
dir=${1:-build/testdata}
stamp="$dir/.long-v1"
[ -f "$stamp" ] && exit 0
mkdir -p "$dir"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
S=160x120; R=15
ff -f lavfi -i "testsrc2=s=$S:r=$R:d=10" -f lavfi -i "smptebars=s=$S:r=$R:d=10" \
   -f lavfi -i "rgbtestsrc=s=$S:r=$R:d=10" -f lavfi -i "testsrc=s=$S:r=$R:d=10" \
   -f lavfi -i "color=c=0x2040a0:s=$S:r=$R:d=10" -f lavfi -i "mandelbrot=s=$S:r=$R" \
   -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=60" \
   -filter_complex "[5:v]trim=duration=10,setpts=PTS-STARTPTS[m];[0:v][1:v][2:v][3:v][4:v][m]concat=n=6:v=1:a=0,format=yuv420p[v]" \
   -map "[v]" -map 6:a -c:v libx264 -preset ultrafast -g 30 -c:a aac -b:a 64k "$dir/long.mp4"
touch "$stamp"
