#!/usr/bin/python3
"""Writes a random-weight EMSYNC generator state dict with the released shapes (11 layers,
d_model 512, 8 heads, feed-forward 2048, context 1216, vocab 1011: 37,178,355 parameters) in
the format torch.save uses (a stored zip with a protocol-2 pickle and one raw float32 storage
per tensor, SPEC section 5), for benchmarks. Needs only the Python standard library.

usage: make-random-checkpoint.py OUT.pt [--seed N] [--layers N --d-model N --heads N --ff N --context N]
"""
import argparse
import os
import random
import struct
import sys
import zipfile

RELEASED_PARAMS = 37178355


def shapes(layers, d, heads, ff, ctx, vocab=1011):
    dh = d // heads
    s = [("embedding.weight", (vocab, d))]
    for k in range(2):
        s += [(f"fc_conditions.{k}.0.weight", (d // 2, 1)), (f"fc_conditions.{k}.0.bias", (d // 2,)),
              (f"fc_conditions.{k}.2.weight", (d, d // 2)), (f"fc_conditions.{k}.2.bias", (d,))]
    s += [(f"null_conditions.{k}", (1, d)) for k in range(2)]
    s += [("ff_times_to_chord.0.weight", (d // 4, 1)), ("ff_times_to_chord.0.bias", (d // 4,)),
          ("ff_times_to_chord.2.weight", (d // 2, d // 4)), ("ff_times_to_chord.2.bias", (d // 2,)),
          ("positional_encoding", (1, ctx, d // 2))]
    for i in range(layers):
        p = f"enc_layers.{i}."
        for w in ("Wq", "Wk", "Wv", "fc"):
            s += [(p + f"rga.{w}.weight", (d, d)), (p + f"rga.{w}.bias", (d,))]
        s += [(p + "rga.E", (ctx, dh)), (p + "FFN_pre.weight", (ff, d)), (p + "FFN_pre.bias", (ff,)),
              (p + "FFN_suf.weight", (d, ff)), (p + "FFN_suf.bias", (d,))]
        for j in (1, 2):
            s += [(p + f"layernorm{j}.weight", (d,)), (p + f"layernorm{j}.bias", (d,))]
    s += [("fc.weight", (vocab, d)), ("fc.bias", (vocab,))]
    return s


def numel(shape):
    n = 1
    for x in shape:
        n *= x
    return n


def p_str(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def p_int(v):
    return b"J" + struct.pack("<i", v)


def pickle_state_dict(entries):
    out = [b"\x80\x02ccollections\nOrderedDict\n)R("]
    for key, (name, shape) in enumerate(entries):
        stride, acc = [], 1
        for x in reversed(shape):
            stride.insert(0, acc)
            acc *= x
        out.append(p_str(name) + b"ctorch._utils\n_rebuild_tensor_v2\n((" + p_str("storage") +
                   b"ctorch\nFloatStorage\n" + p_str(str(key)) + p_str("cpu") + p_int(numel(shape)) + b"tQ" +
                   p_int(0) + b"(" + b"".join(p_int(x) for x in shape) + b"t(" +
                   b"".join(p_int(x) for x in stride) + b"t\x89ccollections\nOrderedDict\n)RtR")
    out.append(b"u.")
    return b"".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--layers", type=int, default=11)
    ap.add_argument("--d-model", type=int, default=512)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--ff", type=int, default=2048)
    ap.add_argument("--context", type=int, default=1216)
    a = ap.parse_args()
    entries = shapes(a.layers, a.d_model, a.heads, a.ff, a.context)
    total = sum(numel(s) for _, s in entries)
    released = (a.layers, a.d_model, a.heads, a.ff, a.context) == (11, 512, 8, 2048, 1216)
    if released and total != RELEASED_PARAMS:
        sys.exit(f"internal error: {total} parameters, expected {RELEASED_PARAMS}")
    rng = random.Random(a.seed)
    # a pool of random values, read at a different offset per tensor (fast, still non-trivial)
    pool_n = 1 << 18
    pool = struct.pack(f"<{pool_n}f", *(rng.gauss(0.0, 1.0) for _ in range(pool_n)))
    top = os.path.splitext(os.path.basename(a.out))[0] or "archive"
    tmp = a.out + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{top}/data.pkl", pickle_state_dict(entries))
        for key, (name, shape) in enumerate(entries):
            n = numel(shape)
            # scale like a trained net: unit LayerNorm gains, weights ~ 1/sqrt(fan_in)
            fan_in = shape[-1] if len(shape) == 2 and shape[-1] > 1 else 1
            scale = 0.02 if name.endswith("bias") else 1.0 / fan_in ** 0.5
            off = rng.randrange(pool_n)
            raw = bytearray()
            while len(raw) < 4 * n:
                raw += pool[4 * off:] + pool[:4 * off]
            vals = struct.unpack(f"<{n}f", bytes(raw[:4 * n]))
            if "layernorm" in name and name.endswith("weight"):
                vals = [1.0 + 0.1 * v for v in vals]
            else:
                vals = [scale * v for v in vals]
            z.writestr(f"{top}/data/{key}", struct.pack(f"<{n}f", *vals))
        z.writestr(f"{top}/version", b"3\n")
    os.replace(tmp, a.out)
    print(f"{a.out}: {len(entries)} tensors, {total:,} parameters", file=sys.stderr)


if __name__ == "__main__":
    main()
