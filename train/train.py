#!/usr/bin/env python3
"""Trains the EMSYNC generator on data made by prepare.py, following EMSYNC's recipe
(docs/model-card.md lists it and where this run departs from it): cross-entropy with weight 10
on <CHORD>, condition dropout to the learned null vectors (arousal 0.2, valence 0.1), boundary
offsets removed from 20% of samples, transposition by up to +-3 semitones, crops that start at
the song start (5%), at a <BAR> (50%) or anywhere, Adam, gradient clipping at 1.0.

Saves every --save-every steps, atomically: OUT/last.pt (model, optimiser, step, random states:
--resume continues from it exactly) and OUT/model.pt (the state dict alone, the file the C engine
loads). Ctrl-C stops after saving; an interrupted save never replaces the last good file."""
import argparse
import json
import math
import os
import random
import signal
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labels  # noqa: E402
from model import PAD, VOCAB, Generator  # noqa: E402

START, BAR, CHORD, LESS, MORE = 1, 2, 3, 1009, 1010
TRANSPOSABLE_LO, TRANSPOSABLE_HI = 129, 1008
DRUMS_GROUP = 1  # ON/OFF groups: bass 0, drums 1, guitar 2, piano 3, strings 4
CHORD_WEIGHT = 10.0


def transpose(tok, k):
    """Shifts pitched ON/OFF tokens by k semitones, leaving drums and any note that would leave
    21..108 where it is."""
    if k == 0:
        return tok
    rel = tok - TRANSPOSABLE_LO
    is_note = (tok >= TRANSPOSABLE_LO) & (tok <= TRANSPOSABLE_HI)
    group = torch.div(rel, 176, rounding_mode="floor")
    pitch = rel % 88
    ok = is_note & (group != DRUMS_GROUP) & (pitch + k >= 0) & (pitch + k < 88)
    return torch.where(ok, tok + k, tok)


def n_instruments(tok):
    ons = tok[(tok >= TRANSPOSABLE_LO) & (tok <= TRANSPOSABLE_HI)] - TRANSPOSABLE_LO
    ons = ons[(torch.div(ons, 88, rounding_mode="floor") % 2) == 1]
    return len(torch.unique(torch.div(ons, 176, rounding_mode="floor")))


def make_sample(song, context, rng, train, scale=None):
    """One training window: input tokens (context - 2), deltas, target rows (context), conditions
    (the window's own labels with a label scale, else the song's)."""
    music_len = context - 3  # after 2 condition rows and the instrument token
    tok, dl = song["tokens"].long(), song["deltas"].float() * 0.008
    n = len(tok)
    r = rng.random()
    if r < 0.05 or n <= music_len + 1:
        tok = torch.cat([torch.tensor([START]), tok])
        dl = torch.cat([dl[:1], dl])
        start = 0
    elif r < 0.05 + 0.95 * 0.5:
        bars = (tok[: n - music_len - 1] == BAR).nonzero().flatten()
        start = int(bars[rng.randrange(len(bars))]) if len(bars) else rng.randrange(n - music_len - 1)
    else:
        start = rng.randrange(n - music_len - 1)
    tok, dl = tok[start:start + music_len + 1], dl[start:start + music_len + 1]
    v, a = labels.label(tok.tolist(), song["mode"], scale) if scale else (song["valence"], song["arousal"])
    if train:
        tok = transpose(tok, rng.randint(-3, 3))
        if rng.random() < 0.2:  # no boundary conditioning: what inference feeds without cuts
            dl = torch.full_like(dl, 8.0)
    instr = MORE if n_instruments(tok) >= 3 else LESS
    seq = torch.cat([torch.tensor([instr]), tok])          # instrument token + music (+1 target)
    dseq = torch.cat([dl[:1], dl])
    inp, target = seq[:-1], seq[1:]
    deltas = dseq[:-1]
    pad = context - 2 - len(inp)
    if pad > 0:
        inp = torch.cat([inp, torch.full((pad,), PAD)])
        deltas = torch.cat([deltas, torch.full((pad,), 8.0)])
        target = torch.cat([target, torch.full((pad,), PAD)])
    target = torch.cat([torch.full((2,), PAD), target])    # condition rows predict nothing
    if train:
        if rng.random() < 0.2:
            a = float("nan")
        if rng.random() < 0.1:
            v = float("nan")
    return inp, deltas, target, torch.tensor([v, a], dtype=torch.float32)


def batch(songs, size, context, rng, train, scale=None):
    parts = [make_sample(songs[rng.randrange(len(songs))], context, rng, train, scale) for _ in range(size)]
    return [torch.stack(p) for p in zip(*parts)]


def loss_fn(logits, target, weights):
    return F.cross_entropy(logits.reshape(-1, VOCAB), target.reshape(-1), weight=weights, ignore_index=PAD)


