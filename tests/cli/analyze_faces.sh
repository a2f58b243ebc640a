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
finish
