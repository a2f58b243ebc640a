# emsync score on bad input and bad options: one clear line, the right exit code, nothing left behind.
. "$(dirname "$0")/../cli-lib.sh"
d=$ES_TEST_DATA

expect_error 1 "no-such-file.mp4: .*(No such file|not found|does not exist)" -- score "$d/no-such-file.mp4"
expect_error 1 "testdata: .*director"                    -- score "$d"
expect_error 1 "empty.mp4: .*(empty|zero)"                -- score "$d/empty.mp4"
expect_error 1 "text.txt: "                               -- score "$d/text.txt"
expect_error 1 "truncated.mp4: "                          -- score "$d/truncated.mp4"
expect_error 1 "audio-only.m4a: .*no video"               -- score "$d/audio-only.m4a"
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
expect_error 2 "unknown command"                          -- frobnicate
finish