@torch.no_grad()
def evaluate(model, val_batches, device):
    """Held-out loss in bits per token (plain, every target counted once) and chord-weighted."""
    model.eval()
    total = count = 0.0
    for inp, dl, tgt, cond in val_batches:
        logits = model(inp.to(device), cond.to(device), dl.to(device))
        tgt = tgt.to(device)
        ce = F.cross_entropy(logits.reshape(-1, VOCAB), tgt.reshape(-1), ignore_index=PAD, reduction="sum")
        total += ce.item()
        count += (tgt != PAD).sum().item()
    model.train()
    return total / count / math.log(2)


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description="Train the EMSYNC generator on prepared data.")
    ap.add_argument("data", help="file written by prepare.py")
    ap.add_argument("-o", "--out", required=True, help="folder for last.pt, model.pt and log.jsonl")
    ap.add_argument("--d-model", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--d-ff", type=int, default=1024)
    ap.add_argument("--context", type=int, default=384)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--steps", type=int, default=2600)
    ap.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (warm-up, then cosine)")
    ap.add_argument("--lr-min", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=909)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--save-every", type=int, default=100)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--eval-batches", type=int, default=8)
    ap.add_argument("--labels", choices=["window", "song"], default="song",
                    help="condition on the song's labels (default, the bundled model's recipe) or on each window's own (labels.py)")
    ap.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    ap.add_argument("--stop-after", type=int, default=0, help="stop (saving) after this many steps in this run")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = random.Random(a.seed)
    data = torch.load(a.data)
    train_songs, test_songs = data["train"], data["test"]
    scale = None
    if a.labels == "window":
        if "mode" not in train_songs[0]:
            sys.exit(f"train: {a.data}: made by an older prepare.py (no key mode); run train/prepare.py again")
        scale = labels.fit(train_songs, a.context - 3)
        print(f"train: window label scale {json.dumps(scale)}", file=sys.stderr, flush=True)
    device = torch.device(a.device)
    model = Generator(a.d_model, a.layers, a.heads, a.d_ff, a.context, a.dropout).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    weights = torch.ones(VOCAB, device=device)
    weights[CHORD] = CHORD_WEIGHT
    step = start_step = 0
    log_path = os.path.join(a.out, "log.jsonl")
    os.makedirs(a.out, exist_ok=True)
    if a.resume and os.path.exists(os.path.join(a.out, "last.pt")):
        ck = torch.load(os.path.join(a.out, "last.pt"), map_location=device)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        step = start_step = ck["step"]
        rng.setstate(ck["rng"])
        torch.set_rng_state(ck["torch_rng"])
        print(f"train: resumed at step {step}", file=sys.stderr)
    elif os.path.exists(log_path):
        os.unlink(log_path)
    # fixed held-out windows: the same for every evaluation and every run
    val_rng = random.Random(12345)
    val_batches = [batch(test_songs, a.batch, a.context, val_rng, False, scale) for _ in range(a.eval_batches)]
    params = sum(p.numel() for p in model.parameters())
    print(f"train: {params:,} parameters, {len(train_songs)} songs, {a.steps} steps of {a.batch} x {a.context - 2} tokens",
          file=sys.stderr, flush=True)

    stop = {"now": False}
    signal.signal(signal.SIGINT, lambda *_: stop.update(now=True))
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))

    def checkpoint():
        save_atomic(dict(model=model.state_dict(), optimizer=opt.state_dict(), step=step, rng=rng.getstate(),
                         torch_rng=torch.get_rng_state(), args=vars(a), label_scale=scale), os.path.join(a.out, "last.pt"))
        save_atomic({k: v.detach().cpu() for k, v in model.state_dict().items()}, os.path.join(a.out, "model.pt"))

    t0, tokens_done, loss_avg = time.time(), 0, None
    model.train()
    while step < a.steps and not stop["now"] and not (a.stop_after and step - start_step >= a.stop_after):
        lr = a.lr * min(1.0, (step + 1) / a.warmup)
        if step >= a.warmup:
            frac = (step - a.warmup) / max(1, a.steps - a.warmup)
            lr = a.lr_min + 0.5 * (a.lr - a.lr_min) * (1 + math.cos(math.pi * frac))
        for g in opt.param_groups:
            g["lr"] = lr
        inp, dl, tgt, cond = batch(train_songs, a.batch, a.context, rng, True, scale)
        logits = model(inp.to(device), cond.to(device), dl.to(device))
        loss = loss_fn(logits, tgt.to(device), weights)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
        step += 1
        tokens_done += int((tgt != PAD).sum())
        loss_avg = loss.item() if loss_avg is None else 0.98 * loss_avg + 0.02 * loss.item()
        record = dict(step=step, loss=loss.item(), lr=lr)
        if step % 20 == 0 or step == a.steps:
            el = time.time() - t0
            tps = tokens_done / el
            eta = (a.steps - step) * el / max(1, step - start_step)
            print(f"train: step {step}/{a.steps}  loss {loss_avg:.3f}  lr {lr:.2e}  {tps:.0f} tokens/s  ETA {eta / 60:.1f} min",
                  file=sys.stderr, flush=True)
        if step % a.eval_every == 0 or step == a.steps:
            record["val_bits_per_token"] = evaluate(model, val_batches, device)
            print(f"train: step {step}  held-out {record['val_bits_per_token']:.3f} bits/token", file=sys.stderr, flush=True)
        with open(log_path, "a") as f:
            f.write(json.dumps(record) + "\n")
        if step % a.save_every == 0 or step == a.steps:
            checkpoint()
    if step % a.save_every:
        checkpoint()
    if stop["now"]:
        print(f"train: interrupted at step {step}; saved {a.out}/last.pt", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
