# Every JSON that emsync writes parses (jq) and holds no NaN or Infinity (which JSON does not
# have; the writer turns non-finite numbers into null): score, analyze (file and stdout),
# compose, eval and faces, on ordinary input and on the corner cases that make non-finite
# figures (a video without audio, a short one without cuts, a tiny piece, a MIDI file without notes).
. "$(dirname "$0")/../cli-lib.sh"
d=$ES_TEST_DATA
cd "$scratch"

valid() { # FILE: parses, one top-level object, no bare NaN/Infinity outside strings
  local f=$1
  check "$f parses" jq -e 'type == "object"' "$f"
  check "$f: no NaN/Infinity" not grep -Eiq '(^|[:,\[ ])-?(nan|inf|infinity)([,}\] ]|$)' "$f"
  check "$f: numbers all finite" jq -e '[.. | numbers | select(isinfinite or isnan)] | length == 0' "$f"
}

"$ES_BIN" score "$d/cuts.mp4" -o cuts.mp4 --json score.json -q || fail "score failed"
valid score.json
"$ES_BIN" score "$d/noaudio.mp4" -o noaudio.mp4 --json noaudio.json --original-audio mix -q || fail "score noaudio failed"
valid noaudio.json
check "no audio: loudness null, not -inf" jq -e '[.emotion.scenes[].features.loudness_lufs | select(. != null and (. < -200))] | length == 0' noaudio.json
"$ES_BIN" analyze "$d/short.mp4" -q >short.json || fail "analyze to stdout failed"
valid short.json
"$ES_BIN" analyze "$d/mixed.mp4" --json mixed.json --cuts '' -q >stdout.txt || fail "analyze --json failed"
valid mixed.json
check "analyze --json: stdout empty" [ ! -s stdout.txt ]
check "--cuts '': no boundaries" jq -e '.cuts.boundaries == [] and .cuts.source == "user"' mixed.json
# a file name that is not UTF-8 (Latin-1 e-acute) and has a control character: JSON and SVG stay valid
ln -s "$d/short.mp4" "$(printf 'caf\351\001.mp4')"
"$ES_BIN" analyze "$(printf 'caf\351\001.mp4')" --svg latin1.svg -q >latin1.json || fail "analyze of a Latin-1 name failed"
valid latin1.json
check "Latin-1 name: SVG well-formed" xmllint --noout latin1.svg
"$ES_BIN" compose --duration 0.1 -o tiny.mid --json tiny.json -q || fail "compose 0.1 s failed"
valid tiny.json
"$ES_BIN" compose --duration 20 --cuts 5,10 --emotion fear -o fear.mid --json compose.json -q || fail "compose failed"
valid compose.json
"$ES_BIN" eval fear.mid --cuts 5,10 --valence -0.5 --arousal 0.5 --json eval.json >/dev/null || fail "eval failed"
valid eval.json
# a MIDI file with one track and no notes: the averages have nothing to average
printf 'MThd\0\0\0\006\0\0\0\001\001\340MTrk\0\0\0\004\0\377\057\0' >empty.mid
"$ES_BIN" eval empty.mid --cuts 1 --json empty.json >/dev/null 2>err.txt
if [ -e empty.json ]; then valid empty.json; else check "eval of an empty MIDI fails cleanly" [ "$(wc -l <err.txt)" -eq 1 ]; fi
"$ES_BIN" eval fear.mid --json - 2>/dev/null >eval-stdout.json || fail "eval --json - failed"
valid eval-stdout.json
if "$ES_BIN" faces "$ES_ROOT/tests/data/faces/sample1.jpg" >faces.json 2>err.txt; then
  valid faces.json
elif ! grep -q install-deps err.txt; then
  fail "faces failed: $(cat err.txt)"
fi
finish
