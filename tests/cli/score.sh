# emsync score end to end on generated clips with known cuts (5, 7, 12, 17 s -> boundaries
# 5, 12, 17): the result is checked with ffprobe/ffmpeg and jq, independent of emsync's code.
. "$(dirname "$0")/../cli-lib.sh"
d=$ES_TEST_DATA
cd "$scratch"

probe() { ffprobe -v error "$@"; }
video_hash() { ffmpeg -nostdin -v error -i "$1" -map 0:v:0 -c copy -f hash -hash md5 - ; }
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }

# default naming in the current directory, JSON and WAV side outputs
"$ES_BIN" score "$d/cuts.mp4" --seed 7 --json cuts.json --wav cuts.wav -q 2>err.txt || { fail "score cuts.mp4 failed: $(cat err.txt)"; finish; }
check "default output name" [ -s cuts.emsync.mp4 ]
check "default MIDI beside the output" [ -s cuts.emsync.mid ]
check "wav written" [ -s cuts.wav ]
check "no temporary files left" [ -z "$(ls -A | grep '^\.')" ]
check "quiet run prints nothing" [ ! -s err.txt ]

# streams: the video copied packet for packet, AAC audio starting at 0 lasting the video
check "one video + one audio stream" [ "$(probe -show_entries stream=codec_type -of csv=p=0 cuts.emsync.mp4 | sort | tr '\n' ' ')" = "audio video " ]
check "audio is AAC" [ "$(probe -select_streams a -show_entries stream=codec_name -of csv=p=0 cuts.emsync.mp4)" = "aac" ]
check "video packets identical to the input's" [ "$(video_hash "$d/cuts.mp4")" = "$(video_hash cuts.emsync.mp4)" ]
vdur=$(probe -select_streams v -show_entries stream=duration -of csv=p=0 cuts.emsync.mp4)
adur=$(probe -select_streams a -show_entries stream=duration -of csv=p=0 cuts.emsync.mp4)
astart=$(probe -select_streams a -show_entries stream=start_time -of csv=p=0 cuts.emsync.mp4)
check "audio lasts the video ($adur vs $vdur)" near "$adur" "$vdur" 0.0214
check "audio starts at 0 ($astart)" near "$astart" 0 0.0001
check "faststart: moov before mdat" [ "$(grep -boa -m1 moov cuts.emsync.mp4 | cut -d: -f1)" -lt "$(grep -boa -m1 mdat cuts.emsync.mp4 | cut -d: -f1)" ]

# report: the known cuts, and a chord on every boundary
check "boundaries are 5, 12, 17" [ "$(jq -c '[.cuts.boundaries[] | (. * 100 | round) / 100]' cuts.json)" = "[5,12,17]" ]
check "four peaks above the threshold" [ "$(jq '.cuts.peaks | length' cuts.json)" = 4 ]
check "duration 20 s" near "$(jq .duration cuts.json)" 20 0.05
for b in 5 12 17; do
  check "chord within 50 ms of $b s" [ "$(jq --argjson b $b '[.music.chords[] | select((.time - $b) | fabs <= 0.05)] | length' cuts.json)" -ge 1 ]
done
check "a mood per shot: from 0, 5, 7 (a cut between boundaries), 12 and 17 s" \
  [ "$(jq -c '[.emotion.used[].start | . * 100 | round / 100]' cuts.json)" = "[0,5,7,12,17]" ]
check "timings reported" [ "$(jq '.timings | has("decode") and has("render") and has("mux")' cuts.json)" = true ]

# same seed, same MIDI; another seed, other MIDI; refuse to overwrite without -y
"$ES_BIN" score "$d/cuts.mp4" --seed 7 -o again.mp4 -q || fail "second run failed"
check "same seed gives identical MIDI" cmp -s cuts.emsync.mid again.mid
"$ES_BIN" score "$d/cuts.mp4" --seed 8 -o other.mp4 -q || fail "third run failed"
check "another seed gives other MIDI" not cmp -s cuts.emsync.mid other.mid
"$ES_BIN" score "$d/cuts.mp4" --seed 8 -o other.mp4 -y -q || fail "-y did not overwrite"
# a repeated option: the last one counts (seed 7 after 8 is seed 7)
"$ES_BIN" score "$d/cuts.mp4" --seed 8 --seed 7 -o last.mp4 -q || fail "repeated --seed failed"
check "the last --seed counts" cmp -s cuts.emsync.mid last.mid

# faces on: the face nets run on a worker thread beside the decoder; the mood they give and the
# MIDI must not depend on how the two threads were scheduled
"$ES_BIN" score "$d/faces.mp4" --faces on --seed 3 -o f1.mp4 --json f1.json -q 2>err.txt || fail "score faces.mp4 failed: $(cat err.txt)"
"$ES_BIN" score "$d/faces.mp4" --faces on --seed 3 -o f2.mp4 --json f2.json -q 2>err.txt || fail "second faces run failed: $(cat err.txt)"
if [ "$(jq -r .emotion.faces f1.json)" = on ]; then
  check "faces found in the photo scene" jq -e '.emotion.scenes[0].faces.per_frame > 0' f1.json
  check "faces on: identical MIDI with the same seed" cmp -s f1.mid f2.mid
  check "faces on: identical emotion report" [ "$(jq -c .emotion f1.json)" = "$(jq -c .emotion f2.json)" ]
else
  echo "SKIP: face models not installed: $(jq -r .emotion.faces f1.json)"
fi

# Matroska in, Opus out; user cuts and a fixed emotion; original audio kept as a track
"$ES_BIN" score "$d/cuts.mkv" --midi mkv.mid --cuts 3,9.5 --emotion sadness --original-audio track --json mkv.json -q 2>err.txt || fail "mkv run failed: $(cat err.txt)"
check "mkv output" [ -s cuts.emsync.mkv ]
check "opus music + original track" [ "$(probe -select_streams a -show_entries stream=codec_name -of csv=p=0 cuts.emsync.mkv | tr '\n' ' ')" = "opus opus " ]
check "user cuts used" [ "$(jq -c '.cuts.boundaries' mkv.json)" = "[3,9.5]" ]
check "emotion fixed to sadness" [ "$(jq -c '[.emotion.used[0].valence, .emotion.used[0].arousal]' mkv.json)" = "[-0.789,-0.8]" ]

# a clip of 2.5 s without audio; mixing with no original audio still works
"$ES_BIN" score "$d/short.mp4" --original-audio mix -q 2>err.txt || fail "short clip failed: $(cat err.txt)"
check "short clip scored" [ -s short.emsync.mp4 ]

# the EMSYNC network scores a video too (a small golden checkpoint with random weights)
"$ES_BIN" score "$d/short.mp4" --model "$ES_ROOT/tests/data/emsync/tiny-t2.pt" -o em.mp4 --json em.json -q 2>err.txt || fail "score with a model failed: $(cat err.txt)"
check "scored with the EMSYNC network" [ "$(jq -r .music.composer em.json)" = emsync ]
check "its video written" [ -s em.mp4 ]
finish
