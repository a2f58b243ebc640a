# emsync tokenize: a MIDI file in, the EMSYNC tokens with <CHORD>, <BAR> and offsets out, in the
# case-file layout model-logits reads; POP909-style track names and annotations; bad input.
. "$(dirname "$0")/../cli-lib.sh"
cd "$scratch"

# MIDI files written byte by byte: smf FILE FORMAT TRACK... with each track as hex event bytes
smf() {
  python3 - "$@" <<'PY'
import struct, sys
path, fmt, tracks = sys.argv[1], int(sys.argv[2]), [bytes.fromhex(t) for t in sys.argv[3:]]
with open(path, "wb") as f:
    f.write(b"MThd" + struct.pack(">IHHH", 6, fmt, len(tracks), 480))
    for t in tracks:
        f.write(b"MTrk" + struct.pack(">I", len(t)) + t)
PY
}
EOT=00ff2f00
# a type-1 file with named tracks whose notes all use program 0 on channel 0, as POP909's do:
# MELODY C5 for one beat, PIANO C2 + E3 + G3 from beat 1 to beat 3; 120 bpm
smf named.mid 1 "00ff510307a120$EOT" \
    "00ff03064d454c4f4459 00904840 83608048 00 $EOT" \
    "00ff03055049414e4f 8360902440 00903440 00903740 8740802400 00803400 00803700 $EOT"
printf '0.5 1.5 C:maj\n1.5 2.0 G:maj\n' > chords.txt
printf '0.0 1 1\n0.5 0 0\n1.0 1 1\n1.5 0 0\n2.0 1 1\n' > beats.txt

"$ES_BIN" tokenize named.mid -o plain.tok -q || fail "tokenize failed"
check "four lines" [ "$(wc -l < plain.tok)" = 4 ]
check "labels default to nan" [ "$(sed -n 3p plain.tok)" = "nan nan" ]
# by program every note is piano: ON_PIANO C5 = 129 + 7*88 + 72-21 = 796
check "program 0 maps to piano" grep -qw 796 <(sed -n 2p plain.tok)
"$ES_BIN" tokenize named.mid -o mapped.tok --track MELODY=strings --track piano=piano --bass-below 52 \
    --chords chords.txt --beats beats.txt --valence 0.25 --arousal -0.5 -q || fail "tokenize with annotations failed"
toks=$(sed -n 2p mapped.tok)
# ON_STRINGS C5 = 129 + 9*88 + 51 = 972; ON_BASS C2 = 129 + 88 + 15 = 232; ON_PIANO E3 = 129 + 616 + 31 = 776
check "MELODY track mapped to strings" grep -qw 972 <<<"$toks"
check "lowest piano note below 52 mapped to bass" grep -qw 232 <<<"$toks"
check "upper piano notes stay piano" grep -qw 776 <<<"$toks"
# the 1-beat chord at 1.5 s is dropped (fewer than 2 beats): one <CHORD>, at 0.5 s, then the piano
check "one chord of at least 2 beats" [ "$(tr ' ' '\n' <<<"$toks" | grep -cx 3)" = 1 ]
check "bars at the two downbeats" [ "$(tr ' ' '\n' <<<"$toks" | grep -cx 2)" = 2 ]
check "labels written" [ "$(sed -n 3p mapped.tok)" = "0.25 -0.5" ]
check "one offset per token" [ "$(sed -n 4p mapped.tok | wc -w)" = "$(sed -n 2p mapped.tok | wc -w)" ]
check "offset 0 on the shift that reaches the chord" grep -q "0.000 8.000" <(sed -n 4p mapped.tok)
# the output is a case file model-logits reads
"$ES_BIN" model-logits --model "$ES_ROOT/tests/data/emsync/tiny-a.pt" --input mapped.tok --out l.f32 || fail "model-logits on a tokenize output failed"
check "logits for every row" [ "$(stat -c %s l.f32)" = $(( ($(sed -n 2p mapped.tok | wc -w) + 2) * 1011 * 4 )) ]
"$ES_BIN" tokenize named.mid -o again.tok --track MELODY=strings --track piano=piano --bass-below 52 \
    --chords chords.txt --beats beats.txt --valence 0.25 --arousal -0.5 -q || fail "second run failed"
check "same input, same bytes" cmp -s mapped.tok again.tok

# bad input: one line, exit 1, nothing written
smf low.mid 0 "00900840 8100800800 $EOT"                        # only a pitch below 21
smf empty-track.mid 0 "$EOT"
smf fast.mid 0 "00ff5103000001 00903c40 8100803c00 $EOT"          # 1 microsecond per beat
head -c 40 named.mid > cut.mid
: > empty.mid
expect_error 1 "no notes in the playable range" -- tokenize "$scratch/low.mid" -o x.tok
expect_error 1 "no notes in the playable range" -- tokenize "$scratch/empty-track.mid" -o x.tok
expect_error 1 "absurd tempo"                   -- tokenize "$scratch/fast.mid" -o x.tok
expect_error 1 "cut.mid: .*(truncated|exceeds)" -- tokenize "$scratch/cut.mid" -o x.tok
expect_error 1 "empty file"                     -- tokenize "$scratch/empty.mid" -o x.tok
expect_error 1 "not a MIDI file"                -- tokenize "$scratch/chords.txt" -o x.tok
expect_error 1 "nothing.mid: "                  -- tokenize "$scratch/nothing.mid" -o x.tok
printf '0.0 zero C:maj\n' > badchords.txt
expect_error 1 "badchords.txt:1: "              -- tokenize "$scratch/named.mid" --chords "$scratch/badchords.txt" -o x.tok
printf '1.0\n0.5\n' > badbeats.txt
expect_error 1 "badbeats.txt:2: .*backwards"    -- tokenize "$scratch/named.mid" --beats "$scratch/badbeats.txt" -o x.tok
expect_error 2 "--track wants"                  -- tokenize "$scratch/named.mid" --track MELODY=flute -o x.tok
expect_error 2 "--bass-below"                   -- tokenize "$scratch/named.mid" --bass-below 200 -o x.tok
expect_error 2 "--valence"                      -- tokenize "$scratch/named.mid" --valence 2 -o x.tok
expect_error 2 "-o OUT is required"             -- tokenize "$scratch/named.mid"
expect_error 2 "no input"                       -- tokenize -o x.tok
cp plain.tok keep.tok
"$ES_BIN" tokenize named.mid -o plain.tok -q 2>/dev/null && fail "an existing output was replaced without -y"
check "existing output untouched" cmp -s plain.tok keep.tok
finish
