#!/usr/bin/env bash
# Clips for the parallel (group-of-pictures) decoding test, made once into DIR, each 12 s of
# moving test pictures at 25 fps with hard cuts every 3 s and a tone:
# gop-h264.mp4  H.264, an IDR picture every second (12 groups)
# gop-hevc.mp4  HEVC, closed groups of 25 pictures (IDR)
# gop-open.mkv  H.264 with open groups: keyframes after the first are not IDR, so one group
set -euo pipefail
dir=${1:-build/testdata}
stamp="$dir/.gop-v1"
[ -f "$stamp" ] && exit 0
mkdir -p "$dir"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
S=320x180:r=25
src=(-f lavfi -i "testsrc2=s=$S:d=3" -f lavfi -i "mandelbrot=s=$S" -f lavfi -i "testsrc=s=$S:d=3"
     -f lavfi -i "smptehdbars=s=$S:d=3" -f lavfi -i "sine=f=330:d=12"
     -filter_complex "[1:v]trim=duration=3[m];[0:v][m][2:v][3:v]concat=n=4,format=yuv420p[v]"
     -map "[v]" -map 4:a -c:a aac)
ff "${src[@]}" -c:v libx264 -preset ultrafast -g 25 "$dir/gop-h264.mp4"
ff "${src[@]}" -c:v libx265 -preset ultrafast -x265-params "keyint=25:min-keyint=25:open-gop=0:log-level=error" \
   -tag:v hvc1 "$dir/gop-hevc.mp4"
ff "${src[@]}" -c:v libx264 -preset veryfast -x264-params "keyint=25:min-keyint=25:open-gop=1" "$dir/gop-open.mkv"
touch "$stamp"
