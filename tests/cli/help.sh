# Every subcommand's --help: exit 0, text on stdout only, every long option that its parser
# accepts (read from the option tables in the source, shared groups included), a default or
# "required" for each option that takes a value, and an example. `emsync --help` lists every
# subcommand registered in main.c.
. "$(dirname "$0")/../cli-lib.sh"
src=$ES_ROOT/src/cli
cd "$scratch"

# long options of a getopt_long table: {"name", no_argument|required_argument, ...}
table() { grep -oE '\{"[a-z0-9-]+", *(no|required|optional)_argument' "$@" | sed -E 's/.*\{"([^"]+)", *([a-z]+)_argument/\1 \2/'; }
# the same from a shared group macro in options.h
group() { awk -v m="#define $1" 'index($0, m) == 1 { on = 1; next } on && !/\\$/ { print; exit } on { print }' "$src/options.h" | table /dev/stdin; }

options_of() {
  local file=$1
  table "$file"
  grep -q CLI_MUSIC_LONG_OPTIONS "$file" && group CLI_MUSIC_LONG_OPTIONS
  grep -q CLI_ANALYSIS_LONG_OPTIONS "$file" && group CLI_ANALYSIS_LONG_OPTIONS
  return 0
}

for pair in score:cmd_score.c analyze:cmd_analyze.c compose:cmd_compose.c eval:cmd_eval.c faces:cmd_faces.c \
            model-logits:cmd_model.c model-info:cmd_model_info.c tokenize:cmd_tokenize.c; do
  cmd=${pair%%:*}; file=$src/${pair#*:}
  rc=0; "$ES_BIN" "$cmd" --help >help.txt 2>err.txt || rc=$?
  check "$cmd --help exits 0 (got $rc)" [ "$rc" -eq 0 ]
  check "$cmd --help: nothing on stderr" [ ! -s err.txt ]
  check "$cmd --help: -h gives the same" cmp -s help.txt <("$ES_BIN" "$cmd" -h 2>/dev/null)
  check "$cmd --help: an example" grep -qi '^example' help.txt
  n=0
  while read -r name kind; do
    n=$((n + 1))
    check "$cmd --help lists --$name" grep -Eq -- "--$name([ =,]|$)" help.txt
    [ "$kind" = required ] || continue
    # the option's entry: its line and the indented lines after it, up to the next option
    entry=$(awk -v o="--$name" '
      on && (/^ *-/ || /^$/ || /^[^ ]/) { exit }
      on { print }
      !on && /^ *-/ && index($0, o " ") { on = 1; print }' help.txt)
    check "$cmd --help: --$name has a default or says required ($entry)" grep -Eqi 'default|required' <<<"$entry"
  done < <(options_of "$file" | sort -u)
  check "$cmd: options found in $file ($n)" [ "$n" -ge 4 ]
done

"$ES_BIN" --help >help.txt || fail "emsync --help failed"
for cmd in $(grep -oE '^\s*\{"[a-z-]+", "' "$src/main.c" | sed -E 's/.*\{"([a-z-]+)".*/\1/'); do
  check "emsync --help lists $cmd" grep -Eq "^  $cmd " help.txt
done
finish
