# The training path on a tiny config: prepare a four-song corpus in POP909's layout (made here
# with the rules composer), train a few steps, check the trainer's logits against the C
# engine's, exact resume, Ctrl-C leaving a good checkpoint, float16 export, and a checkpoint
# with a wrong shape refused with its key named.
. "$(dirname "$0")/../cli-lib.sh"
cd "$scratch"
# the distribution's Python, which has python3-torch, even where another python3 comes first
py=""
for c in python3 /usr/bin/python3; do "$c" -c "import torch" 2>/dev/null && { py=$c; break; }; done
[ -n "$py" ] || { echo "python3 with torch is needed (scripts/install-deps.sh installs python3-torch)" >&2; exit 1; }
train="$ES_ROOT/train"
tiny=(--d-model 32 --layers 1 --heads 2 --d-ff 32 --context 48 --batch 2 --eval-batches 1 --threads 1)

moods=("0.8 0.6" "-0.7 -0.5" "0.2 -0.8" "-0.4 0.9")
for i in 1 2 3 4; do
  d=corpus/00$i; mkdir -p "$d"
  set -- ${moods[$((i - 1))]}
  "$ES_BIN" compose --duration 16 --valence "$1" --arousal "$2" --cuts 4,8,12 --seed $i --composer rules -o "$d/00$i.mid" -q ||
    fail "compose $i failed"
  for t in 0 4 8 12; do echo "$t $((t + 4)) $([ $((i % 2)) = 1 ] && echo C:maj || echo A:min)"; done > "$d/chord_midi.txt"
  for b in $(seq 0 31); do echo "$(echo "$b * 0.5" | bc) 1 $([ $((b % 4)) = 0 ] && echo 1 || echo 0)"; done > "$d/beat_midi.txt"
  echo "0 16 $([ $((i % 2)) = 1 ] && echo C:maj || echo A:min)" > "$d/key_audio.txt"
done

$py "$train/prepare.py" corpus -o data.pt --emsync "$ES_BIN" --jobs 2 2>prep.log || fail "prepare failed: $(tail -3 prep.log)"
$py - <<'PY' || fail "prepared data"
import torch
d = torch.load("data.pt")
m = d["meta"]
assert m["songs"] == 4 and m["train"] == 3 and m["test"] == 1, m
songs = d["train"] + d["test"]
assert all(-1 <= s["valence"] <= 1 and -1 <= s["arousal"] <= 1 for s in songs)
# the scale spans the training songs: one sits at -1 and one at +1 on each label
for k in ("valence", "arousal"):
    v = sorted(s[k] for s in d["train"])
    assert abs(v[0] + 1) < 1e-6 and abs(v[-1] - 1) < 1e-6, (k, v)
# major songs (odd) read happier than minor ones
val = {s["name"]: s["valence"] for s in songs}
assert min(val["001"], val["003"]) > max(val["002"], val["004"]), val
assert all(3 in s["tokens"].tolist() and 2 in s["tokens"].tolist() for s in songs)  # <CHORD> and <BAR>
# the key's mode, which window labels use: the odd songs are annotated in C major
assert [s["mode"] for s in sorted(songs, key=lambda s: s["name"])] == [1, -1, 1, -1], [s["mode"] for s in songs]
PY

# window labels: major-ness as `emsync eval` measures it (a second route, from the MIDI file),
# and the orderings the rules composer was asked for
for i in 1 2 3 4; do "$ES_BIN" eval corpus/00$i/00$i.mid --json - -q > eval$i.json || fail "eval $i"; done
$py - "$train" <<'PY' || fail "window labels"
import json, sys, torch
sys.path.insert(0, sys.argv[1])
import labels
d = torch.load("data.pt")
songs = {s["name"]: s for s in d["train"] + d["test"]}
for i in range(1, 5):
    m, _ = labels.raw(songs[f"00{i}"]["tokens"].tolist())
    want = json.load(open(f"eval{i}.json"))["majorness"]
    assert abs(m - want) < 0.02, (i, m, want)
