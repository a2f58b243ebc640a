#!/usr/bin/env bash
# A video longer than emsync writes music for (4 h): 16x16 pixels at one frame a second, so it
# is small and quick to make and to decode. Made once into DIR as toolong.mp4.
set -euo pipefail
dir=${1:-build/testdata}
stamp="$dir/.toolong-v1"
[ -f "$stamp" ] && exit 0
mkdir -p "$dir"
ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i "color=c=gray:s=16x16:r=1:d=14460" \
  -c:v libx264 -preset ultrafast -g 600 "$dir/toolong.mp4"
touch "$stamp"
