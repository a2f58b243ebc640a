#!/usr/bin/env bash
# Clips with known affect for the emotion tests, made once into DIR:
#   calm.mp4   6 s, dark grey, almost still, quiet low noise
#   lively.mp4 6 s, bright saturated colour bars scrolling fast, loud pulsing noise
#   mixed.mp4  calm then lively, a hard cut at 6 s
set -euo pipefail
dir=${1:-build/testdata}
stamp="$dir/.emotion-v2"
[ -f "$stamp" ] && exit 0
mkdir -p "$dir"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
S=320x240; R=25
ff -f lavfi -i "color=c=0x1c1c24:s=$S:r=$R:d=6,noise=alls=3:allf=t" \
   -f lavfi -i "anoisesrc=color=brown:amplitude=0.02:sample_rate=48000:duration=6:seed=1" \
   -pix_fmt yuv420p -c:v libx264 -preset ultrafast -c:a aac -shortest "$dir/calm.mp4"
ff -f lavfi -i "smptehdbars=s=$S:r=$R:d=6,scroll=h=0.04:v=0.03,eq=brightness=0.15:saturation=1.6" \
   -f lavfi -i "anoisesrc=color=pink:amplitude=0.8:sample_rate=48000:duration=6:seed=2" \
   -af "volume='if(lt(mod(t,0.25),0.06),1,0.08)':eval=frame" \
   -pix_fmt yuv420p -c:v libx264 -preset ultrafast -c:a aac -shortest "$dir/lively.mp4"
ff -i "$dir/calm.mp4" -i "$dir/lively.mp4" \
   -filter_complex "[0:v][0:a][1:v][1:a]concat=n=2:v=1:a=1[v][a]" -map "[v]" -map "[a]" \
   -c:v libx264 -preset ultrafast -c:a aac "$dir/mixed.mp4"
touch "$stamp"
