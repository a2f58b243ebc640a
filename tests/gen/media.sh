#!/usr/bin/env bash
# Clips with broken timing (and one too large picture) for the decode, mux and odd-timing tests,
# made once into DIR:
# jump.ts: two 2 s transport streams (25 fps, h264 + aac) joined byte-wise, the second's clock
# 100 s ahead of the first's end, as a capture resumed after a pause; the analysis and the mux
# both close such a gap (media/decode.h ES_TS_JUMP_S), so the output's frames are at 0..4 s.
set -euo pipefail
dir=${1:-build/testdata}
stamp="$dir/.media-v2"
[ -f "$stamp" ] && exit 0
mkdir -p "$dir"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
ff -f lavfi -i "testsrc2=s=160x90:r=25:d=2" -f lavfi -i "sine=f=440:d=2" -pix_fmt yuv420p -c:v libx264 \
   -preset ultrafast -c:a aac -shortest "$dir/jump-a.ts"
ff -f lavfi -i "smptebars=s=160x90:r=25:d=2" -f lavfi -i "sine=f=660:d=2" -pix_fmt yuv420p -c:v libx264 \
   -preset ultrafast -c:a aac -shortest -output_ts_offset 102 "$dir/jump-b.ts"
cat "$dir/jump-a.ts" "$dir/jump-b.ts" > "$dir/jump.ts"
rm -f "$dir/jump-a.ts" "$dir/jump-b.ts"
# wrongdur.mkv: 20 s of picture and sound whose container says 10 hours (the Duration element
# rewritten), as a file cut short by a broken copy.
ff -f lavfi -i "testsrc2=s=160x90:r=25:d=20" -f lavfi -i "sine=f=440:d=20" -pix_fmt yuv420p -c:v libx264 \
   -preset ultrafast -c:a aac -shortest "$dir/wrongdur.mkv"
python3 - "$dir/wrongdur.mkv" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
at = data.find(b"\x44\x89\x88")  # Segment Info Duration: an 8-byte float, in milliseconds here
assert at > 0, "no Duration element"
data[at + 3:at + 11] = struct.pack(">d", 10 * 3600 * 1000.0)
open(sys.argv[1], "wb").write(data)
PY
# gap2h.ts: as jump.ts, with a 2-hour gap in the clock between the two halves.
ff -f lavfi -i "testsrc2=s=160x90:r=25:d=2" -f lavfi -i "sine=f=440:d=2" -pix_fmt yuv420p -c:v libx264 \
   -preset ultrafast -c:a aac -shortest "$dir/gap-a.ts"
ff -f lavfi -i "smptebars=s=160x90:r=25:d=2" -f lavfi -i "sine=f=660:d=2" -pix_fmt yuv420p -c:v libx264 \
   -preset ultrafast -c:a aac -shortest -output_ts_offset 7202 "$dir/gap-b.ts"
cat "$dir/gap-a.ts" "$dir/gap-b.ts" > "$dir/gap2h.ts"
rm -f "$dir/gap-a.ts" "$dir/gap-b.ts"
# audiotail.mkv: 10 s of picture, 60 s of sound (no video frame after 10 s).
ff -f lavfi -i "testsrc2=s=160x90:r=25:d=10" -f lavfi -i "sine=f=440:d=60" -pix_fmt yuv420p -c:v libx264 \
   -preset ultrafast -c:a aac "$dir/audiotail.mkv"
# huge.mkv: one grey picture of 8200x8200 (PNG, 90 kB), over the decoder's pixel limit.
ff -f lavfi -i "color=c=gray:s=8200x8200:r=1:d=1" -pix_fmt gray -c:v png "$dir/huge.mkv"
touch "$stamp"
