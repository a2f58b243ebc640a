#!/usr/bin/env bash
# A batch as a Slurm job array on a real one-node Slurm cluster (Debian's slurmctld, slurmd,
# munge), started here and stopped on exit: scripts/slurm/emsync-batch.sbatch runs 3 array tasks
# over a 6-row manifest; each task scores its 2 rows (rows I and I+3) and writes its summary, and
# scripts/slurm/collect.sh merges them. Everything of the cluster lives in the scratch folder:
# its own munge key and socket, its own ports, state, spool, logs and pid files, so it neither
# needs nor disturbs a munge or Slurm already running on the machine. scripts/install-deps.sh
# installs the packages, so a missing one is a failure.
set -euo pipefail
. "$(dirname "$0")/../cli-lib.sh"
root=${ES_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
d=$ES_TEST_DATA
# the jobs run in another folder
es_bin=$(cd "$(dirname "$ES_BIN")" && pwd)/$(basename "$ES_BIN")

# the daemons are in /usr/sbin, which a user's PATH may lack
PATH=$PATH:/usr/sbin:/sbin
for tool in munged mungekey slurmctld slurmd sbatch sinfo squeue scancel; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    fail "$tool is not installed: the Debian packages munge, slurmctld, slurmd and slurm-client are needed (scripts/install-deps.sh installs them)"
    finish
  fi
done
# The cluster runs as the user running the test: as root, slurmd may start anyone's jobs; as
# another user it can start only that user's, which is all this test submits.
user=$(id -un)

c=$scratch/cluster
conf=$c/slurm.conf
export SLURM_CONF=$conf
pids=()  # munged, slurmctld, slurmd: stopped in reverse order
helper=""  # a running sbatch --wait

# stop PID: SIGTERM, up to 10 s to end, then SIGKILL; reaps it
stop() {
  local pid=$1
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

# Our job steps (slurmstepd and what it runs) carry SLURM_CONF=$conf in their environment: any
# still alive once the daemons are gone is killed, so that nothing of this test outlives it.
leftovers() {
  local p
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = $$ ] && continue
    if tr '\0' '\n' 2>/dev/null <"$p/environ" | grep -qxF "SLURM_CONF=$conf"; then echo "${p#/proc/}"; fi
  done
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM HUP
  [ -z "$helper" ] || stop "$helper"
  if [ -S "$c/munge.sock" ] && [ "${#pids[@]}" -ge 2 ]; then
    # cancel what is still queued or running, while the controller is there to do it
    local jobs; jobs=$(timeout 5 squeue -h -o %A 2>/dev/null)
    if [ -n "$jobs" ]; then
      timeout 5 scancel $jobs 2>/dev/null
      for _ in $(seq 1 50); do
        [ -z "$(timeout 5 squeue -h -o %A 2>/dev/null)" ] && break
        sleep 0.2
      done
    fi
  fi
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop "${pids[i]}"; done
  local left; left=$(leftovers)
  if [ -n "$left" ]; then
    echo "slurm.sh: killing what the jobs left running: $(echo $left)" >&2
    kill -KILL $left 2>/dev/null
  fi
  rm -rf "$scratch"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

dump_logs() {
  local f
  # a daemon copies its log to its standard output, where it also says why it could not start
  for f in "$c"/munged.out "$c"/slurmctld.out "$c"/slurmd.out "$scratch"/work/logs/*.log; do
    case $f in */slurm*.out) [ -s "${f%.out}.log" ] && f=${f%.out}.log ;; esac
    [ -s "$f" ] && { echo "---- $(basename "$f") (last lines)"; tail -n 25 "$f"; }
  done >&2
  return 0
}
# give_up MESSAGE: a failure that ends the test, with the daemons' logs
give_up() { fail "$*"; dump_logs; finish; }

# ---- munge: own key, socket, pid, log and seed files. Each daemon runs in a session of its own,
# so that a Ctrl-C reaches only this script, whose trap stops the jobs first, then the daemons.
# (setsid execs without forking, as a script's background job leads no process group: $! is the
# daemon.)
mkdir -p "$c"
# munged wants every folder above its socket searchable by everyone
chmod 711 "$scratch" "$c"
mungekey --create --keyfile="$c/munge.key" --bits=1024
setsid munged --foreground --socket="$c/munge.sock" --key-file="$c/munge.key" --pid-file="$c/munged.pid" \
  --log-file="$c/munged.log" --seed-file="$c/munged.seed" 2>"$c/munged.out" &
pids+=($!)
for _ in $(seq 1 100); do
  [ -S "$c/munge.sock" ] && break
  kill -0 "${pids[0]}" 2>/dev/null || break
  sleep 0.1
done
[ -S "$c/munge.sock" ] || give_up "munged did not start"

# ---- slurm.conf: two free TCP ports, this host as controller and only node
# two ports below the usual ephemeral range that no TCP socket uses now
ports=()
while [ "${#ports[@]}" -lt 2 ]; do
  p=$((20000 + RANDOM % 12000))
  grep -qs ":$(printf %04X "$p") " /proc/net/tcp /proc/net/tcp6 && continue
  [ "${ports[0]:-}" != "$p" ] && ports+=("$p")
done
ctld_port=${ports[0]} slurmd_port=${ports[1]}
host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$c/state" "$c/spool"
: >"$c/plugstack.conf"  # no SPANK plugins (not those of /etc/slurm)
cat >"$conf" <<EOF
ClusterName=emsynctest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$c/munge.sock
StateSaveLocation=$c/state
SlurmdSpoolDir=$c/spool
SlurmctldPidFile=$c/slurmctld.pid
SlurmdPidFile=$c/slurmd.pid
SlurmctldLogFile=$c/slurmctld.log
SlurmdLogFile=$c/slurmd.log
PlugStackConfig=$c/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
KillWait=2
# quick turns: schedule a submitted or freed job at once, and keep finished jobs 4 s only, so that
# sbatch --wait asks every 2 s (it waits longer between asks when jobs are kept longer)
SchedulerParameters=batch_sched_delay=0
MinJobAge=4
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=500 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

# ---- the daemons, in the foreground of their own background jobs, so that $! is theirs
setsid slurmctld -D -f "$conf" >"$c/slurmctld.out" 2>&1 &
pids+=($!)
setsid slurmd -D -f "$conf" -N "$host" >"$c/slurmd.out" 2>&1 &
pids+=($!)
state=""
for _ in $(seq 1 300); do  # up to 30 s
  state=$(timeout 5 sinfo -h -n "$host" -o %T 2>/dev/null || true)
  [ "$state" = idle ] && break
  kill -0 "${pids[1]}" 2>/dev/null || give_up "slurmctld exited: $(tail -n 5 "$c/slurmctld.out")"
  kill -0 "${pids[2]}" 2>/dev/null || give_up "slurmd exited: $(tail -n 5 "$c/slurmd.out")"
  sleep 0.1
done
[ "$state" = idle ] || give_up "the node is not idle after 30 s (state: '${state:-none}')"

# ---- the batch: 6 rows (CSV, paths relative to the manifest's folder, a score option per row),
# 3 array tasks of 1 CPU each, submitted from another folder (where the logs go)
w=$scratch/work
mkdir -p "$w/clips" "$w/logs"
{
  echo "input,output,seed"
  for k in 1 2 3 4 5 6; do
    ln -s "$d/short.mp4" "$w/clips/clip$k.mp4"
    echo "clips/clip$k.mp4,out/clip$k.mp4,$k"
  done
} >"$w/manifest.csv"
out=$w/out

# submit: sbatch --wait for the whole array, in the background so that a signal reaches the trap
# at once; sets job and rc. The settings travel in the environment (--export=ALL): naming them
# in --export (ALL,MANIFEST=...) works too, but makes slurmd load the user's login environment
# with `su -` for every task, which costs seconds.
submit() {
  rc=0
  (cd "$w/logs" && MANIFEST=$w/manifest.csv OUTDIR=$out EMSYNC=$es_bin EMSYNC_ARGS="--composer rules --faces off" \
    exec timeout 90 sbatch --wait --parsable --array=0-2 --cpus-per-task=1 --export=ALL \
    "$root/scripts/slurm/emsync-batch.sbatch") >"$scratch/sbatch.out" 2>&1 &
  helper=$!
  wait "$helper" || rc=$?
  helper=""
  job=$(grep -Eo '^[0-9]+' "$scratch/sbatch.out" | head -n 1 || true)
  [ "$rc" -ne 124 ] || give_up "the job array did not finish in 90 s: $(timeout 5 squeue 2>&1)"
}

submit
check "sbatch --wait: every task exited 0 (status $rc: $(cat "$scratch/sbatch.out"))" [ "$rc" -eq 0 ]
check "a job id ($(cat "$scratch/sbatch.out"))" [ -n "$job" ]
for t in 0 1 2; do
  log=$w/logs/emsync-${job}_$t.log
  check "task $t wrote its log $(basename "$log")" [ -s "$log" ]
  check "task $t ran shard $t/3" grep -q "shard $t/3 " "$log"
done

videos=$(find "$out" -maxdepth 1 -name 'clip*.mp4' 2>/dev/null | wc -l || true)
check "6 videos in OUTDIR (found $videos: $(ls "$out"))" [ "$videos" -eq 6 ]
for k in 1 2 3 4 5 6; do
  check "clip$k.mp4 has a video and an audio stream" [ "$(ffprobe -v error -show_entries stream=codec_type -of csv=p=0 "$out/clip$k.mp4" 2>/dev/null | sort | tr '\n' ' ')" = "audio video " ]
done
summaries=("$out"/summary/shard-{0,1,2}-of-3.jsonl)
for t in 0 1 2; do
  f=${summaries[t]}
  if [ ! -s "$f" ]; then fail "task $t wrote no summary $f"; continue; fi
  # task I takes the rows with 0-based index I and I+3: manifest lines I+2 and I+5 (after the header)
  check "task $t took 2 rows, lines $((t + 2)) and $((t + 5)) ($(jq -c '[.line, .status]' "$f" | tr '\n' ' '))" \
    [ "$(jq -s -c '[.[].line]' "$f")" = "[$((t + 2)),$((t + 5))]" ]
done
check "6 summary lines, all ok ($(cat "${summaries[@]}" 2>/dev/null | jq -r .status | sort | uniq -c | tr '\n' ' '))" \
  [ "$(cat "${summaries[@]}" 2>/dev/null | jq -r 'select(.status == "ok") | .input | sub(".*/"; "")' | sort | tr '\n' ' ')" = "clip1.mp4 clip2.mp4 clip3.mp4 clip4.mp4 clip5.mp4 clip6.mp4 " ]
rc=0
"$root/scripts/slurm/collect.sh" "$out" >"$scratch/collect.out" 2>&1 || rc=$?
check "collect.sh exits 0 ($rc: $(cat "$scratch/collect.out"))" [ "$rc" -eq 0 ]
check "collect.sh counts 6 ok" grep -qx "ok	6" "$scratch/collect.out"
check "collect.sh merged 6 rows in manifest order" \
  [ "$(jq -s -c '[.[].line]' "$out/summary.jsonl" 2>/dev/null)" = "[2,3,4,5,6,7]" ]
# the rerun below needs a good first run
[ "$fails" -eq 0 ] || { dump_logs; finish; }

# the same array again: every output exists, so every row is skipped and nothing is rewritten
before=$(stat -c '%i %Y' "$out"/clip*.mp4 | tr '\n' ' ' || true)
submit
check "rerun: every task exited 0 (status $rc: $(cat "$scratch/sbatch.out"))" [ "$rc" -eq 0 ]
check "rerun: 6 rows skipped ($(cat "${summaries[@]}" 2>/dev/null | jq -r .status | tr '\n' ' '))" \
  [ "$(cat "${summaries[@]}" 2>/dev/null | jq -r 'select(.status == "skipped") | .input' | wc -l)" -eq 6 ]
check "rerun: the videos were not written again" [ "$(stat -c '%i %Y' "$out"/clip*.mp4 | tr '\n' ' ')" = "$before" ]
"$root/scripts/slurm/collect.sh" "$out" >"$scratch/collect.out" 2>&1 || fail "collect.sh after the rerun: $(cat "$scratch/collect.out")"
check "collect.sh counts 6 skipped after the rerun" grep -qx "skipped	6" "$scratch/collect.out"

[ "$fails" -eq 0 ] || dump_logs
finish
