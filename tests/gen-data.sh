#!/usr/bin/env bash
# Makes all generated test data in DIR (default build/testdata) by running every tests/gen/*.sh
# with DIR. Each generator guards itself with its own stamp file, so this is cheap after the
# first run. A lock keeps concurrent test runs from generating the same files twice.
set -euo pipefail
dir=${1:-build/testdata}
mkdir -p "$dir"
here=$(cd "$(dirname "$0")" && pwd)
exec 9>"$dir/.lock"
flock 9
for g in "$here"/gen/*.sh; do
  bash "$g" "$dir" || { echo "gen-data: $(basename "$g") failed" >&2; exit 1; }
done
