#!/usr/bin/env bash
# Builds every tests/fuzz/fuzz_*.c harness with clang's libFuzzer + ASan/UBSan against the
# library and runs each for FUZZ_SECONDS (default 60). A harness names its seed files in a
# comment line "seeds: GLOB..." (relative to the repository root); the corpus grows in
# build-fuzz/corpus-NAME and crashes land in build-fuzz/crash-NAME-*. Exits non-zero if a
# harness fails to build or finds a crash.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${FUZZ_SECONDS:-60}
build="$root/build-fuzz"
cd "$root" || exit 1
command -v clang >/dev/null || { echo "fuzz: clang is needed"; exit 1; }
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
make -s BUILD=build-fuzz CC=clang OPT="-O1 -g -fno-omit-frame-pointer -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION" \
    SAN="-fsanitize=fuzzer-no-link $san" build-fuzz/libemsync.a || { echo "fuzz: library build failed"; exit 1; }
pkgs="libavformat libavcodec libavutil libswscale libswresample fluidsynth libebur128"
status=0
for src in "$here"/fuzz_*.c; do
  name=$(basename "$src" .c)
  bin="$build/$name"
  # shellcheck disable=SC2046
  if ! clang -std=c11 -g -O1 -D_GNU_SOURCE -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -Isrc -Iinclude \
      -fsanitize=fuzzer $san -o "$bin" "$src" "$build/libemsync.a" $(pkg-config --libs $pkgs 2>/dev/null) -lm -lpthread; then
    echo "FAIL $name: build"; status=1; continue
  fi
  corpus="$build/corpus-$name"
  mkdir -p "$corpus"
  seeds=$(sed -n 's/.*seeds: *//p' "$src" | head -1)
  for g in $seeds; do for f in $g; do [ -f "$f" ] && cp -n "$f" "$corpus/"; done; done
  echo "fuzz: $name for ${secs}s ($(ls "$corpus" | wc -l) corpus files)"
  if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$build/crash-$name-" "$corpus" >"$build/$name.log" 2>&1; then
    echo "ok   $name: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$build/$name.log" | grep -o '[0-9]*$') runs"
  else
    echo "FAIL $name (see $build/$name.log)"; tail -30 "$build/$name.log"; status=1
  fi
done
exit $status
