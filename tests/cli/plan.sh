# emsync score --plan on the clip with known cuts (boundaries 5, 12, 17): an analyze report fed
# back gives the very same MIDI as scoring straight away; options on the command line win over
# the plan's fields; an edited plan moves the chord changes and the mood; a bad plan is refused
# before any work.
. "$(dirname "$0")/../cli-lib.sh"
d=$ES_TEST_DATA
cd "$scratch"
clip=$d/cuts.mp4
model=$ES_ROOT/tests/data/emsync/tiny-t2.pt  # random weights: fast, the same code path
score() { "$ES_BIN" score "$clip" -q -y "$@"; }
num() { jq -r "$1" "$2"; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }

# the key property: analyze, then score with the report as the plan, gives byte-identical MIDI
"$ES_BIN" analyze "$clip" --json a.json -q || fail "analyze failed"
score -o direct.mp4 --midi direct.mid --json direct.json || fail "score failed"
score -o planned.mp4 --midi planned.mid --json planned.json --plan a.json || fail "score --plan failed"
check "analyze report as plan: identical MIDI" cmp -s direct.mid planned.mid
check "the plan's boundaries used" [ "$(jq -c .cuts.boundaries planned.json)" = "$(jq -c .cuts.boundaries a.json)" ]
check "the plan's moods used" [ "$(jq -c '[.emotion.used[] | [.start, .valence, .arousal]]' planned.json)" = \
                                "$(jq -c '[.emotion.scenes[] | [.start, .valence, .arousal]]' a.json)" ]
check "moods reported as given" [ "$(jq -r .emotion.source planned.json)" = user ]
check "moods reported as estimated without a plan" [ "$(jq -r .emotion.source direct.json)" = estimated ]
# the same with the explicit scene mode, the built-in composer, and the EMSYNC network
score --emotion-mode scene --composer rules --faces off --seed 4 -o r1.mp4 --midi r1.mid || fail "rules score failed"
"$ES_BIN" analyze "$clip" --emotion-mode scene --faces off --json af.json -q || fail "analyze --faces off failed"
score --emotion-mode scene --composer rules --faces off --seed 4 -o r2.mp4 --midi r2.mid --plan af.json || fail "rules --plan failed"
check "rules composer: identical MIDI" cmp -s r1.mid r2.mid
score --faces off --model "$model" -o e1.mp4 --midi e1.mid --json e1.json || fail "emsync score failed"
score --faces off --model "$model" -o e2.mp4 --midi e2.mid --plan af.json || fail "emsync --plan failed"
check "EMSYNC composer used" [ "$(jq -r .music.composer e1.json)" = emsync ]
check "EMSYNC composer: identical MIDI" cmp -s e1.mid e2.mid
# one mood per video: the given moods are weighed as the estimates were
"$ES_BIN" analyze "$clip" --emotion-mode video --faces off --json av.json -q || fail "analyze video mode failed"
score --emotion-mode video --composer rules --faces off -o v1.mp4 --midi v1.mid || fail "video mode score failed"
score --emotion-mode video --composer rules --faces off -o v2.mp4 --midi v2.mid --plan av.json || fail "video mode --plan failed"
check "video mode: identical MIDI" cmp -s v1.mid v2.mid
# a given mood that starts away from any cut (9.5 s) starts a scene with frames of its own, so
# one mood per video weighs it by its stretch and its evidence like any other scene
echo '{"scenes": [{"start": 0, "valence": -0.5, "arousal": 0}, {"start": 9.5, "valence": 0.5, "arousal": 0}]}' > mid.json
score --emotion-mode video --composer rules --faces off -o mid.mp4 --json mid.out.json --plan mid.json || fail "mid-scene mood failed"
check "the scenes split at 9.5 s" jq -e '[.emotion.scenes[].start] | map(. * 100 | round / 100) == [0, 5, 7, 9.5, 12, 17]' mid.out.json
check "...with frames on both sides" jq -e '[.emotion.scenes[] | select((.start * 100 | round) == 700 or (.start * 100 | round) == 950) | .confidence > 0.5 and .features.brightness > 0] | length == 2 and all' mid.out.json

# the plan's settings apply; options on the command line win over them
base="--composer rules --faces off"
echo '{"seed": 8}' > seed.json
score $base --seed 8 -o s8.mp4 --midi s8.mid || fail "seed 8 failed"
score $base --seed 7 -o s7.mp4 --midi s7.mid || fail "seed 7 failed"
score $base --plan seed.json -o p8.mp4 --midi p8.mid || fail "plan seed failed"
score $base --plan seed.json --seed 7 -o p7.mp4 --midi p7.mid || fail "plan seed + --seed failed"
check "the plan's seed" cmp -s s8.mid p8.mid
check "--seed beats the plan's seed" cmp -s s7.mid p7.mid
echo '{"composer": "emsync", "original_audio": "track", "soundfont": "/nonexistent.sf2"}' > settings.json
rc=0; score $base --plan settings.json -o nosf.mp4 2>err.txt || rc=$?
check "the plan's soundfont (exit $rc: $(cat err.txt))" grep -q nonexistent.sf2 err.txt
check "...and no output" [ ! -e nosf.mp4 ]
score --faces off --model "$model" --plan settings.json --composer rules --original-audio off \
  --soundfont "$(jq -r .music.soundfont direct.json)" -o cli.mp4 --json cli.json || fail "options over plan settings failed"
