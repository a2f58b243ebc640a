#!/usr/bin/env bash
# Runs every test program in BUILD/tests and every tests/cli/*.sh script against BUILD/emsync,
# after making the generated test clips. Prints "N passed, N failed" and exits non-zero on failure.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export ES_TEST_DATA="$root/build/testdata"
export ES_BIN="$root/$build/emsync"
export ES_ROOT="$root"
"$here/gen-data.sh" "$ES_TEST_DATA" || { echo "could not generate test data"; exit 1; }

passed=0; failed=0; failed_names=()
run_one() {
  local name=$1; shift
  local log; log=$(mktemp)
  if (cd "$root" && "$@") >"$log" 2>&1; then
    passed=$((passed + 1)); echo "ok   $name"
  else
    failed=$((failed + 1)); failed_names+=("$name"); echo "FAIL $name"; sed 's/^/     /' "$log" | tail -40
  fi
  rm -f "$log"
}
for t in "$root/$build"/tests/test_*; do
  [ -x "$t" ] || continue
  run_one "$(basename "$t")" "$t"
done
for s in "$here"/cli/*.sh; do
  [ -f "$s" ] || continue
  run_one "cli/$(basename "$s")" bash "$s"
done
echo
[ "$failed" -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
