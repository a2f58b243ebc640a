#!/usr/bin/env bash
# Usage: collect.sh OUTDIR
# Merges the shard summaries of a batch run as a Slurm job array (OUTDIR/summary/shard-I-of-N.jsonl,
# written by scripts/slurm/emsync-batch.sbatch) into OUTDIR/summary.jsonl, in manifest order, and
# prints how many rows ended with each status, then every row that failed, was invalid or was
# interrupted (its task was stopped, e.g. at its time limit), with its error. A shard whose summary
# is missing (its task never ran, or was killed before it wrote one) is named too. Exit status: 0
# when every row is ok, skipped or claimed (by another batch on the same folder) and no shard is
# missing; 1 when any row failed, was invalid or interrupted, or a shard is missing; 2 for bad
# usage. Needs jq.
set -euo pipefail

if [ "$#" -ne 1 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
  echo "usage: $(basename "$0") OUTDIR" >&2
  exit 2
fi
outdir=$1
command -v jq >/dev/null 2>&1 || { echo "collect: jq is needed (Debian package jq)" >&2; exit 2; }

shopt -s nullglob
files=("$outdir"/summary/shard-*-of-*.jsonl)
if [ "${#files[@]}" -eq 0 ]; then
  echo "collect: no shard summaries in $outdir/summary/" >&2
  exit 2
fi

# oldest first: a row summarised more than once (by a rerun) counts with its latest status
mapfile -t files < <(ls -1tr -- "${files[@]}")
# the newest summary's array size N: each of its shards 0..N-1 should have written one
newest=${files[-1]##*-of-}
n=${newest%.jsonl}
missing=()
for ((i = 0; i < n; i++)); do
  [ -e "$outdir/summary/shard-$i-of-$n.jsonl" ] || missing+=("$i/$n")
done

merged=$outdir/summary.jsonl
jq -c -s 'reduce .[] as $r ({}; .["\($r.line)\t\($r.input)"] = $r) | [.[]] | sort_by(.line, .input) | .[]' "${files[@]}" >"$merged.tmp"
mv "$merged.tmp" "$merged"

echo "$(jq -s length "$merged") rows in $merged"
jq -r -s 'group_by(.status) | .[] | "\(.[0].status)\t\(length)"' "$merged"
bad=$(jq -r 'select(.status == "failed" or .status == "invalid" or .status == "interrupted")
  | "\(.status): line \(.line): \(.input) -> \(.output)\(if .error then ": " + .error else "" end)"' "$merged")
[ -z "$bad" ] || echo "$bad"
[ "${#missing[@]}" -eq 0 ] || echo "missing shard summaries (tasks that wrote none): ${missing[*]}"
if jq -e -s 'any(.status == "interrupted" or .status == "claimed")' "$merged" >/dev/null; then
  echo "interrupted or claimed rows are scored by running the same job again"
fi
[ -z "$bad" ] && [ "${#missing[@]}" -eq 0 ]
