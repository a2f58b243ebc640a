"""The EMSYNC generator (MusicTransformerContinuousToken) at any size, with the state-dict keys
and shapes the C engine reads (SPEC.md section 2 of the EMSYNC reference, as docs/model-card.md
summarises): relative global attention with learned E, post-norm layers, two continuous
conditions (valence, arousal) as leading rows with learned null vectors, and the boundary-offset
branch ff_times_to_chord(8 - delta) concatenated with a learned positional encoding."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB = 1011
PAD = 0


class RelativeGlobalAttention(nn.Module):
    def __init__(self, d, heads, context, dropout):
        super().__init__()
        self.h, self.dh = heads, d // heads
        self.Wq, self.Wk, self.Wv, self.fc = (nn.Linear(d, d) for _ in range(4))
        self.E = nn.Parameter(torch.randn(context, self.dh))
        self.context = context

    def forward(self, x, key_pad):
        # x: (B, L, d); key_pad: (B, L) True where the key is <PAD>
        B, L, d = x.shape
        q = self.Wq(x).view(B, L, self.h, self.dh).transpose(1, 2)  # (B, h, L, dh)
        k = self.Wk(x).view(B, L, self.h, self.dh).transpose(1, 2)
        v = self.Wv(x).view(B, L, self.h, self.dh).transpose(1, 2)
        # Srel[i, j] = q_i . E[context - 1 - (i - j)]: the last L rows of E hold distances L-1..0
        qe = q @ self.E[self.context - L:].t()  # (B, h, L, L); column m = distance L-1-m
        idx = torch.arange(L, device=x.device)
        rel = (L - 1 - idx[:, None] + idx[None, :]).clamp(min=0, max=L - 1)  # (L, L)
        srel = qe.gather(3, rel.expand(B, self.h, L, L))
        logits = (q @ k.transpose(-1, -2) + srel) / math.sqrt(self.dh)
        causal = torch.ones(L, L, dtype=torch.bool, device=x.device).triu(1)
        mask = causal[None, None] | key_pad[:, None, None, :]
        logits = logits.masked_fill(mask, float("-inf"))
        out = torch.softmax(logits, dim=-1) @ v  # (B, h, L, dh)
        return self.fc(out.transpose(1, 2).reshape(B, L, d))


class EncoderLayer(nn.Module):
    def __init__(self, d, heads, ff, context, dropout):
        super().__init__()
        self.rga = RelativeGlobalAttention(d, heads, context, dropout)
        self.FFN_pre = nn.Linear(d, ff)
        self.FFN_suf = nn.Linear(ff, d)
        self.layernorm1 = nn.LayerNorm(d, eps=1e-6)
        self.layernorm2 = nn.LayerNorm(d, eps=1e-6)
        self.drop1, self.drop2 = nn.Dropout(dropout), nn.Dropout(dropout)

    def forward(self, x, key_pad):
        h = self.layernorm1(x + self.drop1(self.rga(x, key_pad)))
        return self.layernorm2(h + self.drop2(self.FFN_suf(F.relu(self.FFN_pre(h)))))


class Generator(nn.Module):
    def __init__(self, d_model=512, n_layers=11, n_heads=8, d_ff=2048, context=1216, dropout=0.1):
        super().__init__()
        d = d_model
        assert d % 4 == 0 and d % n_heads == 0
        self.d, self.context = d, context
        self.hparams = dict(d_model=d, n_layers=n_layers, n_heads=n_heads, d_ff=d_ff, context=context)
        # registration order gives the reference's state-dict order
        self.positional_encoding = nn.Parameter(torch.empty(1, context, d // 2))
        self.embedding = nn.Embedding(VOCAB, d, padding_idx=PAD)
        self.fc_conditions = nn.ModuleList(
            nn.Sequential(nn.Linear(1, d // 2), nn.ReLU(), nn.Linear(d // 2, d), nn.Dropout(dropout)) for _ in range(2))
        self.null_conditions = nn.ParameterList(nn.Parameter(torch.empty(1, d)) for _ in range(2))
        self.ff_times_to_chord = nn.Sequential(nn.Linear(1, d // 4), nn.ReLU(), nn.Linear(d // 4, d // 2))
        self.enc_layers = nn.ModuleList(EncoderLayer(d, n_heads, d_ff, context, dropout) for _ in range(n_layers))
        self.fc = nn.Linear(d, VOCAB)
        self.drop = nn.Dropout(dropout)
        self._init()

    def _init(self):
        u = lambda t: nn.init.uniform_(t, -0.1, 0.1)
        u(self.embedding.weight)
        u(self.fc.weight)
        nn.init.zeros_(self.fc.bias)
        u(self.positional_encoding)
        for p in self.null_conditions:
            u(p)
        for seq in list(self.fc_conditions) + [self.ff_times_to_chord]:
            for m in seq:
                if isinstance(m, nn.Linear):
                    u(m.weight)
                    nn.init.zeros_(m.bias)

    def forward(self, tokens, conditions, deltas):
        """tokens (B, n) long; conditions (B, 2) float, NaN = null; deltas (B, n) float seconds.
        Returns logits (B, n + 2, VOCAB); row p predicts the token after position p."""
        B, n = tokens.shape
        L = n + 2
        x = self.embedding(tokens) * math.sqrt(self.d)
        rows = []
        for k in range(2):
            c = conditions[:, k:k + 1]
            missing = torch.isnan(c)
            learned = self.fc_conditions[k](torch.nan_to_num(c, nan=0.0))  # (B, d)
            rows.append(torch.where(missing, self.null_conditions[k].expand(B, -1), learned))
        x = torch.cat([rows[0][:, None], rows[1][:, None], x], dim=1)  # (B, L, d)
        dl = torch.cat([deltas[:, :1], deltas[:, :1], deltas], dim=1)  # (B, L)
        offsets = self.ff_times_to_chord((8.0 - dl)[..., None])  # (B, L, d/2)
        x = x + torch.cat([self.positional_encoding[:, :L].expand(B, -1, -1), offsets], dim=-1)
        x = self.drop(x)
        key_pad = torch.cat([torch.zeros(B, 2, dtype=torch.bool, device=tokens.device), tokens == PAD], dim=1)
        for layer in self.enc_layers:
            x = layer(x, key_pad)
        return self.fc(x)


def hparams_from_state_dict(sd):
    """Reads the size back from the tensor shapes, as the C engine does."""
    d = sd["embedding.weight"].shape[1]
    dh = sd["enc_layers.0.rga.E"].shape[1]
    n_layers = len({k.split(".")[1] for k in sd if k.startswith("enc_layers.")})
    return dict(d_model=d, n_layers=n_layers, n_heads=d // dh, d_ff=sd["enc_layers.0.FFN_pre.weight"].shape[0],
                context=sd["positional_encoding"].shape[1])
