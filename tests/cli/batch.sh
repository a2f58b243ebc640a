# emsync batch: a folder and manifests (CSV, JSON Lines) of real clips. Each row's outputs are
# what `emsync score` makes with the same options (the MIDI byte for byte); bad rows are reported
# with their line and do not stop the good ones; a rerun skips finished outputs; shards split the
# rows without overlap; Ctrl-C stops cleanly and a rerun finishes; two batches on one folder
# score each video once.
. "$(dirname "$0")/../cli-lib.sh"
d=$ES_TEST_DATA
set -m  # background jobs keep SIGINT
cd "$scratch" || exit 1
opts=(--faces off --composer rules)

# no temporary, claim or partial file in a folder
clean() { [ -z "$(find "$1" -name '.*' -type f)" ]; }
status_of() { jq -r --arg i "$2" 'select(.input == $i) | .status' "$1"; }

# --- a folder: videos only, earlier results and hidden files ignored; one bad file fails alone
mkdir in
cp "$d/short.mp4" "$d/calm.mp4" in/
cp "$d/text.txt" in/broken.mp4
cp "$d/short.mp4" in/old.emsync.mp4
cp "$d/short.mp4" in/.hidden.mp4
echo notes >in/readme.txt
rc=0; "$ES_BIN" batch in -o out -j 2 "${opts[@]}" --seed 4 --with json 2>err || rc=$?
check "folder: exit 1 when a file fails (got $rc)" test "$rc" -eq 1
check "folder: 3 summary rows" test "$(wc -l <out/emsync-batch.jsonl)" -eq 3
check "folder: short ok" test "$(status_of out/emsync-batch.jsonl in/short.mp4)" = ok
check "folder: calm ok" test "$(status_of out/emsync-batch.jsonl in/calm.mp4)" = ok
check "folder: broken failed" test "$(status_of out/emsync-batch.jsonl in/broken.mp4)" = failed
check "folder: the error line of the bad file" grep -q '"error":"in/broken.mp4: cannot read as a video' out/emsync-batch.jsonl
check "folder: the bad file on stderr" grep -q '^emsync batch: in/broken.mp4: cannot read as a video' err
check "folder: the final count" grep -q '2 ok, 0 skipped, 1 failed, 0 invalid' err
check "folder: json side output" jq -e '.cuts' out/calm.emsync.json
check "folder: the video has the music" test "$(ffprobe -v error -select_streams a -show_entries stream=codec_type -of csv=p=0 out/calm.emsync.mp4)" = audio
check "folder: nothing else made" test "$(ls out | tr '\n' ' ')" = "calm.emsync.json calm.emsync.mid calm.emsync.mp4 emsync-batch.jsonl short.emsync.json short.emsync.mid short.emsync.mp4 "
check "folder: no temporary or claim file" clean out
"$ES_BIN" score "$d/calm.mp4" -o direct.mp4 "${opts[@]}" --seed 4 -q
check "folder: the same MIDI as score" cmp direct.mid out/calm.emsync.mid

# a rerun skips what is done and tries the failed file again
rc=0; "$ES_BIN" batch in -o out "${opts[@]}" --seed 4 --with json -q 2>err || rc=$?
check "rerun: exit 1 (still broken)" test "$rc" -eq 1
check "rerun: short skipped" test "$(status_of out/emsync-batch.jsonl in/short.mp4)" = skipped
check "rerun: calm skipped" test "$(status_of out/emsync-batch.jsonl in/calm.mp4)" = skipped
check "rerun: broken failed again" test "$(status_of out/emsync-batch.jsonl in/broken.mp4)" = failed
check "rerun: quiet prints only the failure" test "$(wc -l <err)" -eq 1

