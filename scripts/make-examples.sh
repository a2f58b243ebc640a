#!/usr/bin/env bash
# Regenerates docs/examples/: six short pieces by the built-in rules composer and the same six
# by the bundled learned model (files named learned-*), to hear and see. Five are composed for a fixed mood (the four valence/arousal corners and neutral) with
# `emsync compose`; the sixth scores a generated 20 s video that turns from calm to lively at
# a cut with `emsync score`, so its moods are the ones emsync reads from the pictures and sound.
# Each gets its MIDI file, a small Opus render (48 kb/s) and a piano-roll PNG (`emsync eval
# --svg`, converted by rsvg-convert); README.md gets a table of what `emsync eval` measures.
#
# usage: scripts/make-examples.sh [EMSYNC_BINARY]   (default: ./emsync; needs ffmpeg with
#        libopus, rsvg-convert from librsvg2-bin, jq)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/emsync}
out="$root/docs/examples"
for tool in ffmpeg rsvg-convert jq; do
  command -v "$tool" >/dev/null || { echo "make-examples: $tool is needed" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "make-examples: no emsync binary at $bin (make emsync first)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

DUR=20
CUTS=5,10,15
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }

# name|title|valence|arousal|seed (the seed also picks the key)
pieces=(
  "happy-excited|happy, excited|0.8|0.8|1"
  "happy-calm|happy, calm|0.8|-0.8|2"
  "sad-calm|sad, calm|-0.8|-0.8|3"
  "tense-excited|angry, tense|-0.8|0.8|4"
  "neutral|neutral|0|0|5"
)

# name, title, V/A text, valence for eval ('' when it changes), composer, then writes the row
finish() {
  local name=$1 title=$2 va=$3 eval_v=$4 eval_a=$5 composer=$6
  local mood=()
  [ -n "$eval_v" ] && mood=(--valence "$eval_v" --arousal "$eval_a")
  "$bin" eval "$out/$name.mid" --cuts "$CUTS" "${mood[@]}" --json "$work/$name.json" --svg "$work/$name.svg" >/dev/null
  rsvg-convert "$work/$name.svg" -o "$out/$name.png"
  ff -i "$work/$name.wav" -c:a libopus -b:a 48k -vbr on "$out/$name.ogg"
  jq -r --arg title "$title" --arg va "$va" --arg name "$name" \
    '"| \($title) | \($composer) | \($va) | \(.tempo_bpm | round) | \(.key.tonic) \(.key.mode) | \(.note_density * 10 | round / 10) | \(.hit_rate_100ms * 100 | round)% | [ogg](\($name).ogg) · [mid](\($name).mid) · [png](\($name).png) |"' \
    --arg composer "$composer" "$work/$name.json" >>"$work/rows.md"
}

: >"$work/rows.md"
# composer|file prefix|emsync option (the learned one is the bundled model)
composers=("rules||rules" "learned|learned-|emsync")
for c in "${composers[@]}"; do
  IFS='|' read -r cname prefix copt <<<"$c"
  for p in "${pieces[@]}"; do
    IFS='|' read -r name title v a seed <<<"$p"
    echo "make-examples: $prefix$name" >&2
    "$bin" compose --duration "$DUR" --valence "$v" --arousal "$a" --cuts "$CUTS" --seed "$seed" --composer "$copt" \
      -o "$out/$prefix$name.mid" --wav "$work/$prefix$name.wav" -y -q
    finish "$prefix$name" "$title" "$v, $a" "$v" "$a" "$cname"
  done
done

