#!/usr/bin/env bash
# The reference range of the objective metrics on real multi-instrument MIDI music: the game
# soundtracks that Debian ships as MIDI files. Fetches the packages with `apt-get download`
# (no installation, no root needed once the package lists are there), unpacks them under
# build/midi-corpus/, runs `emsync eval --json` on every .mid file and prints, as markdown, the
# minimum, 10th percentile, median, 90th percentile and maximum of each figure. The files are
# music under their own licences: they stay in build/ and are never committed.
#
# usage: scripts/measure-midi-corpus.sh [EMSYNC_BINARY]   (default: ./emsync)
#        ES_CORPUS_DIR=DIR to unpack somewhere else; --per-file prints every file's figures too
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
per_file=0
if [ "${1:-}" = "--per-file" ]; then per_file=1; shift; fi
bin=${1:-$root/emsync}
dir=${ES_CORPUS_DIR:-$root/build/midi-corpus}
# openttd-openmsx: 31 pieces by several authors for OpenTTD (GPL-2); planetblupi-music-midi:
# the 10 pieces of Planet Blupi (GPL-3). Together blues, ragtime, rock, march and ballad styles,
# bass, drums, piano, guitar, strings, brass and winds.
packages=(openttd-openmsx planetblupi-music-midi)

command -v jq >/dev/null || { echo "measure-midi-corpus: jq is needed (scripts/install-deps.sh)" >&2; exit 1; }
[ -x "$bin" ] || { echo "measure-midi-corpus: no emsync binary at $bin (make emsync first)" >&2; exit 1; }
mkdir -p "$dir/deb" "$dir/files"
versions=()
for p in "${packages[@]}"; do
  debs=("$dir/deb/${p}"_*.deb)
  if [ ! -f "${debs[0]}" ]; then
    (cd "$dir/deb" && apt-get download -q "$p" >/dev/null 2>"$dir/deb/apt.log") || {
      echo "measure-midi-corpus: apt-get download $p failed (run 'apt-get update' first?):" >&2
      cat "$dir/deb/apt.log" >&2
      exit 1
    }
  fi
  debs=("$dir/deb/${p}"_*.deb)
  deb=${debs[${#debs[@]} - 1]}
  dpkg-deb -x "$deb" "$dir/files"
  versions+=("$(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version)")
done

mapfile -t files < <(find "$dir/files" -type f \( -iname '*.mid' -o -iname '*.midi' \) | LC_ALL=C sort)
[ "${#files[@]}" -gt 0 ] || { echo "measure-midi-corpus: no MIDI files found in the packages" >&2; exit 1; }
tsv="$dir/metrics.tsv"
: >"$tsv"
failed=0
for f in "${files[@]}"; do
  if json=$("$bin" eval "$f" --json - 2>/dev/null); then
    echo "$json" | jq -r '[(.file | split("/") | last), .duration, .notes, .pc_entropy, .scale_consistency,
                           .note_density, .polyphony, .groove_consistency, .tempo_bpm] | @tsv' >>"$tsv"
  else
    failed=$((failed + 1))
    echo "measure-midi-corpus: $f: emsync eval failed" >&2
  fi
done
n=$(wc -l <"$tsv")

from=$(printf '%s, ' "${versions[@]}")
echo "Corpus: $n MIDI files from ${from%, } (Debian packages), measured with \`emsync eval --json\`$([ "$failed" -gt 0 ] && echo "; $failed unreadable")."
echo
if [ "$per_file" = 1 ]; then
  echo "| file | seconds | notes | pitch-class entropy | scale consistency | notes/s | polyphony | groove | tempo |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' '{ printf "| %s | %.0f | %d | %.3f | %.3f | %.1f | %.2f | %.3f | %.0f |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }' "$tsv"
  echo
fi
echo "| figure | min | 10th pct | median | 90th pct | max |"
echo "|---|---:|---:|---:|---:|---:|"
# percentiles by linear interpolation between closest ranks (numpy's default)
col() {
  local name=$1 k=$2 fmt=$3
  cut -f"$k" "$tsv" | grep -v -e '^$' -e null | LC_ALL=C sort -g | awk -v name="$name" -v fmt="$fmt" '
    { x[NR] = $1 }
    function pct(p,   h, lo) { h = (NR - 1) * p + 1; lo = int(h); return lo >= NR ? x[NR] : x[lo] + (h - lo) * (x[lo + 1] - x[lo]) }
    END { printf "| %s | " fmt " | " fmt " | " fmt " | " fmt " | " fmt " |\n", name, x[1], pct(0.1), pct(0.5), pct(0.9), x[NR] }'
}
col "pitch-class entropy (bits)" 4 "%.3f"
col "scale consistency" 5 "%.3f"
col "note density (notes/s)" 6 "%.1f"
col "polyphony" 7 "%.2f"
col "groove consistency" 8 "%.3f"
col "tempo (bpm)" 9 "%.0f"
