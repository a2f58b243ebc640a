#!/usr/bin/env python3
"""Cross-checks a checkpoint between the trainer and the C engine: runs the trainer's model on a
case file (as written by `emsync tokenize`, cut to the model's context) and `emsync model-logits`
on the same case, and prints the largest absolute difference of the logits. Exit 1 when it is
above --tolerance (default 1e-4)."""
import argparse
import os
import subprocess
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import VOCAB, Generator, hparams_from_state_dict  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", help="state dict (torch.save) the trainer wrote")
    ap.add_argument("case", help="case file: comment, token ids, 'valence arousal', offsets")
    ap.add_argument("--emsync", default="./emsync")
    ap.add_argument("--valence", type=float, default=0.5)
    ap.add_argument("--arousal", type=float, default=-0.3)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    a = ap.parse_args()
    sd = torch.load(a.model, map_location="cpu")
    hp = hparams_from_state_dict(sd)
    model = Generator(hp["d_model"], hp["n_layers"], hp["n_heads"], hp["d_ff"], hp["context"], 0.0)
    model.load_state_dict({k: v.float() for k, v in sd.items()})
    model.eval()
    lines = open(a.case).read().split("\n")
    n = hp["context"] - 2
    tokens = [int(x) for x in lines[1].split()][:n]
    deltas = [float(x) for x in lines[3].split()][:n]
    with tempfile.TemporaryDirectory() as tmp:
        case = os.path.join(tmp, "case.in.txt")
        with open(case, "w") as f:
            f.write("# crosscheck\n" + " ".join(map(str, tokens)) + f"\n{a.valence} {a.arousal}\n"
                    + " ".join(f"{d:.3f}" for d in deltas) + "\n")
        out = os.path.join(tmp, "logits.f32")
        subprocess.run([a.emsync, "model-logits", "--model", a.model, "--input", case, "--out", out, "--threads", "2"],
                       check=True)
        c_logits = torch.frombuffer(bytearray(open(out, "rb").read()), dtype=torch.float32).view(-1, VOCAB)
    with torch.no_grad():
        t_logits = model(torch.tensor([tokens]), torch.tensor([[a.valence, a.arousal]]),
                         torch.tensor([[round(d, 3) for d in deltas]], dtype=torch.float32))[0]
    diff = (c_logits - t_logits).abs().max().item()
    print(f"crosscheck: {len(tokens)} tokens, {hp}, max |logit difference| = {diff:.3g}")
    sys.exit(0 if diff <= a.tolerance else 1)


if __name__ == "__main__":
    main()
