#!/usr/bin/env bash
# Core clips for the CLI and media tests, made once into DIR: clips whose scene cuts
# are known because they are built from separate sources joined with hard cuts, plus the bad
# inputs the error tests need. Uses the ffmpeg command-line tool, an independent route.
set -euo pipefail
dir=${1:-build/testdata}
stamp="$dir/.clips-v1"
[ -f "$stamp" ] && exit 0
mkdir -p "$dir"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
S=320x240; R=25

# cuts.mp4: 20 s, hard cuts at 5, 7, 12 and 17 s (frames 125, 175, 300, 425). With a 4 s minimum
# gap the kept boundaries are 5, 12 and 17. A 440 Hz tone as the original audio.
ff -f lavfi -i "testsrc2=s=$S:r=$R:d=5" \
   -f lavfi -i "smptebars=s=$S:r=$R:d=2" \
   -f lavfi -i "rgbtestsrc=s=$S:r=$R:d=5" \
   -f lavfi -i "testsrc=s=$S:r=$R:d=5" \
   -f lavfi -i "color=c=0x2040a0:s=$S:r=$R:d=3" \
   -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=20" \
   -filter_complex "[0:v][1:v][2:v][3:v][4:v]concat=n=5:v=1:a=0,format=yuv420p[v]" \
   -map "[v]" -map 5:a -c:v libx264 -preset ultrafast -g 50 -c:a aac -b:a 96k "$dir/cuts.mp4"
# The same pictures in Matroska with Opus audio.
ff -i "$dir/cuts.mp4" -c:v copy -c:a libopus -b:a 64k "$dir/cuts.mkv"
# No audio at all.
ff -i "$dir/cuts.mp4" -c:v copy -an "$dir/noaudio.mp4"
# 2.5 s without cuts (no fade-out for videos of 3 s or less).
ff -f lavfi -i "testsrc2=s=$S:r=$R:d=2.5" -pix_fmt yuv420p -c:v libx264 -preset ultrafast "$dir/short.mp4"
# Bad inputs.
ff -f lavfi -i "sine=frequency=330:sample_rate=44100:duration=3" -c:a aac "$dir/audio-only.m4a"
ff -f lavfi -i "testsrc2=s=64x48:r=1:d=1" -frames:v 1 "$dir/image.png"
printf 'this is not a video\n' > "$dir/text.txt"
: > "$dir/empty.mp4"
size=$(stat -c %s "$dir/cuts.mp4")
head -c $((size / 2)) "$dir/cuts.mp4" > "$dir/truncated.mp4"
touch "$stamp"
