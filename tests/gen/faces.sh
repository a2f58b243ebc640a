#!/usr/bin/env bash
# A clip for the face-driven emotion test, made once into DIR from committed pictures:
#   faces.mp4  4 s of the package's demo photo with three smiling faces, then 4 s of a warm
#              plain picture without faces (a hard cut at 4 s)
set -euo pipefail
dir=${1:-build/testdata}
stamp="$dir/.faces-v2"
[ -f "$stamp" ] && exit 0
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$dir"
ffmpeg -nostdin -hide_banner -loglevel error -y \
  -loop 1 -framerate 25 -t 4 -i "$root/tests/data/faces/sample1.jpg" \
  -f lavfi -i "color=c=0x8a7560:s=960x700:r=25:d=4" \
  -filter_complex "[0:v]scale=960:700,setsar=1[a];[1:v]setsar=1[b];[a][b]concat=n=2,format=yuv420p[v]" \
  -map "[v]" -c:v libx264 -preset ultrafast "$dir/faces.mp4"
touch "$stamp"