# --- a CSV manifest: per-row options; every bad row reported with its line
mkdir m
printf '%s\n' \
  'input,output,emotion,seed,bogus' \
  '# a comment line' \
  "$d/short.mp4,m/joy.mp4,joy,,"  \
  "$d/missing.mp4,m/b.mp4,,," \
  "$d/calm.mp4,m/joy.mp4,,," \
  "$d/calm.mp4,m/c.mp4,,,x" \
  "$d/calm.mp4,$d/calm.mp4,,," \
  "$d/calm.mp4,m/d.mp4,,99999999999," \
  "$d/calm.mp4,m/e.mp4,tired,," \
  '"m/sp ace, comma.mp4",m/f.mp4,,,' >list.csv
printf '"m/\377.mp4",m/g.mp4,,,\n' >>list.csv
cp "$d/short.mp4" "m/sp ace, comma.mp4"
rc=0; "$ES_BIN" batch list.csv -j 2 "${opts[@]}" --summary csv.jsonl 2>err || rc=$?
check "csv: exit 1 with bad rows" test "$rc" -eq 1
check "csv: a summary row per manifest row" test "$(wc -l <csv.jsonl)" -eq 9
row() { jq -r --argjson l "$1" "select(.line == \$l) | .$2" csv.jsonl; }
check "csv: line 3 ok" test "$(row 3 status)" = ok
check "csv: quoted path with a comma ok" test "$(row 10 status)" = ok
check "csv: missing file" grep -q "^emsync batch: line 4: .*missing.mp4: No such file" err
check "csv: duplicate output" grep -q "^emsync batch: line 5: 'm/joy.mp4' is also written by line 3" err
check "csv: unknown option" grep -q "^emsync batch: line 6: unknown option 'bogus'" err
check "csv: output is input" grep -q "^emsync batch: line 7: the output is the input" err
check "csv: bad value" grep -q "^emsync batch: line 8: --seed must be an integer" err
check "csv: bad emotion" grep -q "^emsync batch: line 9: --emotion must be one of" err
check "csv: non-UTF-8 path" grep -q "^emsync batch: line 11: the input path is not valid UTF-8" err
for l in 4 5 6 7 8 9 11; do check "csv: line $l invalid" test "$(row $l status)" = invalid; done
check "csv: the summary stays UTF-8" jq -e . csv.jsonl
"$ES_BIN" score "$d/short.mp4" -o joy-direct.mp4 "${opts[@]}" --emotion joy -q
check "csv: the row's emotion reached score" cmp joy-direct.mid m/joy.mid
check "csv: no temporary or claim file" clean m

# --- JSON Lines: numbers, flags, nulls
printf '%s\n' "{\"input\": \"$d/short.mp4\", \"output\": \"j/a.mp4\", \"seed\": 9, \"valence\": -0.5, \"arousal\": 0.25}" \
  "{\"input\": \"$d/calm.mp4\", \"output\": \"j/b.mp4\", \"emotion\": null, \"exact\": false}" \
  '{"input": 5}' '[1]' '{"input": "x.mp4", ' >list.jsonl
rc=0; "$ES_BIN" batch list.jsonl "${opts[@]}" -q --summary j.jsonl 2>err || rc=$?
check "jsonl: exit 1 with bad rows" test "$rc" -eq 1
check "jsonl: two ok" test "$(jq -r 'select(.status == "ok") | .line' j.jsonl | tr '\n' ' ')" = "1 2 "
check "jsonl: input not a string" grep -q "^emsync batch: line 3: 'input' must be a path" err
check "jsonl: not an object" grep -q "^emsync batch: line 4: a row must be a JSON object" err
check "jsonl: cut short" grep -q "^emsync batch: line 5: " err
"$ES_BIN" score "$d/short.mp4" -o v-direct.mp4 "${opts[@]}" --seed 9 --valence -0.5 --arousal 0.25 -q
check "jsonl: the row's numbers reached score" cmp v-direct.mid j/a.mid

