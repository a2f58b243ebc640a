#!/usr/bin/env bash
# emsync eval on a hand-made MIDI file (a C major triad at 0 s, 120 bpm) with known answers,
# its piano roll (--svg, checked by xmllint), and on bad input: damaged file, bad options, output that would overwrite the input.
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "eval.sh: $*"; exit 1; }

# MThd: type 0, one track, 480 PPQ. MTrk: C4 E4 G4 on (running status), off after 480 ticks, end.
printf 'MThd\0\0\0\006\0\0\0\001\001\340MTrk\0\0\0\031\0\220\074\144\0\100\144\0\103\144\203\140\200\074\100\0\100\100\0\103\100\0\377\057\0' >"$tmp/c.mid"

out=$("$ES_BIN" eval "$tmp/c.mid" --cuts 0.05,3 --valence 0.8 --arousal 0 --json - 2>"$tmp/err") || fail "good file failed: $(cat "$tmp/err")"
echo "$out" | grep -q '"hit_rate_100ms": 0.5' || fail "expected half the cuts hit: $out"
echo "$out" | grep -q '"hit_rate_1s": 0.5' || fail "expected half the cuts hit within 1 s: $out"
echo "$out" | grep -q '"tonic": "C"' || fail "expected key C: $out"
echo "$out" | grep -q '"mode": "major"' || fail "expected major: $out"
echo "$out" | grep -q '"mode_agrees": true' || fail "expected the mode to agree with valence 0.8: $out"
echo "$out" | grep -q '"notes": 3' || fail "expected 3 notes: $out"
grep -q 'boundary hit rate' "$tmp/err" || fail "text report missing on stderr with --json -"

"$ES_BIN" eval "$tmp/c.mid" --json "$tmp/c.json" >/dev/null || fail "--json FILE failed"
grep -q '"pc_entropy"' "$tmp/c.json" || fail "JSON file incomplete"

# piano roll: well-formed SVG (xmllint), one note rectangle per note, one mark per cut
"$ES_BIN" eval "$tmp/c.mid" --cuts 0.05,3 --svg "$tmp/c.svg" >/dev/null || fail "--svg failed"
xmllint --noout "$tmp/c.svg" || fail "--svg: not well-formed XML"
[ "$(grep -c 'class="note piano"' "$tmp/c.svg")" -eq 3 ] || fail "--svg: want 3 piano notes"
[ "$(grep -c 'class="boundary"' "$tmp/c.svg")" -eq 1 ] || fail "--svg: want 1 boundary mark (3 s is past the 0.5 s file)"
"$ES_BIN" compose --duration 12 --valence 0.6 --arousal 0.6 --cuts 4,8 --seed 2 --composer rules -o "$tmp/r.mid" >/dev/null 2>&1 || fail "compose failed"
notes=$("$ES_BIN" eval "$tmp/r.mid" --cuts 4,8 --svg "$tmp/r.svg" --json - 2>/dev/null | jq .notes) || fail "--svg on a composed piece failed"
xmllint --noout "$tmp/r.svg" || fail "--svg (composed): not well-formed XML"
[ "$(grep -c '<rect class="note ' "$tmp/r.svg")" -eq "$notes" ] || fail "--svg (composed): want $notes note rectangles"
grep -q 'class="note drums"' "$tmp/r.svg" || fail "--svg (composed): no drum lane"
"$ES_BIN" eval "$tmp/c.mid" --svg "$tmp/c.mid" >/dev/null 2>&1; [ $? -eq 1 ] || fail "--svg onto the input: expected exit 1"
cmp -s "$tmp/c.mid" "$tmp/r.mid" && fail "test files mixed up"
"$ES_BIN" eval "$tmp/c.mid" --svg "$tmp/no/such/dir.svg" >/dev/null 2>"$tmp/err"; [ $? -eq 1 ] || fail "--svg into a missing folder: expected exit 1"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "--svg into a missing folder: want one error line: $(cat "$tmp/err")"

# damaged input: exit 1, one error line naming the file, no JSON written
head -c 30 "$tmp/c.mid" >"$tmp/cut.mid"
"$ES_BIN" eval "$tmp/cut.mid" --json "$tmp/cut.json" --svg "$tmp/cut.svg" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] || fail "truncated file: expected exit 1"
[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q 'cut.mid' "$tmp/err" || fail "truncated file: want one line naming it: $(cat "$tmp/err")"
[ ! -e "$tmp/cut.json" ] && [ ! -e "$tmp/cut.svg" ] || fail "truncated file: a JSON or SVG file was written"
[ -z "$(ls -A "$tmp" | grep tmp-)" ] || fail "a temporary file was left behind"
"$ES_BIN" eval "$ES_TEST_DATA/cuts.mp4" >/dev/null 2>&1; [ $? -eq 1 ] || fail "video as MIDI: expected exit 1"
"$ES_BIN" eval "$tmp" >/dev/null 2>&1; [ $? -eq 1 ] || fail "directory: expected exit 1"
"$ES_BIN" eval "$tmp/none.mid" >/dev/null 2>&1; [ $? -eq 1 ] || fail "missing file: expected exit 1"

# usage errors: exit 2
"$ES_BIN" eval >/dev/null 2>&1; [ $? -eq 2 ] || fail "no input: expected exit 2"
"$ES_BIN" eval "$tmp/c.mid" --cuts 1,a >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad --cuts: expected exit 2"
"$ES_BIN" eval "$tmp/c.mid" --valence 1.5 >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad --valence: expected exit 2"
"$ES_BIN" eval "$tmp/c.mid" --bogus >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown option: expected exit 2"
cp "$tmp/c.mid" "$tmp/keep.mid"
"$ES_BIN" eval "$tmp/c.mid" --json "$tmp/c.mid" >/dev/null 2>&1; [ $? -eq 1 ] || fail "--json onto the input: expected exit 1"
cmp -s "$tmp/c.mid" "$tmp/keep.mid" || fail "the input was modified"

# an existing output is kept without -y and replaced with it; JSON and SVG are written both or
# neither (the SVG's folder is missing: no JSON either)
echo keep >"$tmp/old.json"
"$ES_BIN" eval "$tmp/c.mid" --json "$tmp/old.json" >/dev/null 2>"$tmp/err"; [ $? -eq 1 ] || fail "existing --json without -y: expected exit 1"
grep -q "already exists" "$tmp/err" && [ "$(cat "$tmp/old.json")" = keep ] || fail "existing --json was touched: $(cat "$tmp/err")"
"$ES_BIN" eval "$tmp/c.mid" --json "$tmp/old.json" -y >/dev/null || fail "-y did not overwrite"
jq -e '.notes == 3' "$tmp/old.json" >/dev/null || fail "-y: JSON not replaced"
"$ES_BIN" eval "$tmp/c.mid" --json "$tmp/both.json" --svg "$tmp/nodir/both.svg" >/dev/null 2>&1; [ $? -eq 1 ] || fail "--svg into a missing folder with --json: expected exit 1"
[ ! -e "$tmp/both.json" ] || fail "the JSON was left although the SVG failed"
"$ES_BIN" eval "$tmp/c.mid" --json "$tmp/same.json" --svg "$tmp/./same.json" >/dev/null 2>&1; [ $? -eq 1 ] || fail "JSON and SVG the same file: expected exit 1"
[ ! -e "$tmp/same.json" ] || fail "same file for JSON and SVG: something was written"
[ -z "$(ls -A "$tmp" | grep tmp-)" ] || fail "a temporary file was left behind"
exit 0
