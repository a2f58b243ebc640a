# emsync serve on loopback, driven through its HTTP API with curl (and the page in a real
# browser when tests/web/page_test.py and chromium are there): upload a real clip, analyse and
# render it, the same MIDI as `emsync score`, an edited plan re-rendered without a new analysis,
# range requests, refused uploads and paths, a file that is not a video, restart, SIGTERM.
. "$(dirname "$0")/../cli-lib.sh"
d=$ES_TEST_DATA
server_pid=""
stop_server() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; server_pid=""; }
trap 'stop_server; rm -rf "$scratch"' EXIT
cd "$scratch" || exit 1
jobs="$scratch/jobs"

start_server() {
  "$ES_BIN" serve --port 0 --jobs "$jobs" --max-upload 2M >"$scratch/url.txt" 2>"$scratch/serve.err" &
  server_pid=$!
  for _ in $(seq 1 200); do grep -q '^emsync serve: http' "$scratch/url.txt" 2>/dev/null && break; sleep 0.05; done
  url=$(grep -o 'http://[^ ]*' "$scratch/url.txt")
  [ -n "$url" ] || { echo "the server did not start: $(cat "$scratch/serve.err")"; exit 1; }
  token=$(curl -s "$url" | grep -o 'name="emsync-token" content="[0-9a-f]*"' | grep -o '[0-9a-f]\{32\}')
}
# wait_for ID JQ-CONDITION: polls the job (up to 240 s: the sanitizer build is slow)
wait_for() {
  for _ in $(seq 1 2400); do
    curl -s "${url}api/jobs/$1" >job.json
    if jq -e "$2" job.json >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  fail "job $1 never reached $2: $(jq -c '{state,stage,error,revision}' job.json)"
  return 1
}
upload() { curl -s -o up.json -w '%{http_code}' -H "X-Emsync-Token: $token" -F "video=@$1" "${url}api/jobs"; }
code() { curl -s -o /dev/null -w '%{http_code}' --path-as-is "$@"; }

start_server
check "the URL is on loopback" grep -q '^http://127.0.0.1:[0-9]*/$' <<<"$url"
check "the page carries a token" test "${#token}" -eq 32
check "the page forbids outside sources" curl -sI "$url" -o /dev/null -w '%header{content-security-policy}' | grep -q "default-src 'self'"
check "config lists soundfonts" test "$(curl -s "${url}api/config" | jq '.soundfonts | length')" -ge 1

# refused before anything is stored
# (a small body: the server answers 403 before reading it, and with a large one the client may
# see the connection closed before it has sent everything, instead of the answer)
check "upload without the token: 403" test "$(code -F "video=@$d/text.txt" "${url}api/jobs")" = 403
check "upload from another origin: 403" test "$(code -H "X-Emsync-Token: $token" -H 'Origin: http://evil.example' -F "video=@$d/text.txt" "${url}api/jobs")" = 403
check "another Host (DNS rebinding): 403" test "$(code -H 'Host: evil.example' "${url}api/config")" = 403
head -c 3000000 /dev/urandom >big.mp4
check "upload over --max-upload: 413" test "$(upload big.mp4)" = 413
check "nothing stored by refused uploads" test -z "$(ls -A "$jobs")"

# a real clip: analysed, rendered, the same music as `emsync score`
check "upload: 201" test "$(upload "$d/cuts.mp4")" = 201
id=$(jq -r .id up.json)
check "the id is 128 random bits" grep -Eq '^[0-9a-f]{32}$' <<<"$id"
wait_for "$id" '.state == "done" and .revision == 1'
check "the analysis is in the job" test "$(jq -c .analysis.cuts.boundaries job.json)" = "[5,12,17]"
check "every output is there" jq -e '.outputs | .video and .midi and .wav and .json and .timeline' job.json
curl -s "${url}api/jobs/$id/midi" -o served.mid
"$ES_BIN" score "$d/cuts.mp4" -o direct.mp4 -q
check "the served MIDI is score's MIDI" cmp served.mid direct.mid
check "range request: 206" test "$(code -H 'Range: bytes=100-199' "${url}api/jobs/$id/video")" = 206
check "range request: 100 bytes" test "$(curl -s -H 'Range: bytes=100-199' "${url}api/jobs/$id/video" | wc -c)" -eq 100
curl -s "${url}api/jobs/$id/video" -o served.mp4
check "the video has the music" test "$(ffprobe -v error -select_streams a -show_entries stream=codec_type -of csv=p=0 served.mp4)" = audio
check "the WAV is a WAV" test "$(curl -s "${url}api/jobs/$id/wav" | head -c 4)" = RIFF
check "the timeline is SVG" curl -s "${url}api/jobs/$id/timeline.svg" | grep -q '<svg'

