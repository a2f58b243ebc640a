# emsync compose with both composers: the built-in one and the EMSYNC network (a small golden
# checkpoint with random weights, and the bundled model), the model lookup order,
# reproducibility, the JSON report, and bad usage.
. "$(dirname "$0")/../cli-lib.sh"
cd "$scratch"
export HOME="$scratch" XDG_DATA_HOME="$scratch/share"
unset EMSYNC_MODEL
model="$ES_ROOT/tests/data/emsync/tiny-t2.pt"

"$ES_BIN" compose --duration 30 --emotion joy --cuts 8,16 --seed 2 --composer rules -o joy.mid --json joy.json -q || fail "rules compose failed"
check "MIDI written" [ "$(head -c 4 joy.mid)" = MThd ]
check "rules composer when asked" [ "$(jq -r .music.composer joy.json)" = rules ]
for b in 8 16; do
  check "chord within 50 ms of $b s" jq -e --argjson b $b '[.music.chords[] | select((.time - $b) | fabs <= 0.05)] | length >= 1' joy.json
done
"$ES_BIN" compose --duration 30 --emotion joy --cuts 8,16 --seed 2 --composer rules -o joy2.mid -q || fail "second compose failed"
check "same seed, same bytes" cmp -s joy.mid joy2.mid

# the EMSYNC network from a checkpoint
"$ES_BIN" compose --duration 8 --valence 0.5 --arousal -0.2 --cuts 3,5 --model "$model" --seed 4 -o em.mid --json em.json -q 2>err.txt || fail "emsync compose failed: $(cat err.txt)"
check "emsync composer used" [ "$(jq -r .music.composer em.json)" = emsync ]
check "model from the option" [ "$(jq -r .music.model.source em.json)" = option ]
check "cuts landed by default" [ "$(jq -r .music.generation.boundaries em.json)" = landed ]
check "model shapes read off the checkpoint" [ "$(jq -c '[.music.model.layers, .music.model.d_model, .music.model.heads, .music.model.context]' em.json)" = "[2,64,8,32]" ]
check "tokens generated" jq -e '.music.generation.tokens > 20' em.json
check "hits + misses = boundaries" jq -e '.music.generation.boundaries_hit + .music.generation.boundaries_missed == 2' em.json
check "fast window mode by default" [ "$(jq -r .music.generation.window em.json)" = fast ]
"$ES_BIN" compose --duration 8 --valence 0.5 --arousal -0.2 --cuts 3,5 --model "$model" --seed 4 -o em2.mid -q || fail "emsync repeat failed"
check "emsync: same seed, same bytes" cmp -s em.mid em2.mid
EMSYNC_MODEL="$model" "$ES_BIN" compose --duration 4 --exact --candidates 3 -o ex.mid --json ex.json -q || fail "exact/candidates failed"
check "model found through EMSYNC_MODEL" [ "$(jq -r .music.model.source ex.json)" = EMSYNC_MODEL ]
check "exact window mode reported" [ "$(jq -r .music.generation.window ex.json)" = exact ]
check "three candidates" [ "$(jq .music.generation.candidates ex.json)" = 3 ]
mkdir -p share/emsync && cp "$model" share/emsync/emsync.pt
"$ES_BIN" compose --duration 2 -o dd.mid --json dd.json -q || fail "data-dir model failed"
check "the data directory's emsync.pt before the bundled model" [ "$(jq -r .music.model.source dd.json)" = "data dir" ]
"$ES_BIN" compose --duration 2 --composer rules -o rr.mid --json rr.json -q || fail "--composer rules failed"
check "--composer rules overrides a found model" [ "$(jq -r .music.composer rr.json)" = rules ]
rm -rf share

# nothing else found: the bundled model composes, landing a chord on every cut
check "the bundled model ships with the source" [ -s "$ES_ROOT/models/emsync-pop909.pt" ]
"$ES_BIN" compose --duration 20 --valence 0.6 --arousal 0.3 --cuts 6,13 --seed 3 -o b.mid --json b.json -q || fail "bundled model failed"
check "auto finds the bundled model" [ "$(jq -r '.music.composer + " " + .music.model.source' b.json)" = "emsync bundled" ]
check "a chord lands on each cut" [ "$("$ES_BIN" eval b.mid --cuts 6,13 --json - 2>/dev/null | jq .hit_rate_100ms)" = 1 ]
"$ES_BIN" compose --duration 20 --valence 0.6 --arousal 0.3 --cuts 6,13 --seed 3 --reference-boundaries -o br.mid --json br.json -q ||
  fail "--reference-boundaries failed"
check "the reference rule reported" [ "$(jq -r .music.generation.boundaries br.json)" = reference ]
check "the bundled model samples plainly" [ "$(jq -c '[.music.generation.temperature, .music.generation.top_p]' b.json)" = "[1,1]" ]
"$ES_BIN" compose --duration 20 --valence 0.6 --arousal 0.3 --cuts 6,13 --seed 3 --temperature 1.35 --top-p 0.6 -o bt.mid --json bt.json -q ||
  fail "--temperature/--top-p failed"
check "--temperature and --top-p reported" [ "$(jq -c '[.music.generation.temperature, .music.generation.top_p]' bt.json)" = "[1.35,0.6]" ]
check "--temperature and --top-p change the music" not cmp -s b.mid bt.mid
check "no valence guidance by default" [ "$(jq .music.generation.valence_guidance b.json)" = 1 ]
"$ES_BIN" compose --duration 6 --valence 0.6 --arousal 0 --cuts 3 --seed 3 --guidance 2 -o bg.mid --json bg.json -q || fail "--guidance failed"
check "--guidance reported" [ "$(jq .music.generation.valence_guidance bg.json)" = 2 ]
# a binary with no model beside it and none in the data directories
mkdir -p bare/bin && cp "$ES_BIN" bare/bin/emsync
ES_BIN="$scratch/bare/bin/emsync" expect_error 1 "no EMSYNC checkpoint" -- compose --duration 5 --composer emsync -o x.mid
ES_BIN="$scratch/bare/bin/emsync" "$scratch/bare/bin/emsync" compose --duration 3 -o n.mid --json n.json -q || fail "bare compose failed"
check "no model anywhere: the rules composer" [ "$(jq -r .music.composer n.json)" = rules ]

expect_error 1 "nothing.pt: "              -- compose --duration 5 --model "$scratch/nothing.pt" -o x.mid
expect_error 1 "text.txt: "                -- compose --duration 5 --model "$ES_TEST_DATA/text.txt" -o x.mid
expect_error 2 "--duration is required"    -- compose -o x.mid
expect_error 2 "--duration must be"        -- compose --duration -3 -o x.mid
expect_error 2 "--duration must be"        -- compose --duration 1e9 -o x.mid
expect_error 2 "-o OUT.mid is required"    -- compose --duration 5
expect_error 2 "'x' is not a time"         -- compose --duration 5 --cuts 1,x -o x.mid
expect_error 2 "--candidates"              -- compose --duration 5 --candidates 0 -o x.mid
expect_error 2 "--temperature must be"     -- compose --duration 5 --temperature 0 -o x.mid
expect_error 2 "--top-p must be"           -- compose --duration 5 --top-p 1.5 -o x.mid
expect_error 2 "--top-p must be"           -- compose --duration 5 --top-p nan -o x.mid
expect_error 2 "--guidance must be"        -- compose --duration 5 --guidance 0.5 -o x.mid
expect_error 1 "joy.mid: already exists"   -- compose --duration 5 -o "$scratch/joy.mid"
finish