# A video that turns from calm to lively at 10 s: two dark, nearly still scenes over quiet brown
# noise, then two bright, saturated, moving ones over loud pulsing noise.
echo "make-examples: mood-change" >&2
S=640x360; R=25
ff -f lavfi -i "color=c=0x1a1c28:s=$S:r=$R:d=5,noise=alls=3:allf=t" \
   -f lavfi -i "color=c=0x242018:s=$S:r=$R:d=5,noise=alls=3:allf=t" \
   -f lavfi -i "smptehdbars=s=$S:r=$R:d=5,scroll=h=0.04:v=0.03,eq=brightness=0.2:saturation=1.8" \
   -f lavfi -i "testsrc2=s=$S:r=$R:d=5,scroll=h=0.06,hue=H=2*PI*t,eq=brightness=0.15:saturation=2" \
   -f lavfi -i "anoisesrc=color=brown:amplitude=0.02:sample_rate=48000:duration=10:seed=1" \
   -f lavfi -i "anoisesrc=color=pink:amplitude=0.8:sample_rate=48000:duration=10:seed=2" \
   -filter_complex "[0:v][1:v][2:v][3:v]concat=n=4,format=yuv420p[v];[5:a]volume='if(lt(mod(t,0.25),0.06),1,0.08)':eval=frame[l];[4:a][l]concat=n=2:v=0:a=1[a]" \
   -map "[v]" -map "[a]" -c:v libx264 -preset ultrafast -c:a aac "$work/clip.mp4"
for c in "${composers[@]}"; do
  IFS='|' read -r cname prefix copt <<<"$c"
  "$bin" score "$work/clip.mp4" -o "$work/scored.mp4" --cuts "$CUTS" --composer "$copt" --seed 6 \
    --midi "$out/${prefix}mood-change.mid" --wav "$work/${prefix}mood-change.wav" --json "$work/score.json" -y -q
  va=$(jq -r '[.emotion.scenes[] | "\(.valence * 100 | round / 100), \(.arousal * 100 | round / 100)"] | join(" → ")' "$work/score.json")
  finish "${prefix}mood-change" "calm → lively (a video)" "$va" "" "" "$cname"
done

{
  cat <<'EOF'
# Examples

Six 20-second pieces by the built-in `rules` composer and the same six by the bundled learned
model (`models/emsync-pop909.pt`, see [../model-card.md](../model-card.md); files named
`learned-*`), with boundaries (cuts) at 5, 10 and 15 s.
Each has a small Opus render (FluidSynth with the FluidR3 GM soundfont, 48 kb/s), the MIDI file
and a piano roll made by `emsync eval FILE.mid --cuts 5,10,15 --svg F` (time across, pitch up,
one colour per instrument, drums in their own lane, dashed orange lines at the cuts, chord names
along the top).

The first five are composed for a fixed mood with `emsync compose --duration 20 --valence V
--arousal A --cuts 5,10,15 --seed N --composer rules|emsync` (seeds 1 to 5; for the rules
composer the seed also picks the key). The last
scores a generated video with `emsync score --cuts 5,10,15 --seed 6`: two dark, nearly still
scenes over quiet noise, then two bright, saturated, moving scenes over loud pulsing noise. Its
V/A column shows the four scene moods that emsync read from the video; the music changes
tempo, texture and mode at the 10 s cut (the key column names one key for the whole piece).
The learned model writes no tempo (its timing is absolute, as EMSYNC's), so its tempo column
is the constant 240 bpm the reference writes.

Figures from `emsync eval` (definitions in [../metrics.md](../metrics.md)): tempo of the tempo
map in bpm, the key found by the Krumhansl-Kessler key finder, note onsets per second, and the
share of cuts with a chord onset within 0.1 s.

| mood | composer | valence, arousal | tempo | key | notes/s | hit rate ±0.1 s | files |
|---|---|---|---:|---|---:|---:|---|
EOF
  cat "$work/rows.md"
  cat <<'EOF'

The two composers compared on 18 pieces (chords at cuts, mood correlations, POP909's range,
silences, speed): [../model-card.md](../model-card.md#measured-behaviour).

Regenerate everything with `scripts/make-examples.sh [path/to/emsync]` (needs ffmpeg with
libopus, rsvg-convert from librsvg2-bin and jq). The MIDI files are byte-identical for the same
emsync version; the Opus files may differ slightly between FluidSynth and FFmpeg versions.
EOF
} >"$out/README.md"
du -ch "$out" | tail -n 1 | sed 's/^/make-examples: docs\/examples is /' >&2
