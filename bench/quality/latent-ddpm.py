#!/usr/bin/env python3
"""PyTorch twin of the DDPM of genlab's 'latent-ddpm-digits' recipe (bench/quality/latent-ddpm.ts drives it).

genlab hands over the scaled codes of the training digits (the 'vae-digits' encoder's posterior means times the
recipe's scale) and their labels; this trains the same class-conditional noise predictor with the same settings and
writes sampled codes back, which genlab decodes with the same VAE decoder and judges with the same digit judge.

The network (lib/diffusion/networks.ts, MLP): h = concat(z_t, emb(t) + c(y)) -> 256 -> 256 -> 256 (SiLU) -> L, emb the
64 sinusoidal features of the integer t (ddpm.py's `sinusoidal`), c a learned nn.Embedding of K + 1 rows (N(0, 1)
init; row K is the null label). Training: T = 300 linear betas 1e-4 .. 0.02, the simple eps-MSE loss with t uniform,
each row's label replaced by K with probability labelDropout, Adam (eps 1e-8) batch 128, a fresh optimiser per phase.
Sampling: ancestral (posterior variance betaTilde, ddpm.py's `sample`) with eps = (1 + w) eps(z, t, y) - w eps(z, t, K).

Usage: latent-ddpm.py <dir>
  <dir>/settings.json: the recipe's settings; <dir>/codes.f32 [n, L] float32, <dir>/labels.i32 [n] int32.
  Writes <dir>/samples.f32 (evaluation.samples unconditional codes) and <dir>/guided-<w>.f32 (perClass codes of each
  digit 0..9, in order, per guidance weight w); prints JSON {torch, seconds, steps, loss}.
"""
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ddpm import ancestral_step, fit_conditional, guided_eps, recipe_schedule, sinusoidal

torch.set_num_threads(1)


class ConditionalMLP(nn.Module):
    def __init__(self, d, hidden, emb, classes):
        super().__init__()
        self.emb, self.classes = emb, classes
        widths = [d + emb, *hidden, d]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.label = nn.Embedding(classes + 1, emb)  # N(0, 1) init, as genlab's

    def forward(self, x, t, y):
        h = torch.cat([x, sinusoidal(t, self.emb) + self.label(y)], 1)
        for i, l in enumerate(self.layers):
            h = l(h)
            if i + 1 < len(self.layers):
                h = F.silu(h)
        return h


@torch.no_grad()
def sample(net, n, d, s, labels=None, w=0.0):
    betas, alphas, abar = recipe_schedule(s)
    T = s['ddpm']['timesteps']
    x = torch.randn(n, d)
    for t in range(T - 1, -1, -1):
        eps = guided_eps(net, x, torch.full((n,), t, dtype=torch.long), labels, w, net.classes)
        x = ancestral_step(x, eps, t, betas, alphas, abar)
    return x


def main(d):
    s = json.load(open(f'{d}/settings.json'))
    torch.manual_seed(s['seed'])
    labels = torch.from_numpy(np.fromfile(f'{d}/labels.i32', dtype=np.int32).astype(np.int64))
    n = labels.shape[0]
    z = torch.from_numpy(np.fromfile(f'{d}/codes.f32', dtype=np.float32).reshape(n, -1))
    L = z.shape[1]
    p = s['ddpm']
    net = ConditionalMLP(L, p['network']['hiddenUnits'], p['network']['embedDim'], p['classes'])
    t0 = time.time()
    steps, loss, _ = fit_conditional(net, z, labels, s)  # the recipe keeps no weight average (weightAverage 0)
    seconds = time.time() - t0
    net.eval()
    e = s['evaluation']
    sample(net, e['samples'], L, s).numpy().astype(np.float32).tofile(f'{d}/samples.f32')
    asked = torch.arange(10).repeat_interleave(e['perClass'])
    for w in e['guidance']:
        sample(net, len(asked), L, s, asked, float(w)).numpy().astype(np.float32).tofile(f'{d}/guided-{w}.f32')
    print(json.dumps({'torch': torch.__version__, 'seconds': seconds, 'steps': steps, 'loss': loss}))


if __name__ == '__main__':
    main(sys.argv[1])
