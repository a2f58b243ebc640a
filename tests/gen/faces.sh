#!/usr/bin/env bash
# A clip for the face-driven emotion test, made once into DIR from committed pictures:
#   faces.mp4  4 s of the package's demo photo with three smiling faces, then 4 s of a warm
#              plain picture without faces (a hard cut at 4 s)
#   faces-late.mp4  40 s at 320x240, small enough that face looks are rationed: 12 s of a plain
#              picture, a 1.5 s shot of the photo (hard cuts), then another plain picture that
#              fades into the photo at 30-31 s, without a cut, the faces staying to the end
set -euo pipefail
dir=${1:-build/testdata}
stamp="$dir/.faces-v3"
[ -f "$stamp" ] && exit 0
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$dir"
ffmpeg -nostdin -hide_banner -loglevel error -y \
  -loop 1 -framerate 25 -t 4 -i "$root/tests/data/faces/sample1.jpg" \
  -f lavfi -i "color=c=0x8a7560:s=960x700:r=25:d=4" \
  -filter_complex "[0:v]scale=960:700,setsar=1[a];[1:v]setsar=1[b];[a][b]concat=n=2,format=yuv420p[v]" \
  -map "[v]" -c:v libx264 -preset ultrafast "$dir/faces.mp4"
photo=$root/tests/data/faces/sample1.jpg
ffmpeg -nostdin -hide_banner -loglevel error -y \
  -f lavfi -i "color=c=0x8a7560:s=320x240:r=25:d=12" -loop 1 -framerate 25 -t 1.5 -i "$photo" \
  -f lavfi -i "color=c=0x506070:s=320x240:r=25:d=17.5" -loop 1 -framerate 25 -t 10 -i "$photo" \
  -filter_complex "[0:v]setsar=1,format=yuv420p[a];[1:v]scale=320:240,setsar=1,format=yuv420p[b];
[2:v]setsar=1,format=yuv420p[c];[3:v]scale=320:240,setsar=1,format=yuv420p,fps=25[d];
[c][d]xfade=transition=fade:duration=1:offset=16.5[cd];[a][b][cd]concat=n=3,format=yuv420p[v]" \
  -map "[v]" -c:v libx264 -preset ultrafast "$dir/faces-late.mp4"
touch "$stamp"
