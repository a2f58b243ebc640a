#!/usr/bin/python3
"""How closely the learned composer follows moods that change scene by scene. Each plan is 60 s
of ten 6 s scenes, every scene's valence and arousal drawn from {-0.8, 0, 0.8}, scored with
`emsync score VIDEO --plan` (faces off, the video only gives the picture); each scene's
pitched notes give its major-ness (Krumhansl-Kessler profiles on the duration-weighted
pitch-class histogram, best major minus best minor correlation) and its note onsets per
second. Prints the Spearman correlation over all scenes of valence with major-ness and of
arousal with density, the cuts landed, and the mean compose time.

usage: bench/scene-eval.py EMSYNC VIDEO WORKDIR [--plans N] [--seed S] [--args "SCORE OPTIONS"]
Only the Python standard library; the model is the one `--composer emsync` finds
($EMSYNC_MODEL, ...)."""
import argparse
import importlib.util
import json
import os
import random
import subprocess

_spec = importlib.util.spec_from_file_location("model_eval", os.path.join(os.path.dirname(__file__), "model-eval.py"))
model_eval = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(model_eval)
spearman = model_eval.spearman

MAJOR = [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88]
MINOR = [6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17]
LEVELS = [-0.8, 0.0, 0.8]
SCENE = 6.0
DRUMS = 1  # instrument order of the EMSYNC vocabulary: bass, drums, guitar, piano, strings


def pearson(a, b):
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    num = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    den = (sum((x - ma) ** 2 for x in a) * sum((y - mb) ** 2 for y in b)) ** 0.5
    return num / den if den else 0.0


def majorness(hist):
    if not any(hist):
        return 0.0
    best = lambda profile: max(pearson(hist, profile[-k:] + profile[:-k]) for k in range(12))
    return best(MAJOR) - best(MINOR)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("emsync")
    ap.add_argument("video")
    ap.add_argument("work")
    ap.add_argument("--plans", type=int, default=40)
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--args", default="", help="more `score` options")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    rng = random.Random(a.seed)
    valence, arousal, major, density = [], [], [], []
    hits = cuts_total = 0
    compose = 0.0
    for p in range(a.plans):
        cuts = [SCENE * i for i in range(1, 10)]
        scenes = [{"start": 0 if i == 0 else cuts[i - 1], "valence": rng.choice(LEVELS), "arousal": rng.choice(LEVELS)}
                  for i in range(10)]
        plan = os.path.join(a.work, "plan.json")
        with open(plan, "w") as f:
            json.dump({"boundaries": cuts, "scenes": scenes, "composer": "emsync", "seed": 1000 * a.seed + p}, f)
        mid, report = os.path.join(a.work, "scene.mid"), os.path.join(a.work, "scene.json")
        subprocess.run([a.emsync, "score", a.video, "--plan", plan, "-o", os.path.join(a.work, "scene.mp4"),
                        "--midi", mid, "--json", report, "-y", "-q", "--faces", "off"] + a.args.split(), check=True)
        with open(report) as f:
            r = json.load(f)
        hits += r["music"]["generation"]["boundaries_hit"]
        cuts_total += len(cuts)
        compose += r["timings"]["compose"]
        notes = [(a0 * 0.008, b0 * 0.008, pitch, inst) for a0, b0, pitch, inst in model_eval.tokenized(a.emsync, mid, a.work)[2]]
        for s in scenes:
            lo, hi = s["start"], s["start"] + SCENE
            hist, onsets = [0.0] * 12, 0
            for start, end, pitch, instrument in notes:
                if instrument == DRUMS:
                    continue
                onsets += lo <= start < hi
                overlap = min(end, hi) - max(start, lo)
                if overlap > 0:
                    hist[pitch % 12] += overlap
            valence.append(s["valence"])
            arousal.append(s["arousal"])
            major.append(majorness(hist))
            density.append(onsets / SCENE)
    print("| scenes | ρ valence↔major-ness | ρ arousal↔density | cuts with a chord | compose, s (mean) |")
    print("|---:|---:|---:|---:|---:|")
    print(f"| {len(valence)} | {spearman(valence, major):.3f} | {spearman(arousal, density):.3f} | "
          f"{hits}/{cuts_total} | {compose / a.plans:.3f} |")


if __name__ == "__main__":
    main()
