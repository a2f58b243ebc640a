#!/usr/bin/env bash
# emsync model-logits against the reference's golden logits (float32 and float16 checkpoints,
# torch 1.x and 2.x files), and its refusals: each bad input gives exit 1 (2 for usage), one
# error line and no output file.
set -u
bin=${ES_BIN:?}; root=${ES_ROOT:-.}
data="$root/tests/data/emsync"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0

# max |a - b| over two float32 files of equal size, via od (no python needed)
maxdiff() {
  [ "$(stat -c %s "$1")" = "$(stat -c %s "$2")" ] || { echo size; return; }
  paste <(od -An -v -t f4 -w4 "$1") <(od -An -v -t f4 -w4 "$2") |
    awk 'BEGIN{m=0} {d=$1-$2; if (d<0) d=-d; if (d>m) m=d; if ($1!=$1 || $2!=$2) m=1e9} END{printf "%.3g\n", m}'
}

check() { # model-file golden-model case tolerance [extra args]
  local out="$tmp/$1.$3.f32"
  if ! "$bin" model-logits --model "$data/$1" --input "$data/tiny-$2.$3.in.txt" --out "$out" --threads 2 "${@:5}" 2>"$tmp/err"; then
    echo "FAIL $1 $3: $(cat "$tmp/err")"; fail=1; return
  fi
  local d; d=$(maxdiff "$out" "$data/tiny-$2.$3.logits.f32")
  echo "$1 $3 ${5:-} max|diff| = $d"
  awk -v d="$d" -v t="$4" 'BEGIN{exit !(d != "size" && d + 0 <= t + 0)}' || { echo "FAIL $1 $3: $d > $4"; fail=1; }
}
for c in short nan-arousal full nan-both; do
  check tiny-a.pt a $c 1e-4
  check tiny-t2.pt t2 $c 1e-4
  check tiny-a-fp16.pt a $c 2e-2
done
check tiny-a.pt a full 2e-3 --f16 -y  # the same output file again: -y replaces it

refuse() { # expected-status description args...
  local want=$1 what=$2; shift 2
  rm -f "$tmp/out.f32"
  "$bin" model-logits "$@" 2>"$tmp/err"; local st=$?
  local lines; lines=$(wc -l <"$tmp/err")
  if [ "$st" != "$want" ] || [ -e "$tmp/out.f32" ] || { [ "$want" = 1 ] && [ "$lines" != 1 ]; }; then
    echo "FAIL refusal '$what': status $st (want $want), $lines error lines, output $( [ -e "$tmp/out.f32" ] && echo left || echo none)"
    cat "$tmp/err"; fail=1
  else
    echo "refused $what: $(head -1 "$tmp/err")"
  fi
}
head -c 300000 "$data/tiny-a.pt" >"$tmp/trunc.pt"
: >"$tmp/empty.pt"
cp "$data/tiny-a.short.in.txt" "$tmp/notzip.pt"
printf '# x\n1010 2 9999\n0 0\n1 1 1\n' >"$tmp/badtok.in.txt"
printf '# x\n1010 2\n0\n1 1\n' >"$tmp/badva.in.txt"
in="$data/tiny-a.short.in.txt"
refuse 1 "truncated checkpoint" --model "$tmp/trunc.pt" --input "$in" --out "$tmp/out.f32"
refuse 1 "empty checkpoint" --model "$tmp/empty.pt" --input "$in" --out "$tmp/out.f32"
refuse 1 "text as checkpoint" --model "$tmp/notzip.pt" --input "$in" --out "$tmp/out.f32"
refuse 1 "missing checkpoint" --model "$tmp/none.pt" --input "$in" --out "$tmp/out.f32"
refuse 1 "token out of range" --model "$data/tiny-a.pt" --input "$tmp/badtok.in.txt" --out "$tmp/out.f32"
refuse 1 "one condition value" --model "$data/tiny-a.pt" --input "$tmp/badva.in.txt" --out "$tmp/out.f32"
refuse 1 "case longer than the context" --model "$data/tiny-t2.pt" --input "$data/tiny-a.full.in.txt" --out "$tmp/out.f32"
refuse 1 "missing case" --model "$data/tiny-a.pt" --input "$tmp/none.in.txt" --out "$tmp/out.f32"
refuse 2 "no --out" --model "$data/tiny-a.pt" --input "$in"
refuse 2 "empty --out" --model "$data/tiny-a.pt" --input "$in" --out ""
refuse 2 "unknown option" --model "$data/tiny-a.pt" --input "$in" --out "$tmp/out.f32" --bogus
echo keep >"$tmp/out.f32"
"$bin" model-logits --model "$data/tiny-a.pt" --input "$in" --out "$tmp/out.f32" 2>"$tmp/err"
if [ $? != 1 ] || [ "$(cat "$tmp/out.f32")" != keep ] || ! grep -q "already exists" "$tmp/err"; then
  echo "FAIL: an existing --out was not refused without -y: $(cat "$tmp/err")"; fail=1
fi
# a copy of the binary with no bundled model beside it
mkdir -p "$tmp/bare/bin" && cp "$bin" "$tmp/bare/bin/emsync"
bin="$tmp/bare/bin/emsync" EMSYNC_MODEL= XDG_DATA_HOME="$tmp" HOME="$tmp" refuse 2 "no model anywhere" --input "$in" --out "$tmp/out.f32"
exit $fail
