# emsync analyze on videos with little to read: black, silent, one frame, no faces, audio far
# longer than the picture. Each gives a finite mood in [-1, 1] for every scene (never NaN), a
# confidence in [0, 1], and the moods keep their sense: a black picture reads less pleasant
# than a bright colourful one, silence less aroused than a loud pulse.
. "$(dirname "$0")/../cli-lib.sh"
cd "$scratch"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
S=320x240
ff -f lavfi -i "color=c=black:s=$S:r=25:d=3" -f lavfi -i "anullsrc=r=48000:cl=stereo" -t 3 \
   -pix_fmt yuv420p -c:v libx264 -preset ultrafast -c:a aac black.mp4
ff -f lavfi -i "mandelbrot=s=$S:r=25,trim=duration=3" -f lavfi -i "anullsrc=r=48000:cl=stereo" -t 3 \
   -pix_fmt yuv420p -c:v libx264 -preset ultrafast -c:a aac silent.mp4
ff -f lavfi -i "mandelbrot=s=$S:r=25" -frames:v 1 -pix_fmt yuv420p -c:v libx264 -preset ultrafast one-frame.mp4
ff -f lavfi -i "mandelbrot=s=$S:r=25,trim=duration=2" -f lavfi -i "sine=f=440:sample_rate=48000:d=12" \
   -af "volume='if(lt(mod(t,0.5),0.1),1,0.05)':eval=frame" \
   -pix_fmt yuv420p -c:v libx264 -preset ultrafast -c:a aac long-audio.mp4

for v in black silent one-frame long-audio; do
  "$ES_BIN" analyze "$v.mp4" -q > "$v.json" 2> "$v.err" || { fail "analyze $v failed: $(head -c 300 "$v.err")"; continue; }
  check "$v: at least one scene" jq -e '.emotion.scenes | length >= 1' "$v.json"
  check "$v: moods finite, in [-1, 1]" jq -e '[.emotion.scenes[] | (.valence, .arousal) | type == "number" and . >= -1 and . <= 1] | all' "$v.json"
  check "$v: confidence in [0, 1]" jq -e '[.emotion.scenes[] | .confidence | type == "number" and . >= 0 and . <= 1] | all' "$v.json"
  check "$v: no faces found" jq -e '[.emotion.scenes[] | .faces.per_frame == 0] | all' "$v.json"
done
check "black reads less pleasant than bright colour" jq -e --slurpfile b black.json '$b[0].emotion.scenes[0].valence < .emotion.scenes[0].valence - 0.2' silent.json
check "a loud pulse reads more aroused than silence" jq -e --slurpfile s silent.json '[.emotion.scenes[].arousal] | max > $s[0].emotion.scenes[0].arousal + 0.1' long-audio.json
finish
