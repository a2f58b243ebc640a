#!/usr/bin/env python3
"""Prepares POP909 for the EMSYNC trainer: tokenizes every song with `emsync tokenize` (the one
implementation of the vocabulary), derives the labels, splits off the held-out songs and saves
one file of tensors. The corpus folder is an argument; nothing here is committed.

Instruments (POP909 has three piano tracks; EMSYNC has five instruments):
  MELODY -> strings (the lead voice; in LPD-5, EMSYNC's data, leads and ensembles are 'strings')
  BRIDGE -> guitar  (the secondary melody / counterline)
  PIANO  -> piano, except the lowest note of each strike below E3 (MIDI 52) -> bass
Chords: chord_midi.txt segments of at least 2 beats (beat_midi.txt) give <CHORD>; downbeats <BAR>.
Song labels (midi-emotion's definitions where the data allows; the trainer by default labels each
window from its own notes instead, see labels.py, and uses the key mode stored here):
  arousal = note density per instrument = (notes / seconds) / instruments that play;
  valence = 0.5 * mode of the annotated key (major +1, minor -1, the key that lasts longest)
          + 0.5 * chord major-ness ((major-chord time - minor-chord time) / their sum);
  each clipped to the training songs' [Q1 - 1.5 IQR, Q3 + 1.5 IQR], then min-max scaled to [-1, 1]
  with the training songs' range (the held-out songs take the same scale, clipped to [-1, 1]).
Split: the last 5% of songs by name are held out (as midi-emotion does)."""
import argparse
import concurrent.futures as cf
import json
import os
import subprocess
import sys
import tempfile

import torch

TRACKS = ["--track", "MELODY=strings", "--track", "BRIDGE=guitar", "--track", "PIANO=piano", "--bass-below", "52"]
MAJOR = ("maj", "7", "9", "11", "13", "aug", "sus")   # Harte qualities read as major-ish
MINOR = ("min", "dim", "hdim")                        # ... and minor-ish
NOTES = range(129, 1009)


