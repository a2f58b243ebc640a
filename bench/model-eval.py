#!/usr/bin/env python3
"""The learned composer's targets, measured: 9 moods (valence, arousal in {-0.8, 0, 0.8}) x 2
seeds, 30 s with cuts at 4, 9.5, 15, 21 and 26.5 s, for the learned model (cuts landed, and the
reference's 1 s rule) and the rules composer. Prints markdown tables:
  - chords at cuts: `emsync eval` (a chord = >= 3 pitched onsets within 50 ms) within 1 s and 0.1 s;
  - Spearman rho of requested valence with major-ness and requested arousal with note density;
  - pitch-class entropy and note density inside POP909's own 5-95% range (with --pop909 DIR);
  - longest silence, longest note, longest exactly repeating stretch (from the tokenized MIDI);
  - generated tokens per second of the whole `emsync compose` run (model loading included).
Needs only the Python standard library and the emsync binary.

usage: bench/model-eval.py [--emsync BIN] [--model M.pt] [--pop909 DIR] [--work DIR] [--quick]
                           [--seeds N] [--setups landed,reference,rules] [--args "COMPOSE OPTIONS"]"""
import argparse
import json
import os
import subprocess
import sys
import time

CUTS = [4, 9.5, 15, 21, 26.5]
LEVELS = [-0.8, 0.0, 0.8]
DURATION = 30


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"model-eval: {' '.join(cmd)}: {r.stderr.strip()}")
    return r.stdout


