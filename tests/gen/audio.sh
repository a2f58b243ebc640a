#!/usr/bin/env bash
# Clips for the muxing tests, made once into DIR from the pictures of cuts.mp4 (made by clips.sh,
# which this runs first when needed: generators run in name order and "audio" sorts first).
# late44k.mp4: the cuts.mp4 pictures with stereo 44.1 kHz audio that starts at 3 s, a 440 Hz tone
# on the left and 550 Hz on the right: resampling, channel order and placement by timestamp.
# offset.mkv: cuts.mp4 with every timestamp 2 s later (as a cut from a broadcast capture).
set -euo pipefail
dir=${1:-build/testdata}
stamp="$dir/.audio-v2"
[ -f "$stamp" ] && exit 0
mkdir -p "$dir"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
[ -f "$dir/cuts.mp4" ] || bash "$(dirname "$0")/clips.sh" "$dir"
ff -i "$dir/cuts.mp4" \
   -itsoffset 3 -f lavfi -i "sine=frequency=440:sample_rate=44100:duration=17" \
   -itsoffset 3 -f lavfi -i "sine=frequency=550:sample_rate=44100:duration=17" \
   -filter_complex "[1:a][2:a]join=inputs=2:channel_layout=stereo[a]" \
   -map 0:v -map "[a]" -c:v copy -c:a aac -b:a 128k "$dir/late44k.mp4"
ff -i "$dir/cuts.mp4" -c copy -output_ts_offset 2 "$dir/offset.mkv"
touch "$stamp"
