# emsync score on bad input and bad options: one clear line, the right exit code, nothing left behind.
. "$(dirname "$0")/../cli-lib.sh"
d=$ES_TEST_DATA

expect_error 1 "no-such-file.mp4: .*(No such file|not found|does not exist)" -- score "$d/no-such-file.mp4"
expect_error 1 "testdata: .*director"                    -- score "$d"
expect_error 1 "empty.mp4: .*(empty|zero)"                -- score "$d/empty.mp4"
expect_error 1 "text.txt: "                               -- score "$d/text.txt"
expect_error 1 "truncated.mp4: "                          -- score "$d/truncated.mp4"
expect_error 1 "audio-only.m4a: .*no video"               -- score "$d/audio-only.m4a"
expect_error 1 "toolong.mp4: lasts 1441 min; .*up to 1440 min" -- score "$d/toolong.mp4" --faces off
expect_error 1 "image.png: .*image"                       -- score "$d/image.png"

# output problems
# an unwritable directory: mode 555 for ordinary users; root writes anywhere, except in sysfs
if [ "$(id -u)" -ne 0 ]; then
  mkdir -p "$scratch/ro" && chmod 555 "$scratch/ro"
  expect_error 1 "ro/out.mp4: .*(ermission|writ)"         -- score "$d/cuts.mp4" -o "$scratch/ro/out.mp4"
else
  expect_error 1 "/sys/out.mp4: .*ermission"              -- score "$d/cuts.mp4" -o /sys/out.mp4
fi
expect_error 1 "no-dir/out.mp4: "                         -- score "$d/cuts.mp4" -o "$scratch/no-dir/out.mp4"
check "missing folder not created" [ ! -e "$scratch/no-dir" ]
# a side output that cannot be written stops the run before any work: no video, no MIDI
mkdir -p "$scratch/outs"
expect_error 1 "no-dir/x.json: "                          -- score "$d/cuts.mp4" -o "$scratch/outs/x.mp4" --json "$scratch/no-dir/x.json"
expect_error 1 "outs: output is a directory"              -- score "$d/cuts.mp4" -o "$scratch/outs/x.mp4" --svg "$scratch/outs"
if [ "$(id -u)" -ne 0 ]; then
  expect_error 1 "ro/x.wav: "                             -- score "$d/cuts.mp4" -o "$scratch/outs/x.mp4" --wav "$scratch/ro/x.wav"
  check "read-only folder still empty" [ -z "$(ls -A "$scratch/ro")" ]
else
  expect_error 1 "/sys/x.wav: .*ermission"                -- score "$d/cuts.mp4" -o "$scratch/outs/x.mp4" --wav /sys/x.wav
fi
check "nothing in the output folder" [ -z "$(ls -A "$scratch/outs")" ]
# two outputs naming one file in different spellings
expect_error 1 "named for two outputs"                    -- score "$d/cuts.mp4" -o x.mp4 --wav x.wav --json ./x.wav
expect_error 1 "named for two outputs"                    -- score "$d/cuts.mp4" -o x.mp4 --midi ./x.mp4
expect_error 1 "named for two outputs"                    -- score "$d/cuts.mp4" -o "$scratch/outs/../x.mp4" --svg "$scratch/x.mp4"
# an output type the muxer cannot write is refused before the work, not after it
expect_error 1 "out.avi: unsupported output type"         -- score "$d/cuts.mp4" -o out.avi
cp "$d/cuts.mp4" "$scratch/in.mp4"
ln -s "$scratch/in.mp4" "$scratch/link.mp4"
before=$(md5sum < "$scratch/in.mp4")
expect_error 1 "overwrite the input"                      -- score "$scratch/in.mp4" -o "$scratch/in.mp4" -y
expect_error 1 "overwrite the input"                      -- score "$scratch/in.mp4" -o "$scratch/./in.mp4" -y
expect_error 1 "overwrite the input"                      -- score "$scratch/in.mp4" -o "$scratch/link.mp4" -y
expect_error 1 "overwrite the input"                      -- score "$scratch/in.mp4" --midi "$scratch/in.mp4" -o "$scratch/x.mp4"
check "input untouched" [ "$(md5sum < "$scratch/in.mp4")" = "$before" ]
touch "$scratch/exists.mp4"
expect_error 1 "exists.mp4: already exists"              -- score "$d/cuts.mp4" -o "$scratch/exists.mp4"
check "existing output untouched" [ ! -s "$scratch/exists.mp4" ]

# bad option values: usage errors
expect_error 2 "--valence must be a number in \[-1, 1\]"  -- score "$d/cuts.mp4" --valence 3 --arousal 0
expect_error 2 "--arousal"                                -- score "$d/cuts.mp4" --valence 0 --arousal nan
expect_error 2 "'a' is not a time"                        -- score "$d/cuts.mp4" --cuts a,b
expect_error 2 "--min-cut-gap"                            -- score "$d/cuts.mp4" --min-cut-gap -1
expect_error 2 "--cut-threshold"                          -- score "$d/cuts.mp4" --cut-threshold 2
expect_error 2 "--emotion must be one of"                 -- score "$d/cuts.mp4" --emotion happy
expect_error 2 "go together"                              -- score "$d/cuts.mp4" --valence 0.5
expect_error 2 "--seed"                                   -- score "$d/cuts.mp4" --seed -4
expect_error 2 "--original-audio"                         -- score "$d/cuts.mp4" --original-audio both
expect_error 2 "unknown option"                           -- score "$d/cuts.mp4" --frobnicate
expect_error 2 "no input"                                 -- score
# option values at the edges
expect_error 2 "empty item"                               -- score "$d/cuts.mp4" --cuts 5,,6
expect_error 2 "empty item"                               -- score "$d/cuts.mp4" --cuts 5,
expect_error 2 "'0x10' is not a time"                     -- score "$d/cuts.mp4" --cuts 0x10
expect_error 2 "--min-cut-gap"                            -- score "$d/cuts.mp4" --min-cut-gap ' 4'
expect_error 2 "--seed"                                   -- score "$d/cuts.mp4" --seed 0x10
expect_error 2 "--seed"                                   -- score "$d/cuts.mp4" --seed 1e3
expect_error 2 "'1e999' is not a time"                    -- score "$d/cuts.mp4" --cuts 1e999
expect_error 2 "-o needs a file name"                     -- score "$d/cuts.mp4" -o ''
expect_error 2 "--json needs a file name"                 -- score "$d/cuts.mp4" --json ''
expect_error 2 "--model needs a file name"                -- score "$d/cuts.mp4" --model ''
expect_error 2 "unknown option '-z'"                      -- score "$d/cuts.mp4" -yz
expect_error 2 "unknown option '-z'"                      -- score "$d/cuts.mp4" -zy
expect_error 2 "unknown command"                          -- frobnicate
rc=0; (cd "$scratch" && "$ES_BIN" score "$d/cuts.mp4" --json 2>"$scratch/err.txt") || rc=$?
check "a missing value is a usage error ($rc)" [ "$rc" -eq 2 ]
check "it names the option" grep -q "option '--json' needs a value" "$scratch/err.txt"
finish