check "--composer beats the plan's" [ "$(jq -r .music.composer cli.json)" = rules ]
check "--original-audio beats the plan's" [ "$(ffprobe -v error -select_streams a -show_entries stream=index -of csv=p=0 cli.mp4 | wc -l)" = 1 ]
echo '{"original_audio": "track", "composer": "rules", "boundaries": [3, 9.5]}' > track.json
score --faces off --plan track.json -o track.mp4 --json track.json.out --cuts 4 || fail "plan original_audio failed"
check "the plan's original_audio" [ "$(ffprobe -v error -select_streams a -show_entries stream=index -of csv=p=0 track.mp4 | wc -l)" = 2 ]
check "the plan's composer" [ "$(jq -r .music.composer track.json.out)" = rules ]
check "--cuts beats the plan's boundaries" [ "$(jq -c .cuts.boundaries track.json.out)" = "[4]" ]
jq '{boundaries: [3, 9.5]}' -n > bounds.json
score $base --plan bounds.json -o b.mp4 --json b.json || fail "plan boundaries failed"
check "the plan's boundaries" [ "$(jq -c .cuts.boundaries b.json)" = "[3,9.5]" ]
check "...with moods estimated" [ "$(jq -r .emotion.source b.json)" = estimated ]
score $base --plan af.json --valence 0.5 --arousal -0.5 -o fixed.mp4 --json fixed.json || fail "plan + --valence failed"
check "--valence/--arousal beat the plan's scenes" [ "$(jq -c '[.emotion.used[] | [.valence, .arousal]]' fixed.json)" = "[[0.5,-0.5]]" ]

# an edited plan: a boundary moved from 12 to 9.5 moves the chord change with it
jq '.cuts.boundaries = [5, 9.5, 17]' af.json > moved.json
score $base --seed 4 --plan moved.json -o moved.mp4 --midi moved.mid --json moved.out.json || fail "moved plan failed"
check "moved boundary reported" [ "$(jq -c .cuts.boundaries moved.out.json)" = "[5,9.5,17]" ]
"$ES_BIN" eval moved.mid --cuts 5,9.5,17 --json ev-moved.json -q >/dev/null || fail "eval moved failed"
"$ES_BIN" eval r1.mid --cuts 5,9.5,17 --json ev-orig.json -q >/dev/null || fail "eval original failed"
check "a chord on every moved cut (within 0.1 s)" [ "$(num .hit_rate_100ms ev-moved.json)" = 1 ]
check "not so without the edit" gt 1 "$(num .hit_rate_100ms ev-orig.json)"
# a scene made very positive: the music gets more major and faster
jq '.emotion.scenes[1].valence = 1 | .emotion.scenes[1].arousal = 1' af.json > happy.json
score $base --seed 4 --plan happy.json -o happy.mp4 --midi happy.mid || fail "happy plan failed"
"$ES_BIN" eval happy.mid --json ev-happy.json -q >/dev/null || fail "eval happy failed"
check "more major ($(num .majorness ev-happy.json) vs $(num .majorness ev-orig.json))" \
  gt "$(num .majorness ev-happy.json)" "$(num .majorness ev-orig.json)"
check "faster ($(num .tempo_bpm ev-happy.json) vs $(num .tempo_bpm ev-orig.json) bpm)" \
  gt "$(num .tempo_bpm ev-happy.json)" "$(num .tempo_bpm ev-orig.json)"

# bad plans: exit 2, one line naming the file and the field, nothing written
bad() { # NAME CONTENT PATTERN
  printf '%s' "$2" > "$scratch/$1"
  expect_error 2 "^emsync score: $scratch/$1: $3" -- score "$clip" --plan "$scratch/$1" --json r.json --midi m.mid
}
expect_error 2 "^emsync score: $scratch/missing.json: No such file" -- score "$clip" --plan "$scratch/missing.json"
bad empty.json '' 'empty file'
bad notjson.json 'boundaries: 5' 'line 1: '
bad truncated.json '{"boundaries": [5, 12' 'line 1: '
head -c $((16 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' > huge.json
expect_error 2 "^emsync score: $scratch/huge.json: larger than" -- score "$clip" --plan "$scratch/huge.json"
bad array.json '[5, 12]' 'line 1: a plan is a JSON object'
bad type.json '{"boundaries": "x"}' 'line 1: boundaries: must be an array'
bad order.json $'{"boundaries": [5,\n 4]}' 'line 2: boundaries\[1\]: 4 is not after 5'
bad negative.json '{"boundaries": [-1]}' 'line 1: boundaries\[0\]: -1 is outside'
bad far.json '{"cuts": {"boundaries": [1e7]}}' 'line 1: cuts.boundaries\[0\]: 1e\+07 is outside'
bad valence.json $'{"scenes": [\n{"start": 0, "valence": 1.5, "arousal": 0}]}' 'line 2: scenes\[0\].valence: 1.5 is outside \[-1, 1\]'
bad arousal.json '{"emotion": {"scenes": [{"start": 0, "valence": 0, "arousal": -3}]}}' 'line 1: emotion.scenes\[0\].arousal: -3 is outside'
bad starts.json '{"scenes": [{"start": 5, "valence": 0, "arousal": 0}, {"start": 5, "valence": 0, "arousal": 0}]}' 'line 1: scenes\[1\]: starts at 5, not after'
bad composer.json '{"composer": "mozart"}' 'line 1: composer: must be auto, rules or emsync, not "mozart"'
bad audio.json '{"original_audio": "loud"}' 'line 1: original_audio: must be off, mix or track'
bad badseed.json '{"seed": "7"}' 'line 1: seed: must be an integer'
{ printf '{"boundaries": ['; seq -s, 1 100001 | tr -d '\n'; printf ']}'; } > many.json
expect_error 2 "^emsync score: $scratch/many.json: line 1: boundaries: 100001 items" -- score "$clip" --plan "$scratch/many.json"
finish
