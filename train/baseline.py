#!/usr/bin/env python3
"""Bigram baseline for the model card: P(next | previous token) counted on the training songs
(each song at its 7 transpositions, as the trainer sees them), interpolated with the unigram
(weight --lam on the bigram) and add-0.5 smoothing, scored in bits per token on exactly the
held-out windows the trainer evaluates (same seed, same windows)."""
import argparse
import math
import os
import random
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import PAD, VOCAB  # noqa: E402
from train import batch, transpose  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", help="file written by prepare.py")
    ap.add_argument("--context", type=int, default=384)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--eval-batches", type=int, default=8)
    ap.add_argument("--lam", type=float, default=0.95)
    a = ap.parse_args()
    data = torch.load(a.data)
    pair = torch.zeros(VOCAB * VOCAB, dtype=torch.float64)
    for song in data["train"]:
        for k in range(-3, 4):
            t = transpose(song["tokens"].long(), k)
            pair += torch.bincount(t[:-1] * VOCAB + t[1:], minlength=VOCAB * VOCAB).double()
    pair = pair.view(VOCAB, VOCAB)
    uni = (pair.sum(0) + 0.5) / (pair.sum() + 0.5 * VOCAB)
    rows = pair.sum(1, keepdim=True)
    big = torch.where(rows > 0, pair / rows.clamp(min=1), uni[None, :])
    prob = a.lam * big + (1 - a.lam) * uni[None, :]
    val_rng = random.Random(12345)  # the trainer's held-out windows
    bits = {"bigram": 0.0, "unigram": 0.0}
    count = 0
    for _ in range(a.eval_batches):
        inp, _, tgt, _ = batch(data["test"], a.batch, a.context, val_rng, False)
        prev, nxt = inp, tgt[:, 2:]
        keep = nxt != PAD
        p, n = prev[keep], nxt[keep]
        bits["bigram"] -= torch.log2(prob[p, n]).sum().item()
        bits["unigram"] -= torch.log2(uni[n]).sum().item()
        count += int(keep.sum())
    print(f"baseline: {count} held-out tokens: bigram {bits['bigram'] / count:.3f} bits/token, "
          f"unigram {bits['unigram'] / count:.3f} bits/token (uniform {math.log2(VOCAB - 4):.3f})")


if __name__ == "__main__":
    main()
