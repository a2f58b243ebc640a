#!/usr/bin/env bash
# emsync batch against running the same jobs by hand: 20 short generated clips (5 s, 640x360,
# a hard cut, a tone), scored one after another, two at a time (xargs -P 2), by `batch -j 2`
# and by `batch` with its default -j. Prints a markdown table. Usage: bench/batch.sh EMSYNC WORKDIR
set -uo pipefail
bin=$1 work=$2
clips="$work/batch-clips"
if [ ! -s "$clips/clip20.mp4" ]; then
  mkdir -p "$clips"
  for i in $(seq 1 20); do
    ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=s=640x360:r=25:d=2.5" -f lavfi -i "mandelbrot=s=640x360:r=25:end_scale=$i" \
      -f lavfi -i "sine=frequency=$((200 + 10 * i)):sample_rate=48000:duration=5" \
      -filter_complex "[1:v]trim=duration=2.5,format=yuv420p[b];[0:v][b]concat=n=2,format=yuv420p[v]" \
      -map "[v]" -map 2:a -c:v libx264 -preset veryfast -crf 26 -c:a aac -shortest "$clips/clip$i.mp4" || exit 1
  done
fi
now() { date +%s.%N; }
timed() { local t0; t0=$(now); "$@" >/dev/null 2>&1 || { echo "bench: $* failed" >&2; echo nan; return; }; echo "$(now) - $t0" | bc -l; }
fresh() { rm -rf "$work/batch-out"; mkdir -p "$work/batch-out"; }
one() { "$bin" score "$1" -o "$work/batch-out/$(basename "$1")" -q; }
export -f one; export bin work
seq_run() { for f in "$clips"/clip*.mp4; do one "$f" || return 1; done; }
pair_run() { ls "$clips"/clip*.mp4 | xargs -P 2 -I{} bash -c 'one "$1"' _ {}; }
best() { # best of 2 runs of a runner, each from empty outputs
  local a b; fresh; a=$(timed "$@"); fresh; b=$(timed "$@")
  echo "if ($a < $b) $a else $b" | bc -l
}
t_seq=$(best seq_run)
t_pair=$(best pair_run)
t_j2=$(best "$bin" batch "$clips" -o "$work/batch-out" -j 2 -q)
t_def=$(best "$bin" batch "$clips" -o "$work/batch-out" -q)
fresh; "$bin" batch "$clips" -o "$work/batch-out" -q --summary "$work/batch-summary.jsonl" >/dev/null 2>&1
ok=$(grep -c '"status":"ok"' "$work/batch-summary.jsonl")
best_manual=$(echo "if ($t_seq < $t_pair) $t_seq else $t_pair" | bc -l)
printf '| figure (20 clips of 5 s, best of 2) | value |\n|---|---:|\n'
printf '| one after another (score, default threads), wall s | %.2f |\n' "$t_seq"
printf '| two at a time (xargs -P 2), wall s | %.2f |\n' "$t_pair"
printf '| emsync batch -j 2, wall s | %.2f |\n' "$t_j2"
printf '| emsync batch (default -j), wall s | %.2f |\n' "$t_def"
printf '| batch -j 2 / best by hand (target <= 1.10) | %.2f |\n' "$(echo "$t_j2 / $best_manual" | bc -l)"
printf '| rows ok in the summary | %d/20 |\n' "$ok"