# an edited plan: one cut at 8 s, a joyful first scene; no second analysis
analysis_time=$(stat -c %Y "$jobs/$id/analysis.json")
plan='{"boundaries":[8],"scenes":[{"start":0,"valence":0.8,"arousal":0.5},{"start":8,"valence":-0.6,"arousal":-0.4}],"composer":"rules","seed":3}'
check "plan: 202" test "$(code -X PUT -H "X-Emsync-Token: $token" -d "$plan" "${url}api/jobs/$id/plan")" = 202
wait_for "$id" '.state == "done" and .revision == 2'
check "the plan is stored" test "$(jq -c .plan.boundaries job.json)" = "[8]"
check "not analysed again" test "$(stat -c %Y "$jobs/$id/analysis.json")" = "$analysis_time"
curl -s "${url}api/jobs/$id/json" -o report.json
check "the render used the edited cut" test "$(jq -c .cuts.boundaries report.json)" = "[8]"
curl -s "${url}api/jobs/$id/midi" -o edited.mid
check "the music changed" not cmp -s edited.mid served.mid
"$ES_BIN" eval edited.mid --cuts 8 --json eval.json -q >/dev/null
check "a chord change lands on the new cut" jq -e '.hit_rate_100ms == 1' eval.json

# bad plans: one line, 400, the job keeps its result
for bad in '{"boundaries":[5,3]}' '{"scenes":[{"start":0,"valence":2,"arousal":0}]}' '{"composer":"jazz"}' \
           '{"soundfont":"/etc/passwd"}' '{"seed":1.5}' 'not json' '[1]' '{"boundaries":[25]}' '{"boundaries":[0]}' \
           '{"scenes":[{"start":0,"valence":NaN,"arousal":0}]}' '{"scenes":[{"start":30,"valence":0,"arousal":0}]}' \
           '{"bogus":1}' '{"scenes":[{"start":0,"valence":0,"arousal":0,"mood":"joy"}]}' '{"scenes":[1]}'; do
  check "bad plan $bad: 400" test "$(code -X PUT -H "X-Emsync-Token: $token" -d "$bad" "${url}api/jobs/$id/plan")" = 400
done
check "a bad plan's error is one JSON line" test "$(curl -s -X PUT -H "X-Emsync-Token: $token" -d '{"composer":"jazz"}' "${url}api/jobs/$id/plan" | jq -r .error)" = "composer must be auto, rules or emsync"
check "a boundary past the end says so" test "$(curl -s -X PUT -H "X-Emsync-Token: $token" -d '{"boundaries":[25]}' "${url}api/jobs/$id/plan" | jq -r .error)" = "boundary 25 s is not inside the video (0 to 20 s)"
check "an unknown field is named" grep -q "unknown field 'bogus'" <<<"$(curl -s -X PUT -H "X-Emsync-Token: $token" -d '{"bogus":1}' "${url}api/jobs/$id/plan" | jq -r .error)"
check "plan without the token: 403" test "$(code -X PUT -d "$plan" "${url}api/jobs/$id/plan")" = 403

# paths that must not reach the file system
for p in "api/jobs/$id/../../etc/passwd" "api/jobs/$id/%2e%2e%2fname" "api/jobs/$id%2fmidi" "api/jobs/$id/input.mp4" \
         "api/jobs/$id/name" "api/jobs/$id/midi%00" "api/jobs/" "api/jobs/../$id" "$(printf 'a%.0s' $(seq 1 300))" \
         "api/jobs/00000000000000000000000000000000"; do
  check "refused path ${p:0:60}: 404" test "$(code "${url}$p")" = 404
done

# not a video: the job fails with the CLI's own line, and the server goes on
check "text upload: 201" test "$(upload "$d/text.txt")" = 201
bad_id=$(jq -r .id up.json)
wait_for "$bad_id" '.state == "failed"'
check "the CLI's error line, with the file's own name" grep -q "^text.txt: cannot read as a video" <<<"$(jq -r .error job.json)"
check "still serving" test "$(code "${url}api/config")" = 200