c_major = [3, 0, 1, 0, 2, 1, 0, 2.5, 0, 1, 0, 1]   # C, E, G stressed over the C major scale
a_minor = [2, 0, 1, 0, 2.5, 1, 0, 1, 0, 3, 0, 1]   # A, C, E stressed over the same notes
assert labels.majorness(c_major) > 0.2 and labels.majorness(a_minor) < -0.2
assert labels.majorness([0] * 12) == 0.0
scale = labels.fit(list(songs.values()), 45, count=200)
lab = {n: labels.label(s["tokens"].tolist(), s["mode"], scale) for n, s in songs.items()}
assert all(-1 <= v <= 1 and -1 <= a <= 1 for v, a in lab.values()), lab
assert lab["001"][0] > lab["002"][0] and lab["003"][0] > lab["004"][0], lab   # valence 0.8 > -0.7, 0.2 > -0.4
assert lab["004"][1] > lab["003"][1] and lab["001"][1] > lab["002"][1], lab   # arousal 0.9 > -0.8, 0.6 > -0.5
PY

$py "$train/train.py" data.pt -o run "${tiny[@]}" --labels window --steps 6 --save-every 2 --eval-every 3 2>train.log || fail "train failed: $(tail -3 train.log)"
check "progress shows loss, tokens/s and ETA" grep -Eq "step 6/6 +loss [0-9.]+ .*tokens/s +ETA" train.log
check "held-out loss in bits per token" grep -q "held-out .* bits/token" train.log
check "--labels window labels windows from their own notes" grep -q "window label scale" train.log
$py -c "import torch; s = torch.load('run/last.pt')['label_scale']; assert set(s) == {'majorness', 'density'}" ||
  fail "last.pt keeps the label scale"
check "log has 6 steps" [ "$(wc -l < run/log.jsonl)" = 6 ]
"$ES_BIN" model-info --model run/model.pt --json > info.json || fail "the engine does not load the trainer's file"
check "engine reads the trainer's shapes" [ "$(jq -c '[.layers, .d_model, .heads, .d_ff, .context]' info.json)" = "[1,32,2,32,48]" ]
"$ES_BIN" tokenize corpus/001/001.mid --chords corpus/001/chord_midi.txt -o case.tok -q || fail "tokenize failed"
$py "$train/crosscheck.py" run/model.pt case.tok --emsync "$ES_BIN" > cross.txt || fail "trainer and engine disagree: $(cat cross.txt)"
$py "$train/export.py" run/model.pt half.pt > /dev/null || fail "export failed"
$py "$train/crosscheck.py" half.pt case.tok --emsync "$ES_BIN" > cross16.txt || fail "float16 export: trainer and engine disagree: $(cat cross16.txt)"
check "float16 file is smaller" [ "$(stat -c %s half.pt)" -lt "$(stat -c %s run/model.pt)" ]

# resume: 3 steps, stop, 3 more == 6 straight
$py "$train/train.py" data.pt -o resumed "${tiny[@]}" --labels window --steps 6 --save-every 2 --eval-every 3 --stop-after 3 2>/dev/null || fail "first half failed"
$py "$train/train.py" data.pt -o resumed "${tiny[@]}" --labels window --steps 6 --save-every 2 --eval-every 3 --resume 2>resume.log || fail "resume failed"
check "says it resumed" grep -q "resumed at step 3" resume.log
$py - <<'PY' || fail "a resumed run differs from an uninterrupted one"
import torch
a, b = torch.load("run/model.pt"), torch.load("resumed/model.pt")
assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
PY

# Ctrl-C: exit 130, the last checkpoint loads and resumes
$py "$train/train.py" data.pt -o stopped "${tiny[@]}" --steps 100000 --save-every 1 --eval-every 1000 2>stop.log &
pid=$!
for _ in $(seq 600); do [ -f stopped/model.pt ] && break; sleep 0.1; done
kill -INT $pid
rc=0; wait $pid || rc=$?
check "Ctrl-C exits 130" [ "$rc" = 130 ]
check "says where it saved" grep -q "interrupted at step" stop.log
"$ES_BIN" model-info --model stopped/model.pt >/dev/null || fail "the model left by Ctrl-C does not load"
$py -c "import torch; c = torch.load('stopped/last.pt'); assert c['step'] >= 1" || fail "last.pt after Ctrl-C"
check "no temporary files left" [ -z "$(ls stopped | grep tmp)" ]

# a checkpoint whose shapes do not fit is refused with the key named
$py -c "
import torch
sd = torch.load('run/model.pt'); sd['enc_layers.0.FFN_pre.bias'] = sd['enc_layers.0.FFN_pre.bias'][:5]
torch.save(sd, 'bad.pt')"
expect_error 1 "FFN_pre.bias.* shape" -- model-info --model "$scratch/bad.pt"
finish
