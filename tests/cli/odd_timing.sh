# Videos whose timing lies: the music fits the real picture, memory stays bounded, and a picture
# over the decoder's size limit is refused with one line. Clips from tests/gen/media.sh.
. "$(dirname "$0")/../cli-lib.sh"
d=$ES_TEST_DATA
cd "$scratch" || exit 1
# peak memory is checked on the optimised build (the sanitizers' own memory would swamp it)
sanitized=0
ldd "$ES_BIN" 2>/dev/null | grep -q libasan && sanitized=1

# score_fits CLIP SECONDS: the output's video and music both last SECONDS (+- 0.1 s)
score_fits() {
  local clip=$1 want=$2 out
  out="$scratch/$(basename "$clip").out.mp4"
  /usr/bin/time -f %M -o rss.txt "$ES_BIN" score "$d/$clip" -o "$out" --faces off -q 2>err.txt ||
    { fail "$clip: score failed: $(cat err.txt)"; return; }
  for kind in v a; do
    local got
    got=$(ffprobe -v error -select_streams $kind:0 -show_entries stream=duration -of csv=p=0 "$out")
    check "$clip: the $kind stream lasts $want s (got $got)" awk -v g="$got" -v w="$want" 'BEGIN { exit !(g > w - 0.1 && g < w + 0.1) }'
  done
  [ "$sanitized" = 1 ] || check "$clip: peak RSS under 300 MB ($(($(cat rss.txt) / 1024)) MB)" test "$(cat rss.txt)" -lt 307200
}
score_fits wrongdur.mkv 20     # the container says 10 hours
score_fits gap2h.ts 4          # a 2-hour hole in the clock, closed as in jump.ts
score_fits audiotail.mkv 10    # sound goes on for 50 s after the last picture

"$ES_BIN" analyze "$d/wrongdur.mkv" --faces off --json wrongdur.json -q || fail "analyze wrongdur.mkv failed"
check "wrongdur.mkv: analyze reports the real duration" jq -e '.duration > 19.9 and .duration < 20.1' wrongdur.json

expect_error 1 "huge.mkv: picture size 8200x8200 is over emsync's limit of 67108864 pixels" -- score "$d/huge.mkv" --faces off
expect_error 1 "huge.mkv: picture size 8200x8200 is over emsync's limit" -- analyze "$d/huge.mkv" --faces off
check "huge.mkv: nothing left beside it" test -z "$(find "$d" -name 'huge.emsync*' -o -name '.huge*')"
finish
