"""Window labels: the valence and arousal of the music a training window actually holds.

A song-level label tells the network little about a 15-second window: a major song has minor
passages, a dense song quiet bars. Labelling each window from its own notes makes the condition
describe what the network is asked to continue, so it learns to follow it.

  arousal = note density per instrument: notes per second / instruments that play (midi-emotion's
            definition, over the window instead of the song);
  valence = 0.5 * mode of the song's annotated key (major +1, minor -1)
          + 0.5 * the window's major-ness, scaled to [-1, 1].
Major-ness is Krumhansl-Kessler's: the best major-key correlation of the duration-weighted
pitch-class histogram minus the best minor-key one, as `emsync eval` measures it. Each raw value
is clipped to the training windows' [Q1 - 1.5 IQR, Q3 + 1.5 IQR] and min-max scaled to [-1, 1]."""
import math
import random

KK_MAJOR = [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88]
KK_MINOR = [6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17]
DRUMS = 1  # instrument index of drums (bass 0, drums 1, guitar 2, piano 3, strings 4)


def window_features(tokens):
    """Pitch-class durations (12, in 8 ms ticks) and notes per second per playing instrument of a
    list of token ids. Notes still sounding at the end are cut there; notes begun before the
    window are not counted."""
    t, sounding, pcs, notes = 0, {}, [0.0] * 12, [0] * 5
    for x in tokens:
        if 4 <= x <= 128:
            t += x - 3
        elif 129 <= x <= 1008:
            group, pitch = divmod(x - 129, 88)
            instrument = group // 2
            if group % 2:
                notes[instrument] += 1
                sounding[(instrument, pitch)] = t
            elif (instrument, pitch) in sounding:
                start = sounding.pop((instrument, pitch))
                if instrument != DRUMS:
                    pcs[(pitch + 21) % 12] += t - start
    for (instrument, pitch), start in sounding.items():
        if instrument != DRUMS:
            pcs[(pitch + 21) % 12] += t - start
    playing = sum(1 for n in notes if n)
    density = sum(notes) / max(t * 0.008, 1.0) / max(playing, 1)
    return pcs, density


def _pearson(x, y):
    mx, my = sum(x) / 12, sum(y) / 12
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else float("nan")


def majorness(pcs):
    """Best major-key correlation minus best minor-key correlation; 0 for an empty window."""
    best = []
    for profile in (KK_MAJOR, KK_MINOR):
        r = max(_pearson(pcs, [profile[(p - k) % 12] for p in range(12)]) for k in range(12))
        best.append(r)
    return best[0] - best[1] if all(math.isfinite(r) for r in best) else 0.0


def raw(tokens):
    """(major-ness, density) of a window."""
    pcs, density = window_features(tokens)
    return majorness(pcs), density


def fit_scale(values):
    """Robust min-max scale: clip to [Q1 - 1.5 IQR, Q3 + 1.5 IQR], then the clipped range."""
    v = sorted(values)
    q = lambda f: v[min(len(v) - 1, int(f * (len(v) - 1) + 0.5))]  # noqa: E731
    q1, q3 = q(0.25), q(0.75)
    lo, hi = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    clipped = [min(max(x, lo), hi) for x in v]
    return [lo, hi, min(clipped), max(clipped)]


def apply_scale(x, s):
    lo, hi, mn, mx = s
    x = min(max(x, lo), hi)
    return min(max(2 * (x - mn) / (mx - mn) - 1, -1.0), 1.0) if mx > mn else 0.0


def label(tokens, mode, scale):
    """(valence, arousal) in [-1, 1] of a window of a song whose key has the given mode."""
    m, d = raw(tokens)
    return 0.5 * mode + 0.5 * apply_scale(m, scale["majorness"]), apply_scale(d, scale["density"])


def fit(songs, window, count=3000, seed=777):
    """The scale of `count` windows of `window` tokens drawn from the songs with a fixed seed."""
    rng = random.Random(seed)
    ms, ds = [], []
    for _ in range(count):
        tok = songs[rng.randrange(len(songs))]["tokens"]
        start = rng.randrange(max(1, len(tok) - window))
        m, d = raw(tok[start:start + window].tolist())
        ms.append(m)
        ds.append(d)
    return dict(majorness=fit_scale(ms), density=fit_scale(ds))
