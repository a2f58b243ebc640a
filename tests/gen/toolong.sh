#!/usr/bin/env bash
# A video longer than emsync writes music for (24 h): 16x16 pixels at one frame every 10 s, so
# it is small and quick to make and to decode. Made once into DIR as toolong.mp4.
set -euo pipefail
dir=${1:-build/testdata}
stamp="$dir/.toolong-v2"
[ -f "$stamp" ] && exit 0
mkdir -p "$dir"
ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i "color=c=gray:s=16x16:r=0.1:d=86460" \
  -c:v libx264 -preset ultrafast -g 60 "$dir/toolong.mp4"
touch "$stamp"
