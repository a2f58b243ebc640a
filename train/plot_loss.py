#!/usr/bin/env python3
"""Draws the training curve of a run as SVG: training loss (moving average over 50 steps,
chord-weighted as the optimiser saw it) and held-out loss, both in bits per token, with an optional
horizontal line for a baseline. Standard library only."""
import argparse
import json
import math


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("log", help="OUT/log.jsonl written by train.py")
    ap.add_argument("svg", help="file to write")
    ap.add_argument("--baseline", type=float, help="bigram baseline, bits per token")
    a = ap.parse_args()
    rows = [json.loads(line) for line in open(a.log)]
    steps = [r["step"] for r in rows]
    train, avg = [], []
    for r in rows:
        avg.append(r["loss"])
        avg = avg[-50:]
        train.append(sum(avg) / len(avg) / math.log(2))
    val = [(r["step"], r["val_bits_per_token"]) for r in rows if "val_bits_per_token" in r]
    W, H, L, R, T, B = 640, 360, 56, 20, 20, 44
    xmax = max(steps)
    ymax = max(max(train[10:] or train), max(v for _, v in val), a.baseline or 0) * 1.05
    x = lambda s: L + (W - L - R) * s / xmax
    y = lambda v: T + (H - T - B) * (1 - v / ymax)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>']
    for k in range(0, int(ymax) + 1):
        out.append(f'<line x1="{L}" x2="{W - R}" y1="{y(k):.1f}" y2="{y(k):.1f}" stroke="#ddd"/>'
                   f'<text x="{L - 6}" y="{y(k) + 4:.1f}" text-anchor="end">{k}</text>')
    tick = next((t for t in (10, 20, 50, 100, 200, 250, 500, 1000, 2000, 5000) if t * 6 >= xmax), 10000)
    for s in range(0, xmax + 1, tick):
        out.append(f'<text x="{x(s):.1f}" y="{H - B + 16}" text-anchor="middle">{s}</text>')
    out.append(f'<text x="{(L + W - R) / 2}" y="{H - 8}" text-anchor="middle">step</text>')
    out.append(f'<text x="14" y="{(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 14 {(T + H - B) / 2})">bits per token</text>')
    pts = " ".join(f"{x(s):.1f},{y(v):.1f}" for s, v in zip(steps, train) if v <= ymax)
    out.append(f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{pts}"/>')
    pts = " ".join(f"{x(s):.1f},{y(v):.1f}" for s, v in val)
    out.append(f'<polyline fill="none" stroke="#d62728" stroke-width="2" points="{pts}"/>')
    legend = [("#1f77b4", "training loss (chord-weighted, mean of 50 steps)"),
              ("#d62728", "held-out bits per token")]
    if a.baseline:
        out.append(f'<line x1="{L}" x2="{W - R}" y1="{y(a.baseline):.1f}" y2="{y(a.baseline):.1f}" '
                   f'stroke="#555" stroke-dasharray="6 4"/>')
        legend.append(("#555", f"bigram baseline ({a.baseline:.2f} bits per token)"))
    ly = T + (H - T - B) * 0.72  # below the curves once they have come down
    for i, (c, t) in enumerate(legend):
        out.append(f'<line x1="{W - 360}" x2="{W - 336}" y1="{ly + 16 * i:.1f}" y2="{ly + 16 * i:.1f}" stroke="{c}" stroke-width="2"/>'
                   f'<text x="{W - 330}" y="{ly + 4 + 16 * i:.1f}">{t}</text>')
    out.append("</svg>")
    open(a.svg, "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
