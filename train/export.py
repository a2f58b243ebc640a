#!/usr/bin/env python3
"""Writes a trained state dict as float16 (half the size; the C engine computes in float32
either way) with torch.save, ready to ship or to install as a model."""
import argparse
import os

import torch


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", help="state dict written by train.py (OUT/model.pt)")
    ap.add_argument("output", help="float16 state dict to write")
    a = ap.parse_args()
    sd = torch.load(a.model, map_location="cpu")
    half = {k: v.detach().to(torch.float16).contiguous() for k, v in sd.items()}
    tmp = a.output + ".tmp"
    torch.save(half, tmp)
    os.replace(tmp, a.output)
    params = sum(v.numel() for v in half.values())
    print(f"export: {a.output}: {len(half)} tensors, {params:,} parameters, {os.path.getsize(a.output) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
