#!/usr/bin/env bash
# make bench: speed and memory figures, printed as markdown tables on stdout.
#  1. emsync score on a generated 60 s 1280x720 clip with cuts: wall time per stage, real-time
#     factor, peak RSS, beside FFmpeg's own scene pass over the same file.
#  2. every bench/bench_* program in BUILD/bench (model, composer, faces ...), in turn.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/$build/emsync"
work="$root/build/bench-data"
mkdir -p "$work"
clip="$work/bench-720p.mp4"
if [ ! -s "$clip" ]; then
  # 60 s: seven moving test sources of 7 to 10 s joined by hard cuts, a tone as the audio
  S=1280x720:r=30
  ffmpeg -nostdin -v error -y \
    -f lavfi -i "testsrc2=s=$S" -f lavfi -i "mandelbrot=s=$S" -f lavfi -i "testsrc=s=$S" \
    -f lavfi -i "smptehdbars=s=$S" -f lavfi -i "cellauto=s=$S:rule=110" \
    -f lavfi -i "life=s=$S:mold=10:ratio=0.1" -f lavfi -i "rgbtestsrc=s=$S" \
    -f lavfi -i "sine=frequency=220:sample_rate=48000:duration=60" \
    -filter_complex "[0:v]trim=duration=10[a];[1:v]trim=duration=9[b];[2:v]trim=duration=8[c];[3:v]trim=duration=7[d];[4:v]trim=duration=9,format=yuv420p[e];[5:v]trim=duration=9,format=yuv420p[f];[6:v]trim=duration=8[g];[a][b][c][d][e][f][g]concat=n=7,format=yuv420p[v]" \
    -map "[v]" -map 7:a -c:v libx264 -preset veryfast -crf 23 -g 60 -c:a aac "$clip"
fi

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo "machine: $cpu, $(nproc) cores; clip: 60 s 1280x720 30 fps h264 with cuts"
echo

ff_start=$(date +%s.%N)
ffmpeg -nostdin -v error -i "$clip" -vf "select='gt(scene,0.27)'" -f null - 
ff_time=$(echo "$(date +%s.%N) - $ff_start" | bc -l)

out="$work/out.mp4"; json="$work/out.json"
rm -f "$out" "$work/out.emsync.mid"
/usr/bin/time -f "%M" -o "$work/rss.txt" "$bin" score "$clip" -o "$out" --json "$json" --seed 1 -y -q
rss_mb=$(echo "$(cat "$work/rss.txt") / 1024" | bc -l)
total=$(jq '.timings.total' "$json")

echo "| stage | wall s |"
echo "|---|---:|"
jq -r '.timings | to_entries[] | "| \(.key) | \(.value * 1000 | round / 1000) |"' "$json"
echo
printf '| figure | value |\n|---|---:|\n'
printf '| emsync score, total wall s | %.2f |\n' "$total"
printf '| real-time factor (video s / wall s) | %.1fx |\n' "$(echo "60 / $total" | bc -l)"
printf '| peak RSS MB | %.0f |\n' "$rss_mb"
printf '| ffmpeg scene pass alone, wall s | %.2f |\n' "$ff_time"
printf '| score / ffmpeg scene pass (target <= 1.5) | %.2f |\n' "$(echo "$total / $ff_time" | bc -l)"
echo

for b in "$root/$build"/bench/bench_*; do
  [ -x "$b" ] || continue
  echo "## $(basename "$b")"
  "$b" "$clip" || echo "($(basename "$b") failed)"
  echo
done
