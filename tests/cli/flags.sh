# The common flags work the same in every command that `emsync --help` lists: -q/--quiet and
# -h/--help everywhere, -y/--overwrite in every command that writes files, each listed in the
# command's --help; -q takes effect where a command has something to say on stderr; and
# `emsync --version` prints the version.
. "$(dirname "$0")/../cli-lib.sh"
cd "$scratch"

commands=$("$ES_BIN" --help | awk '/^commands:$/ { on = 1; next } on && /^$/ { exit } on { print $1 }')
check "emsync --help lists commands" [ "$(wc -w <<<"$commands")" -ge 8 ]
# model-info only reads a checkpoint and prints; serve writes only inside its own jobs folder,
# under names it makes, so there is nothing of the user's for -y to replace
writes_nothing=" model-info serve "
for cmd in $commands; do
  "$ES_BIN" "$cmd" --help >help.txt 2>/dev/null || fail "$cmd --help failed"
  flags="q:quiet h:help"
  [[ $writes_nothing == *" $cmd "* ]] || flags+=" y:overwrite"
  for pair in $flags; do
    short=-${pair%%:*} long=--${pair#*:}
    check "$cmd --help lists $short, $long" grep -Eq -- "^ +$short, $long( |$)" help.txt
    for flag in "$short" "$long"; do
      rc=0; "$ES_BIN" "$cmd" "$flag" --help >out.txt 2>err.txt || rc=$?
      check "$cmd $flag --help exits 0 (got $rc: $(head -c 200 err.txt))" [ "$rc" -eq 0 ]
      check "$cmd $flag --help prints the help" cmp -s help.txt out.txt
    done
  done
done

# -q where it used to be refused: the usual one-line errors (expect_error passes -q)
expect_error 1 "nothing.png" -- faces "$scratch/nothing.png"
expect_error 2 "--input and --out are required" -- model-logits
expect_error 1 "nothing.mid" -- eval "$scratch/nothing.mid"
expect_error 2 "unknown option '--bogus'" -- faces x.png --bogus

# eval --json - puts its text report on stderr; -q leaves only errors there
"$ES_BIN" compose --duration 4 --emotion joy --composer rules -q -o piece.mid || fail "compose failed"
"$ES_BIN" eval piece.mid --json - >report.json 2>err.txt || fail "eval --json - failed"
check "eval --json -: text report on stderr" grep -q "note density" err.txt
"$ES_BIN" eval piece.mid --json - -q >report.json 2>err.txt || fail "eval --json - -q failed"
check "eval --json - -q: nothing on stderr ($(head -c 200 err.txt))" [ ! -s err.txt ]
check "eval --json - -q: the JSON still on stdout" grep -q '"notes"' report.json

# faces -q on a picture, when the face models are installed
if "$ES_BIN" faces -q "$ES_ROOT/tests/data/faces/sample1.jpg" >faces.json 2>err.txt; then
  check "faces -q: nothing on stderr" [ ! -s err.txt ]
  check "faces -q: the faces on stdout" grep -q '"box"' faces.json
else
  check "faces -q: fails only for want of the face models ($(cat err.txt))" grep -q "install-deps" err.txt
fi

rc=0; "$ES_BIN" --version >version.txt 2>err.txt || rc=$?
check "--version exits 0 (got $rc)" [ "$rc" -eq 0 ]
check "--version: nothing on stderr" [ ! -s err.txt ]
check "--version prints 'emsync X.Y.Z' ($(cat version.txt))" grep -Eqx "emsync [0-9]+\.[0-9]+\.[0-9]+" version.txt
"$ES_BIN" --help >help.txt
check "emsync --help lists --version" grep -Eq -- "^ +--version " help.txt
finish