def tokenize(emsync, song_dir, name, tmp):
    out = os.path.join(tmp, name + ".tok")
    cmd = [emsync, "tokenize", os.path.join(song_dir, name + ".mid"), "-o", out, "-y", "-q", *TRACKS]
    for flag, fname in (("--chords", "chord_midi.txt"), ("--beats", "beat_midi.txt")):
        if os.path.exists(os.path.join(song_dir, fname)):
            cmd += [flag, os.path.join(song_dir, fname)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        return name, None, r.stderr.strip()
    with open(out) as f:
        lines = f.read().split("\n")
    os.unlink(out)
    tokens = [int(x) for x in lines[1].split()]
    deltas = [round(float(x) / 0.008) for x in lines[3].split()]
    return name, (tokens, deltas), None


def arousal_raw(tokens):
    notes = [0] * 5
    ticks = 0
    for t in tokens:
        if 4 <= t <= 128:
            ticks += t - 3
        elif 129 <= t <= 1008 and ((t - 129) // 88) % 2 == 1:
            notes[(t - 129) // 176] += 1
    seconds = max(ticks * 0.008, 1.0)
    playing = sum(1 for n in notes if n)
    return sum(notes) / seconds / max(playing, 1)


def key_mode(song_dir):
    """+1 when the key that lasts longest in key_audio.txt is major, -1 when minor, 0 unknown."""
    mode = 0.0
    try:
        spans = {}
        with open(os.path.join(song_dir, "key_audio.txt")) as f:
            for line in f:
                w = line.split()
                if len(w) >= 3:
                    spans[w[2]] = spans.get(w[2], 0.0) + float(w[1]) - float(w[0])
        if spans:
            key = max(spans, key=spans.get)
            mode = -1.0 if key.endswith("min") else 1.0
    except OSError:
        pass
    return mode


def valence_raw(song_dir):
    mode = key_mode(song_dir)
    major = minor = 0.0
    try:
        with open(os.path.join(song_dir, "chord_midi.txt")) as f:
            for line in f:
                w = line.split()
                if len(w) < 3 or ":" not in w[2]:
                    continue
                quality = w[2].split(":", 1)[1].split("/")[0]
                length = float(w[1]) - float(w[0])
                if quality.startswith(MINOR):
                    minor += length
                elif quality.startswith(MAJOR):
                    major += length
    except OSError:
        pass
    chordness = (major - minor) / (major + minor) if major + minor > 0 else 0.0
    return 0.5 * mode + 0.5 * chordness


def scale(values, train_values):
    q1, q3 = torch.quantile(torch.tensor(train_values), torch.tensor([0.25, 0.75])).tolist()
    lo, hi = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    clipped = [min(max(v, lo), hi) for v in train_values]
    mn, mx = min(clipped), max(clipped)
    scaled = [2 * (min(max(v, lo), hi) - mn) / (mx - mn) - 1 if mx > mn else 0.0 for v in values]
    return [min(max(v, -1.0), 1.0) for v in scaled], dict(clip=[lo, hi], minmax=[mn, mx])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpus", help="POP909 folder (001/ ... 909/, each with NNN.mid and annotations)")
    ap.add_argument("-o", "--output", required=True, help="prepared data file to write (.pt)")
    ap.add_argument("--emsync", default="./emsync", help="the emsync binary (default ./emsync)")
    ap.add_argument("--holdout", type=float, default=0.05, help="fraction of songs held out (default 0.05)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count(), help="parallel tokenizers")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N songs (tests)")
    a = ap.parse_args()
    names = sorted(d for d in os.listdir(a.corpus) if os.path.isfile(os.path.join(a.corpus, d, d + ".mid")))
    if a.limit:
        names = names[:a.limit]
    if len(names) < 2:
        sys.exit(f"prepare: {a.corpus}: fewer than 2 songs (expected folders NNN/NNN.mid)")
    songs, failed = {}, []
    with tempfile.TemporaryDirectory() as tmp, cf.ThreadPoolExecutor(a.jobs) as pool:
        jobs = [pool.submit(tokenize, a.emsync, os.path.join(a.corpus, n), n, tmp) for n in names]
        for k, job in enumerate(cf.as_completed(jobs)):
            name, seq, err = job.result()
            if seq is None:
                failed.append((name, err))
            else:
                songs[name] = seq
            if (k + 1) % 100 == 0:
                print(f"prepare: {k + 1}/{len(names)} songs tokenized", file=sys.stderr, flush=True)
    for name, err in failed:
        print(f"prepare: skipped {name}: {err}", file=sys.stderr)
    names = [n for n in names if n in songs]
    n_test = max(1, round(a.holdout * len(names)))
    train_names, test_names = names[:-n_test], names[-n_test:]
    raw_a = {n: arousal_raw(songs[n][0]) for n in names}
    raw_v = {n: valence_raw(os.path.join(a.corpus, n)) for n in names}
    ar, ar_scale = scale([raw_a[n] for n in names], [raw_a[n] for n in train_names])
    va, va_scale = scale([raw_v[n] for n in names], [raw_v[n] for n in train_names])
    labels = {n: (va[i], ar[i]) for i, n in enumerate(names)}

    def pack(subset):
        return [dict(name=n, tokens=torch.tensor(songs[n][0], dtype=torch.int16),
                     deltas=torch.tensor(songs[n][1], dtype=torch.int16),
                     valence=labels[n][0], arousal=labels[n][1], mode=key_mode(os.path.join(a.corpus, n)),
                     raw_valence=raw_v[n], raw_arousal=raw_a[n]) for n in subset]

    meta = dict(corpus=os.path.basename(os.path.normpath(a.corpus)), songs=len(names), skipped=len(failed),
                train=len(train_names), test=len(test_names),
                tokens_train=sum(len(songs[n][0]) for n in train_names),
                tokens_test=sum(len(songs[n][0]) for n in test_names),
                arousal_scale=ar_scale, valence_scale=va_scale, tokenize_flags=TRACKS)
    tmp_out = a.output + ".tmp"
    torch.save(dict(meta=meta, train=pack(train_names), test=pack(test_names)), tmp_out)
    os.replace(tmp_out, a.output)
    print("prepare: " + json.dumps(meta), file=sys.stderr)


if __name__ == "__main__":
    main()