# the page, in a real browser
if [ -f "$ES_ROOT/tests/web/page_test.py" ] && command -v chromedriver >/dev/null; then
  /usr/bin/python3 "$ES_ROOT/tests/web/page_test.py" "$url" "$d/cuts.mp4" --emsync "$ES_BIN" --screenshots shots \
    >page.log 2>&1 || fail "page test: $(grep -E "^FAIL|^console" page.log | head -5)"
  check "the page test saved screenshots" test -s shots/4-result.png
fi

# DELETE removes the job's folder
check "delete: 204" test "$(code -X DELETE -H "X-Emsync-Token: $token" "${url}api/jobs/$bad_id")" = 204
check "the folder is gone" test ! -e "$jobs/$bad_id"

# a restart keeps finished jobs
stop_server
start_server
wait_for "$id" '.state == "done"'
check "after a restart the MIDI is still served" cmp <(curl -s "${url}api/jobs/$id/midi") edited.mid

# SIGTERM during a render: exits 0 soon, no child left, no temporary file
code -X PUT -H "X-Emsync-Token: $token" -d '{"seed":9}' "${url}api/jobs/$id/plan" >/dev/null
wait_for "$id" '.state == "running"'
kill -TERM "$server_pid"
rc=0; wait "$server_pid" || rc=$?
server_pid=""
check "SIGTERM: exit 0 (got $rc: $(grep -v "^emsync serve: stopping" "$scratch/serve.err" | grep -E "^ +#[0-9]|SUMMARY" | head -8))" test "$rc" -eq 0
check "no emsync child left" test -z "$(pgrep -f "$jobs" || true)"
check "no temporary file left" test -z "$(find "$jobs" -name '.*')"

# a full disk: the jobs folder on a 600 kB tmpfs in a private mount namespace (skipped where user
# namespaces are not allowed). A render that does not fit fails its job with one line and leaves
# no partial file; an upload that does not fit is refused (507) and leaves nothing.
full_jobs="$scratch/full-jobs"
mkdir -p "$full_jobs"
if unshare -rm sh -c 'mount -t tmpfs -o size=600k tmpfs "$1"' _ "$full_jobs" 2>/dev/null; then
  unshare -rm sh -c 'mount -t tmpfs -o size=600k tmpfs "$1" && exec "$2" serve --port 0 --jobs "$1" --max-upload 2M' \
    _ "$full_jobs" "$ES_BIN" >"$scratch/url.txt" 2>"$scratch/serve.err" &
  server_pid=$!
  for _ in $(seq 1 200); do grep -q '^emsync serve: http' "$scratch/url.txt" 2>/dev/null && break; sleep 0.05; done
  url=$(grep -o 'http://[^ ]*' "$scratch/url.txt")
  token=$(curl -s "$url" | grep -o 'name="emsync-token" content="[0-9a-f]*"' | grep -o '[0-9a-f]\{32\}')
  inside="/proc/$server_pid/root$full_jobs"  # the tmpfs as the server sees it
  check "full disk: upload of a small clip: 201" test "$(upload "$d/short.mp4")" = 201
  full_id=$(jq -r .id up.json)
  wait_for "$full_id" '.state == "failed"'
  check "full disk: the job's error says so ($(jq -r .error job.json))" grep -q "No space left on device" <<<"$(jq -r .error job.json)"
  check "full disk: one line" test "$(jq -r .error job.json | wc -l)" -eq 1
  check "full disk: no temporary or partial output left ($(ls -A "$inside/$full_id" | tr '\n' ' '))" \
    test -z "$(find "$inside" -name '.*' -o -name 'music.*' -o -name '*.emsync.*' -o -name 'report.json' -o -name '*.tmp')"
  rc=$(curl -s -o up.json -w '%{http_code}' -H "X-Emsync-Token: $token" -F "video=@$d/long.mp4" "${url}api/jobs")
  check "full disk: an upload that does not fit: 507 (got $rc: $(cat up.json))" test "$rc" = 507
  check "full disk: the refused upload left nothing" test "$(ls "$inside" | wc -l)" -eq 1
  check "full disk: still serving" test "$(code "${url}api/config")" = 200
  stop_server
else
  echo "(skipped the full-disk case: no user namespaces here)"
fi
finish
