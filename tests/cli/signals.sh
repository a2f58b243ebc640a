# Ctrl-C (SIGINT) and SIGTERM during a long `emsync score`: the process dies of the signal and
# leaves nothing in the output folder -- no temporary file (".NAME.tmp-XXXXXX.ext") and none of
# the outputs -- whether the signal comes before any file exists (decoding), while every output
# is being written (the mux: all temporary files exist then; the test checks that they did), or
# just after the video is done while the side files are written (then the run may also win the
# race and finish: all outputs complete is the only other acceptable end).
. "$(dirname "$0")/../cli-lib.sh"
d=$ES_TEST_DATA
set -m  # background jobs keep SIGINT (without job control the shell would ignore it for them)

# interrupt SIGNAL STAGE WANT [SCORE OPTIONS]: starts a run in a fresh folder, sends SIGNAL once
# stderr shows STAGE. The rules composer keeps the later stages quick under the sanitizers; one
# run interrupts the learned model while it composes.
interrupt() {
  local sig=$1 stage=$2 want=$3; shift 3
  # a signal ignored when this test started (nohup; INT for a job started with & by a script)
  # stays ignored in the run, and emsync leaves it so, as every program should
  if (( 0x$(awk '/^SigIgn:/ {print $2}' /proc/self/status) >> ($(kill -l "$sig") - 1) & 1 )); then want=ignored; fi
  local dir; dir=$(mktemp -d "$scratch/sig.XXXXXX")
  (cd "$dir" && exec "$ES_BIN" score "$d/long.mp4" --faces off -o out.mp4 --wav out.wav --json out.json --svg out.svg \
      "$@" 2>"$scratch/err") &
  local pid=$! seen=""
  for _ in $(seq 1 1500); do  # up to 30 s
    if grep -q "^emsync: $stage" "$scratch/err" 2>/dev/null; then seen=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
  done
  local before; before=$(ls -A "$dir" | tr '\n' ' ')
  kill -"$sig" "$pid" 2>/dev/null
  local rc=0; wait "$pid" || rc=$?
  [ -n "$seen" ] || fail "$sig at $stage: the stage never showed ($(tr '\n' ' ' <"$scratch/err"))"
  # Past the last rename the outputs are complete: the run may exit 0, or the signal may still
  # end it during teardown; either way every output is whole and nothing temporary remains.
  if [ "$want" = either ] && [ "$(ls -A "$dir" | tr '\n' ' ')" = "out.json out.mid out.mp4 out.svg out.wav " ]; then
    check "$sig at $stage: finished with every output (status $rc)" \
      test "$rc" -eq 0 -o "$rc" -eq $((128 + $(kill -l "$sig")))
    check "$sig at $stage: the finished video is whole" ffprobe -v error "$dir/out.mp4"
    return
  fi
  if [ "$want" = ignored ]; then
    check "$sig at $stage: ignored as the caller asked, the run finished (status $rc)" [ "$rc" -eq 0 ]
    check "$sig at $stage: every output in place ($(ls -A "$dir" | tr '\n' ' '))" \
      [ "$(ls -A "$dir" | tr '\n' ' ')" = "out.json out.mid out.mp4 out.svg out.wav " ]
    return
  fi
  [ "$want" = either ] && want=$((128 + $(kill -l "$sig")))
  check "$sig at $stage: exit by the signal (status $rc, want $want)" [ "$rc" -eq "$want" ]
  check "$sig at $stage: nothing left (was: $before; now: $(ls -A "$dir" | tr '\n' ' '))" [ -z "$(ls -A "$dir")" ]
  if [ "$stage" = "mux\.\.\." ]; then
    # the run was caught with its outputs in flight: temporary files only, no finished output
    check "$sig at $stage: temporary files existed ($before)" grep -q '\.tmp-' <<<"$before"
    check "$sig at $stage: no output was in place yet ($before)" not grep -Eq '(^| )out\.' <<<"$before"
  fi
}
interrupt INT 'decode\.\.\.' 130 --composer rules
interrupt INT 'compose 25%' 130 --composer auto
interrupt INT 'mux\.\.\.' 130 --composer rules
interrupt TERM 'mux\.\.\.' 143 --composer rules
interrupt HUP 'mux\.\.\.' 129 --composer rules
interrupt TERM 'mux done' either --composer rules
finish
