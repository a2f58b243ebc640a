# scripts/get-emsync-checkpoint.sh on local files (--from): the released shapes are installed
# into the data directory and then found by the composer; anything else is refused and nothing
# is installed.
. "$(dirname "$0")/../cli-lib.sh"
cd "$scratch"
get="$ES_ROOT/scripts/get-emsync-checkpoint.sh"
released="$ES_TEST_DATA/released-random.pt"

refuse() { # refuse PATTERN ARGS...: exit 1, PATTERN on stderr, no emsync.pt installed
  local pattern=$1; shift
  rm -rf data
  if bash "$get" --emsync "$ES_BIN" --data-dir data "$@" 2>err.txt; then fail "accepted: $*"; return; fi
  grep -Eq -- "$pattern" err.txt || fail "$*: '$(cat err.txt)' does not match /$pattern/"
  [ ! -e data/emsync.pt ] || fail "$*: a checkpoint was installed"
  [ -z "$(ls -A data 2>/dev/null)" ] || fail "$*: left $(ls -A data)"
}

bash "$get" --emsync "$ES_BIN" --data-dir data --from "$released" 2>err.txt || fail "released shapes refused: $(cat err.txt)"
check "installed" cmp -s "$released" data/emsync.pt
check "nothing else left" [ "$(ls -A data)" = emsync.pt ]
EMSYNC_MODEL= EMSYNC_DATA="$scratch/data" "$ES_BIN" model-info --json > info.json || fail "model-info failed"
check "the composer finds it in the data dir" [ "$(jq -r .source info.json)" = "data dir" ]
check "released size" [ "$(jq .parameters info.json)" = 37178355 ]
bash "$get" --emsync "$ES_BIN" --data-dir data --from "$released" 2>err.txt && fail "replaced without -y"
check "says it exists" grep -q "exists" err.txt
bash "$get" --emsync "$ES_BIN" --data-dir data --from "$released" -y 2>/dev/null || fail "-y refused"

refuse "shapes .* are not the released" --from "$ES_ROOT/tests/data/emsync/tiny-a.pt"
head -c 1000000 "$released" > cut.pt
refuse "not a usable EMSYNC checkpoint" --from cut.pt
printf 'not a checkpoint' > text.pt
refuse "not a usable EMSYNC checkpoint" --from text.pt
refuse "no such file" --from missing.pt
finish
