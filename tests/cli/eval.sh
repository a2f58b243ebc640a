#!/usr/bin/env bash
# emsync eval on a hand-made MIDI file (a C major triad at 0 s, 120 bpm) with known answers,
# and on bad input: damaged file, bad options, output that would overwrite the input.
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

# damaged input: exit 1, one error line naming the file, no JSON written
head -c 30 "$tmp/c.mid" >"$tmp/cut.mid"
"$ES_BIN" eval "$tmp/cut.mid" --json "$tmp/cut.json" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] || fail "truncated file: expected exit 1"
[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q 'cut.mid' "$tmp/err" || fail "truncated file: want one line naming it: $(cat "$tmp/err")"
[ ! -e "$tmp/cut.json" ] || fail "truncated file: a JSON file was written"
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
"$ES_BIN" eval "$tmp/c.mid" --json "$tmp/c.mid" >/dev/null 2>&1; [ $? -eq 2 ] || fail "--json onto the input: expected exit 2"
cmp -s "$tmp/c.mid" "$tmp/keep.mid" || fail "the input was modified"
exit 0