def ranks(xs):
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    r = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(x, y):
    rx, ry = ranks(x), ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    num = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    den = (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5
    return num / den if den else float("nan")


def percentile(xs, q):
    xs = sorted(xs)
    k = (len(xs) - 1) * q
    lo = int(k)
    return xs[lo] + (xs[min(lo + 1, len(xs) - 1)] - xs[lo]) * (k - lo)


def tokenized(emsync, mid, work):
    """emsync's own tokens of a MIDI file, the tick (8 ms) of each, and its notes as
    (start tick, end tick, MIDI pitch, instrument: 0 bass, 1 drums, 2 guitar, 3 piano, 4 strings)."""
    tok = os.path.join(work, "t.tok")
    run([emsync, "tokenize", mid, "-o", tok, "-y", "-q"])
    tokens = [int(t) for t in open(tok).read().split("\n")[1].split()]
    t, times, start, notes = 0, [], {}, []
    for x in tokens:
        if 4 <= x <= 128:
            t += x - 3
        times.append(t)
        if 129 <= x <= 1008:
            group, pitch = divmod(x - 129, 88)
            key = (group // 2, pitch)
            if group % 2:
                start[key] = t
            elif key in start:
                notes.append((start.pop(key), t, pitch + 21, group // 2))
    return tokens, times, notes


def token_figures(emsync, mid, work):
    """Longest silence, longest note and longest exactly repeating stretch, in seconds."""
    tokens, times, notes = tokenized(emsync, mid, work)
    t = times[-1] if times else 0
    notes = sorted((a, b) for a, b, _, _ in notes)
    silence, covered = notes[0][0] if notes else t, 0
    for a, b in notes:
        silence = max(silence, a - covered)
        covered = max(covered, b)
    silence = max(silence, DURATION / 0.008 - covered)
    longest_note = max((b - a for a, b in notes), default=0)
    # a stretch where the tokens repeat with a period of at most 32 tokens
    repeat = 0
    for p in range(1, 33):
        run_start = 0
        for i in range(p, len(tokens)):
            if tokens[i] != tokens[i - p]:
                run_start = i
            elif i - run_start >= 2 * p:
                repeat = max(repeat, times[i] - times[max(run_start - p, 0)])
    return silence * 0.008, longest_note * 0.008, repeat * 0.008


def pop909_range(emsync, corpus, cache):
    if os.path.exists(cache):
        return json.load(open(cache))
    pce, dens = [], []
    for name in sorted(os.listdir(corpus)):
        mid = os.path.join(corpus, name, name + ".mid")
        if os.path.isfile(mid):
            e = json.loads(run([emsync, "eval", mid, "--json", "-"]))
            pce.append(e["pc_entropy"])
            dens.append(e["note_density"])
    rng = dict(songs=len(pce), pc_entropy=[percentile(pce, 0.05), percentile(pce, 0.95)],
               note_density=[percentile(dens, 0.05), percentile(dens, 0.95)])
    json.dump(rng, open(cache, "w"))
    return rng


def measure(emsync, work, name, extra, seeds):
    rows = []
    for v in LEVELS:
        for a in LEVELS:
            for seed in seeds:
                mid = os.path.join(work, f"{name}_v{v:+.1f}_a{a:+.1f}_s{seed}.mid")
                js = mid[:-4] + ".json"
                t0 = time.time()
                run([emsync, "compose", "--duration", str(DURATION), "--valence", str(v), "--arousal", str(a),
                     "--cuts", ",".join(map(str, CUTS)), "--seed", str(seed), "-o", mid, "--json", js, "-y", "-q", *extra])
                wall = time.time() - t0
                e = json.loads(run([emsync, "eval", mid, "--cuts", ",".join(map(str, CUTS)), "--json", "-"]))
                report = json.load(open(js))
                gen = report.get("music", {}).get("generation", {})
                silence, note, repeat = token_figures(emsync, mid, work)
                rows.append(dict(v=v, a=a, seed=seed, hit1=e["hit_rate_1s"], hit01=e["hit_rate_100ms"],
                                 major=e["majorness"], density=e["note_density"], pce=e["pc_entropy"],
                                 silence=silence, note=note, repeat=repeat, wall=wall,
                                 tokens=gen.get("tokens", 0), chord_hits=gen.get("boundaries_hit")))
    return rows


def summary(rows, rng):
    n = len(rows)
    out = dict(
        hit1=sum(r["hit1"] for r in rows) / n, hit01=sum(r["hit01"] for r in rows) / n,
        rho_v=spearman([r["v"] for r in rows], [r["major"] for r in rows]),
        rho_a=spearman([r["a"] for r in rows], [r["density"] for r in rows]),
        silence=max(r["silence"] for r in rows), note=max(r["note"] for r in rows),
        repeat=max(r["repeat"] for r in rows))
    if rng:
        inside = [rng["pc_entropy"][0] <= r["pce"] <= rng["pc_entropy"][1] and
                  rng["note_density"][0] <= r["density"] <= rng["note_density"][1] for r in rows]
        out["inside"] = f"{sum(inside)}/{n}"
    tok = sum(r["tokens"] for r in rows)
    out["tps"] = tok / sum(r["wall"] for r in rows) if tok else None
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--emsync", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "emsync"))
    ap.add_argument("--model", help="learned model (default: the one `--composer auto` finds)")
    ap.add_argument("--pop909", help="POP909 folder, for its 5-95%% range of entropy and density")
    ap.add_argument("--work", default="build/model-eval")
    ap.add_argument("--quick", action="store_true", help="one seed instead of two")
    ap.add_argument("--seeds", type=int, default=2, help="seeds per mood (default 2)")
    ap.add_argument("--setups", default="landed,reference,rules", help="which rows to measure")
    ap.add_argument("--args", default="", help="more `compose` options for the learned rows")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    seeds = [1] if a.quick else list(range(1, a.seeds + 1))
    model = (["--model", a.model] if a.model else []) + a.args.split()
    rng = pop909_range(a.emsync, a.pop909, os.path.join(a.work, "pop909-range.json")) if a.pop909 else None
    setups = [("learned, cuts landed", "landed", ["--composer", "emsync", *model]),
              ("learned, reference 1 s rule", "reference", ["--composer", "emsync", "--reference-boundaries", *model]),
              ("rules composer", "rules", ["--composer", "rules"])]
    setups = [s for s in setups if s[1] in a.setups.split(",")]
    results = {}
    for title, name, extra in setups:
        rows = measure(a.emsync, a.work, name, extra, seeds)
        results[title] = (summary(rows, rng), rows)
    json.dump({k: v[1] for k, v in results.items()}, open(os.path.join(a.work, "pieces.json"), "w"), indent=1)
    print(f"{len(LEVELS) ** 2} moods x {len(seeds)} seeds, {DURATION} s, cuts at {', '.join(map(str, CUTS))} s"
          + (f"; POP909 5-95%: pitch-class entropy {rng['pc_entropy'][0]:.2f}..{rng['pc_entropy'][1]:.2f} bits, "
             f"note density {rng['note_density'][0]:.1f}..{rng['note_density'][1]:.1f} notes/s ({rng['songs']} songs)" if rng else ""))
    print()
    print("| composer | chord at cut ±1 s | ±0.1 s | ρ valence↔major-ness | ρ arousal↔density | entropy and density inside POP909 5–95% | longest silence (s) | longest note (s) | longest exact repeat (s) | tokens/s incl. load |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for title, (s, _) in results.items():
        tps = f"{s['tps']:.0f}" if s["tps"] else "–"
        print(f"| {title} | {s['hit1']:.0%} | {s['hit01']:.0%} | {s['rho_v']:.2f} | {s['rho_a']:.2f} | {s.get('inside', '–')} | "
              f"{s['silence']:.1f} | {s['note']:.1f} | {s['repeat']:.1f} | {tps} |")


if __name__ == "__main__":
    main()