# --- shards: 3 tasks over 6 rows, each row once
mkdir s
: >six.csv; echo input,output >six.csv
for i in 1 2 3 4 5 6; do echo "$d/short.mp4,s/v$i.mp4" >>six.csv; done
for i in 0 1 2; do "$ES_BIN" batch six.csv --shard $i/3 -o s "${opts[@]}" -q || fail "shard $i/3 failed"; done
check "shards: three summaries" test "$(ls s/emsync-batch.*-of-3.jsonl | wc -l)" -eq 3
check "shards: 6 rows, each once" test "$(cat s/emsync-batch.*-of-3.jsonl | jq -r .line | sort -n | tr '\n' ' ')" = "2 3 4 5 6 7 "
check "shards: 2 rows each" test "$(for f in s/emsync-batch.*-of-3.jsonl; do wc -l <"$f"; done | tr '\n' ' ')" = "2 2 2 "
check "shards: all ok" test "$(cat s/emsync-batch.*-of-3.jsonl | jq -r .status | sort -u)" = ok
check "shards: 6 videos" test "$(ls s/*.mp4 | wc -l)" -eq 6

# --- Ctrl-C: stops, leaves no partial file or claim; a rerun finishes the rest
mkdir -p many
for i in 1 2 3 4 5 6; do cp "$d/calm.mp4" many/c$i.mp4; done
"$ES_BIN" batch many -o cc -j 1 "${opts[@]}" -q 2>/dev/null &
pid=$!
for _ in $(seq 1 1500); do [ -e cc/c1.emsync.mp4 ] && break; kill -0 $pid 2>/dev/null || break; sleep 0.02; done
kill -INT $pid
rc=0; wait $pid || rc=$?
check "interrupt: exit 130 (got $rc)" test "$rc" -eq 130
check "interrupt: some rows interrupted" grep -q '"status":"interrupted"' cc/emsync-batch.jsonl
check "interrupt: no temporary or claim file" clean cc
for f in cc/*.mp4; do
  check "interrupt: $f whole" ffprobe -v error -show_entries format=duration "$f"
done
"$ES_BIN" batch many -o cc -j 2 "${opts[@]}" -q || fail "the rerun after Ctrl-C failed"
check "interrupt: the rerun made all 6" test "$(ls cc/*.mp4 | wc -l)" -eq 6
check "interrupt: the rerun skipped what was done" grep -q '"status":"skipped"' cc/emsync-batch.jsonl

# --- two batches on the same folder at once: every video scored once, no failure
"$ES_BIN" batch many -o two -j 1 "${opts[@]}" -q --summary two-a.jsonl &
pid=$!
"$ES_BIN" batch many -o two -j 1 "${opts[@]}" -q --summary two-b.jsonl || fail "second concurrent batch failed"
wait $pid || fail "first concurrent batch failed"
check "concurrent: 6 ok in all" test "$(cat two-a.jsonl two-b.jsonl | jq -r 'select(.status == "ok") | .input' | sort -u | wc -l)" -eq 6
check "concurrent: none scored twice" test "$(cat two-a.jsonl two-b.jsonl | jq -r 'select(.status == "ok") | .input' | wc -l)" -eq 6
check "concurrent: no failure" not grep -q '"failed"' two-a.jsonl two-b.jsonl
check "concurrent: no claim left" clean two

# --- usage and whole-batch errors: one line, nothing written
expect_error 2 "no folder or manifest given" -- batch
expect_error 2 "shard must be I/N" -- batch in --shard 3/3
expect_error 2 "-j must be an integer" -- batch in -j 0
expect_error 2 "--midi would be the same file for every video" -- batch in --midi x.mid
expect_error 2 "unknown option '--frobnicate'" -- batch in --frobnicate
expect_error 2 "--seed must be an integer" -- batch in --seed x
expect_error 2 "--with takes json, svg and wav" -- batch in --with mp3
expect_error 1 "nothing-here: No such file" -- batch nothing-here
: >empty.csv
expect_error 1 "empty.csv: empty manifest" -- batch "$scratch/empty.csv"
echo 'file,seed' >nocol.csv
expect_error 1 "no 'input' column" -- batch "$scratch/nocol.csv"
mkdir novideos
expect_error 1 "no video files" -- batch "$scratch/novideos"
finish
