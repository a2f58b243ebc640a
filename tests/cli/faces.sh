#!/usr/bin/env bash
# emsync faces: JSON of the faces in a picture or a video frame, checked against the face-api
# reference in tests/data/faces; usage errors exit 2, runtime errors exit 1 with one line and
# leave no output file.
set -u
bin=${ES_BIN:?}; data=${ES_TEST_DATA:?}; root=${ES_ROOT:-.}
faces=$root/tests/data/faces
fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
bad() { echo "FAIL: $*"; fail=1; }

# expect CODE ARGS...: runs emsync faces ARGS, checks the exit status; stdout/stderr in $tmp
expect() {
  local code=$1; shift
  "$bin" faces "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  [ "$rc" -eq "$code" ] || bad "faces $* exited $rc, expected $code: $(head -c 300 "$tmp/err")"
  if [ "$code" -ne 0 ]; then
    [ "$(wc -l <"$tmp/err")" -ge 1 ] || bad "faces $*: no error message"
    [ ! -s "$tmp/out" ] || bad "faces $*: wrote to stdout on failure"
  fi
}
count() { grep -c '"box"' "$1"; }

if ! "$bin" faces "$faces/noface.png" >/dev/null 2>"$tmp/probe"; then
  if grep -q "install-deps" "$tmp/probe"; then
    echo "SKIP: face models not installed (scripts/install-face-models.sh)"; exit 0
  fi
fi

expect 0 "$faces/sample1.jpg"
[ "$(count "$tmp/out")" -eq 3 ] || bad "sample1: $(count "$tmp/out") faces, expected 3"
for k in neutral happy sad angry fearful disgusted surprised score; do
  grep -q "\"$k\"" "$tmp/out" || bad "sample1: no \"$k\" in the JSON"
done
# the single face of gray.png: box within 0.5 px and sad probability within 0.02 of the reference
expect 0 "$faces/gray.png"
ref_x=$(grep -A1 '"box"' "$faces/gray.json" | tail -1 | tr -dc '0-9.')
got_x=$(grep -A1 '"box"' "$tmp/out" | tail -1 | tr -dc '0-9.')
awk -v a="$ref_x" -v b="$got_x" 'BEGIN { exit !(a - b < 0.5 && b - a < 0.5) }' || bad "gray: box x $got_x, reference $ref_x"
ref_sad=$(grep '"sad"' "$faces/gray.json" | tr -dc '0-9.e-')
got_sad=$(grep '"sad"' "$tmp/out" | tr -dc '0-9.e-')
awk -v a="$ref_sad" -v b="$got_sad" 'BEGIN { exit !(a - b < 0.02 && b - a < 0.02) }' || bad "gray: sad $got_sad, reference $ref_sad"

expect 0 "$faces/sample5.jpg" --json "$tmp/s5.json"
[ ! -s "$tmp/out" ] || bad "--json also wrote to stdout"
[ -f "$tmp/s5.json" ] && [ "$(count "$tmp/s5.json")" -eq 5 ] || bad "sample5 --json: expected 5 faces"
expect 0 "$faces/clip.mp4" --at 0.48
[ "$(count "$tmp/out")" -eq 2 ] || bad "clip at 0.48: expected 2 faces"
expect 0 "$faces/clip.mp4" --at 2.48
grep -q '"faces": \[\]' "$tmp/out" || bad "clip at 2.48: expected no faces"
if [ -f "$data/cuts.mp4" ]; then
  expect 0 "$data/cuts.mp4" --at 6
  [ "$(count "$tmp/out")" -eq 0 ] || bad "cuts.mp4 test pattern: expected no faces"
  expect 1 "$data/cuts.mp4" --at 25 --json "$tmp/late.json"
  grep -q "past the end" "$tmp/err" || bad "--at 25: $(cat "$tmp/err")"
  [ ! -e "$tmp/late.json" ] || bad "--at past the end left an output file"
  expect 1 "$data/text.txt";       grep -q "not an image or video" "$tmp/err" || bad "text.txt: $(cat "$tmp/err")"
  expect 1 "$data/audio-only.m4a"; grep -q "no image or video" "$tmp/err" || bad "audio-only: $(cat "$tmp/err")"
  expect 1 "$data/empty.mp4"
  expect 1 "$data/truncated.mp4" --at 15
fi
expect 1 "$faces/clip.mp4" --at 3.5
grep -q "past the end" "$tmp/err" || bad "clip --at 3.5: $(cat "$tmp/err")"
expect 1 "$faces/sample1.jpg" --at 2
grep -q "still image" "$tmp/err" || bad "image --at 2: $(cat "$tmp/err")"
expect 1 "$tmp/missing.jpg";       grep -q "No such file" "$tmp/err" || bad "missing: $(cat "$tmp/err")"
expect 1 "$faces/sample1.jpg" --models "$tmp/nomodels"
grep -q "scripts/install-deps.sh" "$tmp/err" || bad "missing models: $(cat "$tmp/err")"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || bad "missing models: more than one error line"

# usage errors
expect 2
expect 2 "$faces/sample1.jpg" --at abc
expect 2 "$faces/sample1.jpg" --at -1
expect 2 "$faces/sample1.jpg" --bogus
expect 2 "$faces/sample1.jpg" "$faces/sample4.jpg"
cp "$faces/noface.png" "$tmp/in.png"
expect 1 "$tmp/in.png" --json "$tmp/in.png"
grep -q "overwrite the input" "$tmp/err" || bad "--json onto the input: $(cat "$tmp/err")"
expect 2 "$faces/sample1.jpg" --at 1e308
echo keep >"$tmp/old.json"
expect 1 "$faces/noface.png" --json "$tmp/old.json"
[ "$(cat "$tmp/old.json")" = keep ] || bad "an existing --json was replaced without -y"
expect 0 "$faces/noface.png" --json "$tmp/old.json" -y
grep -q '"faces"' "$tmp/old.json" || bad "-y did not replace the --json file"
cmp -s "$faces/noface.png" "$tmp/in.png" || bad "--json onto the input changed it"
"$bin" faces --help | grep -q -- "--at SECONDS" || bad "--help lacks --at"

[ "$fail" -eq 0 ] && echo "cli/faces: ok"
exit "$fail"
