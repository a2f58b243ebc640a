# emsync analyze and the SVG timeline: on a clip that turns from calm to lively at a cut (6 s),
# the report follows the change scene by scene and the timeline is well-formed with its marks.
. "$(dirname "$0")/../cli-lib.sh"
d=$ES_TEST_DATA
cd "$scratch"

"$ES_BIN" analyze "$d/mixed.mp4" --svg mixed.svg -q > mixed.json 2>err.txt || fail "analyze failed: $(cat err.txt)"
check "JSON on stdout" jq -e . mixed.json >/dev/null
check "one boundary at 6 s" [ "$(jq -c '[.cuts.boundaries[] | (. * 100 | round) / 100]' mixed.json)" = "[6]" ]
check "two scenes" [ "$(jq '.emotion.scenes | length' mixed.json)" = 2 ]
check "valence rises at the cut" jq -e '.emotion.scenes[1].valence > .emotion.scenes[0].valence + 0.3' mixed.json
check "each scene's cue terms add up to its mood" jq -e '[.emotion.scenes[] | ((.cues.valence | add) - .valence | fabs < 1e-6), ((.cues.arousal | add) - .arousal | fabs < 1e-6)] | all' mixed.json
check "the mood contrast is reported" jq -e '.emotion.mood_contrast == 1.5' mixed.json
check "arousal rises at the cut" jq -e '.emotion.scenes[1].arousal > .emotion.scenes[0].arousal + 0.5' mixed.json
check "confidence in (0, 1]" jq -e '[.emotion.scenes[].confidence | select(. > 0 and . <= 1)] | length == 2' mixed.json
check "no music section before composing" jq -e 'has("music") | not' mixed.json
check "SVG well-formed" xmllint --noout mixed.svg
check "SVG: one cut mark" [ "$(grep -c 'class="cut"' mixed.svg)" = 1 ]
check "SVG: a thumbnail per scene" [ "$(grep -o 'class="thumb"' mixed.svg | wc -l)" = 2 ]
check "SVG: both curves" grep -q 'class="valence"' mixed.svg
check "SVG: arousal curve" grep -q 'class="arousal"' mixed.svg
check "SVG: no chords before composing" [ "$(grep -c 'class="chord"' mixed.svg)" = 0 ]
# the cue terms drawn (one bar per term of 0.005 or more) are those the JSON lists; all cues in the legend
check "SVG: a bar per cue term" [ "$(grep -c 'class="cue"' mixed.svg)" = \
  "$(jq '[.emotion.scenes[].cues[][] | select(. >= 0.005 or . <= -0.005)] | length' mixed.json)" ]
check "SVG: a term named by its cue" grep -q 'data-cue="colour"' mixed.svg
check "SVG: every cue in the legend" [ "$(grep -c 'class="legend"' mixed.svg)" = 10 ]

# video mode: one mood for the whole video, between the two scenes' moods
"$ES_BIN" analyze "$d/mixed.mp4" --emotion-mode video --faces off -q > video.json || fail "video mode failed"
check "one mood in video mode" [ "$(jq '.emotion.used | length' video.json)" = 1 ]
check "video mood between the scenes'" jq -e --slurpfile s mixed.json '.emotion.used[0].valence > $s[0].emotion.scenes[0].valence and .emotion.used[0].valence < $s[0].emotion.scenes[1].valence' video.json

# after scoring, the timeline also shows the chord onsets, one at the cut
"$ES_BIN" score "$d/mixed.mp4" --faces off --svg scored.svg --json scored.json -q || fail "score --svg failed"
check "SVG after score well-formed" xmllint --noout scored.svg
check "SVG: chord marks" [ "$(grep -c 'class="chord"' scored.svg)" = "$(jq '.music.chords | length' scored.json)" ]
check "a chord at the cut" jq -e '[.music.chords[] | select((.time - 6) | fabs <= 0.05)] | length >= 1' scored.json

expect_error 1 "nothing.mp4: "         -- analyze "$d/nothing.mp4"
expect_error 2 "--faces must be on or off" -- analyze "$d/mixed.mp4" --faces maybe
expect_error 2 "--mood-contrast must be" -- analyze "$d/mixed.mp4" --mood-contrast 4
expect_error 2 "--mood-contrast must be" -- analyze "$d/mixed.mp4" --mood-contrast nan
touch exists.svg
expect_error 1 "exists.svg: already exists" -- analyze "$d/mixed.mp4" --svg "$scratch/exists.svg"

# --json - is stdout, as for eval, not a file named "-"
"$ES_BIN" analyze "$d/short.mp4" --faces off --json - -q >stdout.json || fail "analyze --json - failed"
check "analyze --json -: the report on stdout" jq -e '.duration > 0' stdout.json
check "analyze --json -: no file named -" test ! -e ./-
finish
