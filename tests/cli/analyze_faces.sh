# Faces drive the per-scene emotion: a scene of three smiling faces reads as joy and pulls the
# valence up against the same analysis without faces; a scene without faces has none.
. "$(dirname "$0")/../cli-lib.sh"
d=$ES_TEST_DATA
cd "$scratch"
"$ES_BIN" analyze "$d/faces.mp4" -q > on.json 2>err.txt || fail "analyze failed: $(cat err.txt)"
check "face models installed and used (scripts/install-deps.sh)" [ "$(jq -r .emotion.faces on.json)" = on ]
check "three faces per sampled frame in the photo scene" jq -e '.emotion.scenes[0].faces.per_frame == 3' on.json
check "at least 3 sampled frames per scene" jq -e '[.emotion.scenes[].faces.sampled_frames | select(. >= 3)] | length == 2' on.json
check "joy dominates the photo scene" [ "$(jq -r '.emotion.scenes[0].faces.expressions | to_entries | max_by(.value) | .key' on.json)" = joy ]
check "no faces in the plain scene" jq -e '.emotion.scenes[1].faces.per_frame == 0' on.json
"$ES_BIN" analyze "$d/faces.mp4" --faces off -q > off.json || fail "analyze --faces off failed"
check "faces off reported" [ "$(jq -r .emotion.faces off.json)" = off ]
check "smiles raise the valence" jq -e --slurpfile off off.json '.emotion.scenes[0].valence > $off[0].emotion.scenes[0].valence + 0.2' on.json

# Looks are rationed on a small video: every shot is looked at, the faces that appear late in a
# scene (a fade at 30-31 s, no cut) are found within a few seconds, and most samples are not
# looked at. At 2 looks a second the late scene reads 1.09 faces a sample (3 faces in the last
# 19.7 of 54 samples); a first look up to 2 s late still gives 3 x 15.7 / 54 = 0.87.
"$ES_BIN" analyze "$d/faces-late.mp4" --min-cut-gap 1 -q > late.json 2>err.txt || fail "analyze failed: $(cat err.txt)"
check "the late clip's cuts at 12 and 13.5 s" jq -e '.cuts.boundaries | length == 2 and (.[0] - 12 | fabs) < 0.1 and (.[1] - 13.5 | fabs) < 0.1' late.json
check "no faces in the first shot" jq -e '.emotion.scenes[0].faces.per_frame == 0' late.json
check "the 1.5 s shot is looked at: three faces" jq -e '.emotion.scenes[1].faces.per_frame == 3' late.json
check "the faces late in the last scene are found" jq -e '.emotion.scenes[2].faces.per_frame >= 0.85' late.json
check "joy dominates the last scene" [ "$(jq -r '.emotion.scenes[2].faces.expressions | to_entries | max_by(.value) | .key' late.json)" = joy ]
check "most samples are not looked at" jq -e '[.emotion.scenes[].faces] | all(.looked_frames | type == "number") and (map(.looked_frames) | add) < 0.6 * (map(.sampled_frames) | add)' late.json
# with the default 4 s between boundaries the cut at 13.5 s is no boundary, but the 1.5 s shot
# of smiling faces still gets a mood of its own, which the composer is given
"$ES_BIN" score "$d/faces-late.mp4" --composer rules -o late.mp4 --json late-score.json -q -y 2>err.txt \
  || fail "score failed: $(cat err.txt)"
check "one boundary, at 12 s" jq -e '.cuts.boundaries | length == 1 and (.[0] - 12 | fabs) < 0.1' late-score.json
check "mood scenes from 0, 12 and 13.5 s" jq -e '[.emotion.scenes[].start] | length == 3 and (.[1] - 12 | fabs) < 0.1 and (.[2] - 13.5 | fabs) < 0.1' late-score.json
check "the smiling shot reads more pleasant than the shots around it" jq -e '.emotion.scenes as $s | $s[1].valence > $s[0].valence + 0.2 and $s[1].valence > $s[2].valence and $s[1].faces.per_frame == 3' late-score.json
check "the composer gets its mood from 12 to 13.5 s" jq -e '[.emotion.used[].start] | map(. * 10 | round) == [0, 120, 135]' late-score.json
check "the large clip's samples are all looked at" jq -e '[.emotion.scenes[].faces | .looked_frames == .sampled_frames] | .[0]' on.json
finish
