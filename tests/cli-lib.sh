# Helpers for the CLI tests (sourced). Each test runs in its own scratch directory.
set -u
: "${ES_BIN:?}" "${ES_TEST_DATA:?}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fails=0
pass() { :; }
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
not() { ! "$@"; }
check() { local what=$1; shift; if "$@" >/dev/null; then pass; else fail "$what"; fi; }

# expect_error CODE PATTERN -- ARGS...: runs emsync in an empty directory; wants exit CODE,
# exactly one line on stderr matching PATTERN, and no file left in the directory.
expect_error() {
  local code=$1 pattern=$2; shift 3
  local dir; dir=$(mktemp -d "$scratch/err.XXXXXX")
  local rc=0
  (cd "$dir" && "$ES_BIN" "$@" -q >"$scratch/stdout" 2>"$scratch/stderr") || rc=$?
  local lines; lines=$(wc -l < "$scratch/stderr")
  if [ "$rc" -ne "$code" ]; then fail "emsync $* -> exit $rc, wanted $code ($(head -c 300 "$scratch/stderr"))"; return; fi
  if [ "$lines" -ne 1 ]; then fail "emsync $* -> $lines stderr lines, wanted 1: $(head -c 400 "$scratch/stderr")"; return; fi
  if ! grep -Eq -- "$pattern" "$scratch/stderr"; then fail "emsync $* -> '$(cat "$scratch/stderr")' does not match /$pattern/"; return; fi
  if [ -n "$(ls -A "$dir")" ]; then fail "emsync $* left files behind: $(ls -A "$dir")"; fi
}

finish() {
  if [ "$fails" -gt 0 ]; then echo "$fails check(s) failed" >&2; exit 1; fi
  exit 0
}
