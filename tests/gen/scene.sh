#!/usr/bin/env bash
# Clips and reference data for the decode and scene-score tests, made once into DIR. The
# reference scene scores come from the ffmpeg tool's own select filter (an independent route):
# NAME.scene.txt holds its metadata=print output, one lavfi.scene_score line per frame.
# Needs cuts.mp4 from clips.sh (generators run in name order).
set -euo pipefail
dir=${1:-build/testdata}
stamp="$dir/.scene-v2"
[ -f "$stamp" ] && exit 0
mkdir -p "$dir"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
scores() { # NAME -> DIR/NAME.scene.txt (select sees the decoded frames, in the format it
            # negotiates); run inside DIR so the filter argument holds no path characters
  (cd "$dir" && ff -i "$1" -an -vf "select='gte(scene,0)',metadata=print:file=$1.scene.txt" -f null -)
}
# Three sources joined with hard cuts at 2 and 4 s (frames 50 and 100 at 25 fps), of size $1.
three() { echo "-f lavfi -i testsrc2=s=$1:r=25:d=2 -f lavfi -i smptebars=s=$1:r=25:d=2 -f lavfi -i mandelbrot=s=$1:r=25:end_pts=2:end_scale=0.8"; }
join='[0:v][1:v][2:v]concat=n=3:v=1:a=0'

scores cuts.mp4
# yuv444p with odd sizes: select converts it to yuv420p (chroma rounding up).
ff $(three 160x96) -filter_complex "$join,trim=duration=6,scale=171:97,format=yuv444p[v]" -map "[v]" \
   -c:v libx264 -preset ultrafast -qp 10 "$dir/cuts444.mkv"
scores cuts444.mkv
# H.264 RGB decodes to gbrp: select converts it to rgb24.
ff $(three 160x90) -filter_complex "$join,trim=duration=6,format=rgb24[v]" -map "[v]" \
   -c:v libx264rgb -preset ultrafast -qp 10 "$dir/cutsrgb.mkv"
scores cutsrgb.mkv
# PNG frames decode to rgb24, which select takes as it is (one packed plane).
ff $(three 96x54) -filter_complex "$join,trim=duration=6,format=rgb24[v]" -map "[v]" \
   -c:v png "$dir/cutspng.mkv"
scores cutspng.mkv
# 10-bit 4:2:0, taken as it is (16-bit samples, mafd scaled by 4).
ff $(three 128x72) -filter_complex "$join,trim=duration=6,format=yuv420p10le[v]" -map "[v]" \
   -c:v libx264 -preset ultrafast -qp 10 "$dir/cuts10.mkv"
scores cuts10.mkv

# Known colours, losslessly coded (full-range RGB in, so the values survive): 2 s pure red,
# 2 s mid grey, 2 s blue; a 1 kHz tone in 0.5 s bursts starting every second (onsets at whole
# seconds) as PCM so its energy is exact.
ff -f lavfi -i "color=c=red:s=64x48:r=10:d=2" -f lavfi -i "color=c=0x808080:s=64x48:r=10:d=2" \
   -f lavfi -i "color=c=blue:s=64x48:r=10:d=2" \
   -f lavfi -i "aevalsrc=0.5*sin(2*PI*1000*t)*lt(mod(t\,1)\,0.5):s=48000:d=6" \
   -filter_complex "[0:v][1:v][2:v]concat=n=3:v=1:a=0,format=rgb24[v]" -map "[v]" -map 3:a \
   -c:v libx264rgb -qp 0 -c:a pcm_s16le "$dir/colours.mkv"

# Cut files that still hold half their frames: Matroska, and MP4 with the index in front.
ff -i "$dir/cuts.mp4" -c copy -movflags +faststart "$dir/faststart.mp4"
for f in cuts.mkv faststart.mp4; do
  size=$(stat -c %s "$dir/$f")
  head -c $((size / 2)) "$dir/$f" > "$dir/half-$f"
done
# Two transport streams joined byte-wise: the picture size changes and the timestamps restart
# at 0 after 2 s.
ff -f lavfi -i "testsrc2=s=160x90:r=25:d=2" -pix_fmt yuv420p -c:v libx264 -preset ultrafast "$dir/sizes-a.ts"
ff -f lavfi -i "smptebars=s=128x96:r=25:d=2" -pix_fmt yuv420p -c:v libx264 -preset ultrafast "$dir/sizes-b.ts"
cat "$dir/sizes-a.ts" "$dir/sizes-b.ts" > "$dir/sizes.ts"
rm -f "$dir/sizes-a.ts" "$dir/sizes-b.ts"
# Garbage after a valid header: the first 4 KiB of cuts.mkv followed by random bytes.
{ head -c 4096 "$dir/cuts.mkv"; head -c 60000 /dev/urandom; } > "$dir/garbage.mkv"
touch "$stamp"
