#!/usr/bin/env bash
# make bench: speed and memory figures as markdown tables on stdout.
#  1. emsync score on a generated 60 s 1280x720 clip with cuts: wall time per stage, real-time
#     factor, peak RSS, beside FFmpeg's own scene pass over the same file (best of 2 each).
#     On generated 30-minute and 2-hour 320x180 clips, once: analyze with faces against FFmpeg's
#     scene pass, peak RSS and wall time of score.
#  2. the emotion stage's cost: analyze with and without the face nets.
#  3. emsync batch over 20 short clips against running them one after another and two at a time
#     (bench/batch.sh); emsync serve under load: a re-render of a 1-minute clip, 200 status
#     polls a second for 30 s during a job, 20 uploads in a row (bench/serve.py).
#  4. the per-module programs in BUILD/bench: decode, audio, faces, composer, EMSYNC network
#     (on a random-weight checkpoint of the released shapes, made once by
#     scripts/make-random-checkpoint.py, and on the bundled model).
#  5. the bundled model as a composer against its targets (bench/model-eval.py; POP909=DIR adds
#     POP909's own range of pitch-class entropy and note density), and how closely it follows
#     moods that change every 6 s (bench/scene-eval.py, on serve.py's 1-minute clip).
set -uo pipefail
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

now() { date +%s.%N; }
# best_of N CMD...: the shortest wall time of N runs, in seconds
best_of() {
  local n=$1 best="" t0 t; shift
  for _ in $(seq "$n"); do
    t0=$(now); "$@" >/dev/null 2>&1 || { echo "bench: $* failed" >&2; return 1; }
    t=$(echo "$(now) - $t0" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
  done
  echo "$best"
}

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo "machine: $cpu, $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "clip: 60 s 1280x720 30 fps h264 + aac, 7 hard cuts"
echo

# FFmpeg's scene pass, decoding the sound as emsync does; each stream to its own null output,
# since a single one waits for video frames that the select drops (with no cut in 30 minutes,
# "Too many packets buffered" ends it)
ff_scene() { ffmpeg -nostdin -v error -i "$1" -map 0:v -vf "select='gt(scene,0.27)'" -f null - -map 0:a -f null -; }
ff_time=$(best_of 2 ff_scene "$clip")
out="$work/out.mp4"; json="$work/out.json"
score() { "$bin" score "$clip" -o "$out" --json "$json" --seed 1 -y -q "$@"; }
score_time=$(best_of 2 score)
rules_time=$(best_of 2 score --composer rules)
/usr/bin/time -f "%M" -o "$work/rss.txt" "$bin" score "$clip" -o "$out" --json "$json" --seed 1 -y -q
rss_mb=$(echo "$(cat "$work/rss.txt") / 1024" | bc -l)

echo "### emsync score, stage by stage (last run)"
echo
echo "| stage | wall s |"
echo "|---|---:|"
jq -r '.timings | to_entries[] | select(.key != "total") | "| \(.key) | \(.value * 1000 | round / 1000) |"' "$json"
echo
echo "### emsync score against FFmpeg's scene pass (best of 2 runs each)"
echo
printf '| figure | value |\n|---|---:|\n'
printf '| ffmpeg -vf select=scene pass (and the sound decoded), wall s | %.2f |\n' "$ff_time"
printf '| emsync score (faces on, default composer: %s), wall s | %.2f |\n' "$(jq -r .music.composer "$json")" "$score_time"
printf '| score / ffmpeg scene pass (target <= 1.5) | %.2f |\n' "$(echo "$score_time / $ff_time" | bc -l)"
printf '| emsync score --composer rules, wall s | %.2f |\n' "$rules_time"
printf '| score --composer rules / ffmpeg scene pass | %.2f |\n' "$(echo "$rules_time / $ff_time" | bc -l)"
printf '| real-time factor (video s / wall s) | %.1fx |\n' "$(echo "60 / $score_time" | bc -l)"
printf '| peak RSS, MB | %.0f |\n' "$rss_mb"
echo

# long films: the music is streamed and per-frame data reduced as it comes, so the peak should
# not grow with the length; the face nets are rationed on small pictures (see docs/emotion.md)
long_clip() {  # long_clip FILE SECONDS: 320x180 25 fps test pattern with a tone, made once
  [ -s "$1" ] || ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=s=320x180:r=25:d=$2" \
    -f lavfi -i "sine=d=$2" -c:v libx264 -preset ultrafast -c:a aac "$1"
}
peak_mb() { /usr/bin/time -f "%M" -o "$work/rss-tmp.txt" "$@" >/dev/null 2>&1 &&
  echo "$(cat "$work/rss-tmp.txt") / 1024" | bc -l; }
minute="$work/long1-180p.mp4"; long="$work/long30-180p.mp4"; film="$work/long120-180p.mp4"
long_clip "$minute" 60
long_clip "$long" 1800
long_clip "$film" 7200
ff_long=$(best_of 1 ff_scene "$long")
faces_long=$(best_of 1 "$bin" analyze "$long" -q)
t0=$(now)
rss30=$(peak_mb "$bin" score "$long" -o "$work/long-out.mp4" --composer rules -y -q)
long_time=$(echo "$(now) - $t0" | bc -l)
rss120=$(peak_mb "$bin" score "$film" -o "$work/long-out.mp4" --composer rules -y -q)
rss1=$(peak_mb "$bin" score "$minute" -o "$work/long-out.mp4" --composer rules -y -q)
# analyze's peak from 1 minute to 2 hours, beside FFmpeg's own scene pass over the same files
# (whose MP4 demuxer holds an index entry per packet)
an1=$(peak_mb "$bin" analyze "$minute" -q); an120=$(peak_mb "$bin" analyze "$film" -q)
ff_rss() { peak_mb ffmpeg -nostdin -v error -i "$1" -map 0:v -vf "select='gt(scene,0.27)'" -f null - -map 0:a -f null -; }
ff1=$(ff_rss "$minute"); ff120=$(ff_rss "$film")
# score writes an MP4 too: FFmpeg's own remux of the same files (video copied, sound to AAC)
# holds both files' packet indexes, as score does
ff_mux_rss() { peak_mb ffmpeg -nostdin -v error -y -i "$1" -map 0:v -map 0:a -c:v copy -c:a aac "$work/long-ff.mp4"; }
fm1=$(ff_mux_rss "$minute"); fm120=$(ff_mux_rss "$film"); rm -f "$work/long-ff.mp4"
echo "### long films (320x180, 25 fps test pattern with a tone; --composer rules)"
echo
printf '| figure | value |\n|---|---:|\n'
printf '| ffmpeg -vf select=scene pass on 30 min, wall s | %.2f |\n' "$ff_long"
printf '| analyze with face nets on 30 min, wall s | %.2f |\n' "$faces_long"
printf '| analyze with faces / ffmpeg scene pass, 30 min (target <= 2) | %.2f |\n' "$(echo "$faces_long / $ff_long" | bc -l)"
printf '| peak RSS of score, 30 min, MB (target <= 300) | %.0f |\n' "$rss30"
printf '| its wall time, s | %.1f |\n' "$long_time"
printf '| peak RSS of score, 2 hours, MB (target <= 300) | %.0f |\n' "$rss120"
printf '| peak RSS of score, 1 min, MB | %.0f |\n' "$rss1"
printf '| peak RSS of an ffmpeg remux (video copied, sound to AAC), 1 min / 2 hours, MB | %.0f / %.0f |\n' "$fm1" "$fm120"
printf '| growth from 1 min to 2 hours, score less the ffmpeg remux, MB | %.0f |\n' "$(echo "($rss120 - $rss1) - ($fm120 - $fm1)" | bc -l)"
printf '| peak RSS of analyze, 1 min / 2 hours, MB | %.0f / %.0f |\n' "$an1" "$an120"
printf '| peak RSS of the ffmpeg scene pass, 1 min / 2 hours, MB | %.0f / %.0f |\n' "$ff1" "$ff120"
printf '| growth from 1 min to 2 hours, analyze less ffmpeg, MB | %.0f |\n' "$(echo "($an120 - $an1) - ($ff120 - $ff1)" | bc -l)"
rm -f "$work/long-out.mp4"
echo

off=$(best_of 2 "$bin" analyze "$clip" --faces off -q)
on=$(best_of 2 "$bin" analyze "$clip" -q)
echo "### the emotion stage (analyze, best of 2)"
echo
printf '| figure | value |\n|---|---:|\n'
printf '| analyze without face nets, wall s | %.2f |\n' "$off"
printf '| analyze with face nets, wall s | %.2f |\n' "$on"
printf '| added by the face nets (target <= 30%%) | %.0f%% |\n' "$(echo "($on - $off) * 100 / $off" | bc -l)"
echo

echo "### emsync batch against the same jobs run by hand (bench/batch.sh)"
echo
"$root/bench/batch.sh" "$bin" "$work" || echo "(bench/batch.sh failed: exit $?)"
echo

echo "### emsync serve on loopback: re-render, polls during a job, 20 uploads (bench/serve.py)"
echo
/usr/bin/python3 "$root/bench/serve.py" "$bin" "$work" || echo "(bench/serve.py failed: exit $?)"
echo

run_bench() {
  local name=$1; shift
  local b="$root/$build/bench/$name"
  [ -x "$b" ] || return 0
  echo "### $name"
  echo
  "$b" "$@" || echo "($name reported a missed target or failed: exit $?)"
  echo
}
run_bench bench_decode --header "$clip"
run_bench bench_audio "$clip"
run_bench bench_faces
run_bench bench_compose
model="$work/random-released.pt"
if [ ! -s "$model" ]; then
  python3 "$root/scripts/make-random-checkpoint.py" "$model" --seed 1 >/dev/null || rm -f "$model"
fi
[ -s "$model" ] && run_bench bench_nn "$model"
# the bundled learned model: its network, then its targets as a composer (POP909's own range of
# entropy and density when POP909=DIR is given)
if [ -s "$root/models/emsync-pop909.pt" ]; then
  run_bench bench_nn "$root/models/emsync-pop909.pt"
  echo "### the learned composer (bench/model-eval.py)"
  echo
  python3 "$root/bench/model-eval.py" --emsync "$bin" --work "$work/model-eval" ${POP909:+--pop909 "$POP909"} ||
    echo "(model-eval failed: exit $?)"
  echo
  echo "### the learned composer with a mood per 6 s scene (bench/scene-eval.py, 20 plans)"
  echo
  EMSYNC_MODEL="$root/models/emsync-pop909.pt" python3 "$root/bench/scene-eval.py" "$bin" "$work/serve-60s.mp4" \
    "$work/scene-eval" --plans 20 || echo "(scene-eval failed: exit $?)"
  echo
fi
exit 0
