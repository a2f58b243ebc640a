# Progress goes to stderr only: plain "emsync: STAGE..." lines when stderr is not a terminal, a
# bar with the stage, percent and ETA when it is (a pseudo-terminal made by script(1) from
# util-linux), nothing with -q; stdout stays empty throughout.
. "$(dirname "$0")/../cli-lib.sh"
d=$ES_TEST_DATA
cd "$scratch"

"$ES_BIN" score "$d/cuts.mp4" -o plain.mp4 >out.txt 2>err.txt || fail "score failed: $(cat err.txt)"
check "stdout empty" [ ! -s out.txt ]
for stage in decode compose render mux; do
  check "plain line for $stage" grep -qx "emsync: $stage\.\.\." err.txt
  check "plain done line for $stage" grep -Eqx "emsync: $stage done \([0-9.]+ s\)" err.txt
done
check "plain quarter lines" grep -qx "emsync: decode 50%" err.txt
check "no carriage returns without a terminal" not grep -q $'\r' err.txt
check "the result named" grep -q "^emsync: wrote plain.mp4" err.txt

"$ES_BIN" score "$d/short.mp4" -o quiet.mp4 -q >out.txt 2>err.txt || fail "quiet score failed"
check "-q: nothing on stderr" [ ! -s err.txt ]
check "-q: nothing on stdout" [ ! -s out.txt ]

if command -v script >/dev/null; then
  # stderr on a pseudo-terminal, stdout to a file: the terminal sees only the progress
  script -qec "'$ES_BIN' score '$d/long.mp4' --faces off -o tty.mp4 >tty-out.txt" /dev/null >tty.txt 2>&1 </dev/null ||
    fail "score on a terminal failed: $(cat tty.txt)"
  check "terminal: stdout empty" [ ! -s tty-out.txt ]
  check "terminal: a bar redrawn in place" grep -q $'\r' tty.txt
  check "terminal: stage, bar and percent" grep -Eq 'decode +\[#*-*\] +[0-9]+%' tty.txt
  check "terminal: 100% at the end of a stage" grep -Eq 'mux +\[#{30}\] 100%' tty.txt
  check "terminal: an ETA while running" grep -Eq '[0-9]+%  ETA +[0-9]+s' tty.txt
  check "terminal: no plain lines" not grep -q 'emsync: decode\.\.\.' tty.txt
  check "terminal: output written" [ -s tty.mp4 ]
else
  echo "SKIP: script(1) not installed, terminal bar not checked"
fi
finish
