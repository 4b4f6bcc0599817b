#!/usr/bin/env python3
"""PyTorch twin of genlab's GAN for the quality and speed checks (bench/quality/gan.ts drives it).

The same models and settings as genlab's `GAN` (lib/gan/gan.ts):
- dense G: z -> (Linear [no bias when BatchNorm] -> BatchNorm1d(momentum 0.1, eps 1e-5) -> LeakyReLU(0.2)) per
  hidden width -> Linear(D) -> tanh | identity;
- dense D: x -> (Linear -> LeakyReLU(0.2) -> Dropout(p)) per hidden width -> Linear(1) logit;
- conv G (DCGAN for 28x28): Linear(7*7*F1) -> BN -> LeakyReLU -> ConvTranspose(F2, 5, stride 2) -> BN -> LeakyReLU
  -> ConvTranspose(c, 5, stride 2) -> tanh;  conv D: Conv(F1, 5, s2) -> LeakyReLU -> Dropout -> Conv(F2, 5, s2)
  -> LeakyReLU -> Dropout -> Linear(1);
- Glorot-uniform weights and zero biases (genlab's initialisation), Adam(lr, betas (0.5, 0.999)) for each net;
- per batch: D step on the real batch and fresh fakes (BCE with logits, real target `smooth`), then a G step with
  fresh z and the non-saturating loss softplus(-D(G(z))).

Usage:
  gan.py ring <seeds comma-separated> <epochs> <lr> <n> -> JSON {"torch", "runs": [{seed, covered, fractionNear, counts, seconds}]}
  gan.py digits <dir> <seeds> <epochs> <lr> <batch> <average>
                                                    -> JSON {"torch", "runs": [{seed, ed, dReal, dFake, seconds}]}
  gan.py time <dense|conv> <rows> <epochs>          -> JSON {"torch", "seconds": [per epoch], "cpu": [per epoch]}
  gan.py ring-data <dir> <seeds> <epochs> <lr> <average> <samples>
                                                    -> JSON {"torch", "runs": [{seed, seconds, cpu}]}
Ring data: 8 Gaussians on a circle of radius 2, std 0.02 (numpy, seeded); coverage as genlab's modeCoverage:
2000 samples, a mode is covered with >= 20 samples within 0.06 of it.
Digits: <dir> holds the data gan.ts exports (genlab's loadMnist digits scaled to [-1, 1], raw little-endian float32):
train.f32 [n, 784] and held.f32 [500, 784]. The course's dense GAN (G 100-256-512-1024-784 tanh with BatchNorm,
D 784-1024-512-256-1 with dropout 0.3, smoothing 0.9) trains on train.f32; with <average> = beta > 0 a copy of G keeps
the moving average of genlab's `generatorAverage` (w_avg <- d_t w_avg + (1 - d_t) w, d_t = min(beta, (1 + t)/(10 + t))
after the t-th step, over every float tensor of G's state: weights, biases, BatchNorm scale, shift and running
statistics) and the samples come from it. After every epoch: 500 samples (eval mode, fixed z of seed 5) and their
energy distance to held.f32 (`energy_distance`, genlab's energyDistance); the last epoch's samples go to
<dir>/torch-seed<seed>.f32 so gan.ts can recompute the distance with lib/metrics.
ring-data: genlab's default GAN for 2-D data (bench/quality/defaults.ts drives it) on genlab's own ring points:
<dir>/ring<seed>.f32 [n, 2] (raw little-endian float32); G 2-128-128-2 linear, D 2-128-128-1, no BatchNorm or
dropout, batch 128, Adam(lr, (0.5, 0.999)), with <average> = beta > 0 the weight average above; <samples> points
from the average (z of seed 1000 + seed) go to <dir>/torch-ring<seed>.f32 for defaults.ts to score with lib/metrics.
"""
import copy
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

torch.set_num_threads(1)


def glorot(m):
    if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.xavier_uniform_(m.weight)
        if m.bias is not None:
            nn.init.zeros_(m.bias)


def dense_g(latent, units, out, bn=True, tanh=True):
    layers, w = [], latent
    for u in units:
        layers.append(nn.Linear(w, u, bias=not bn))
        if bn:
            layers.append(nn.BatchNorm1d(u, momentum=0.1, eps=1e-5))
        layers.append(nn.LeakyReLU(0.2))
        w = u
    layers.append(nn.Linear(w, out))
    if tanh:
        layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def dense_d(inp, units, dropout):
    layers, w = [], inp
    for u in units:
        layers += [nn.Linear(w, u), nn.LeakyReLU(0.2)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        w = u
    layers.append(nn.Linear(w, 1))
    return nn.Sequential(*layers)


class Reshape(nn.Module):
    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)


def conv_g(latent, f1=128, f2=64):
    # 'same' padding for stride-2 5x5 transposed convs: padding 2, output_padding 1 (7 -> 14 -> 28)
    return nn.Sequential(
        nn.Linear(latent, 7 * 7 * f1, bias=False), nn.BatchNorm1d(7 * 7 * f1, momentum=0.1), nn.LeakyReLU(0.2),
        Reshape(f1, 7, 7),
        nn.ConvTranspose2d(f1, f2, 5, stride=2, padding=2, output_padding=1, bias=False), nn.BatchNorm2d(f2, momentum=0.1),
        nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(f2, 1, 5, stride=2, padding=2, output_padding=1), nn.Tanh())


def conv_d(f1=64, f2=128, dropout=0.3):
    return nn.Sequential(
        nn.Conv2d(1, f1, 5, stride=2, padding=2), nn.LeakyReLU(0.2), nn.Dropout(dropout),
        nn.Conv2d(f1, f2, 5, stride=2, padding=2), nn.LeakyReLU(0.2), nn.Dropout(dropout),
        nn.Flatten(), nn.Linear(7 * 7 * f2, 1))


def train_epoch(G, D, optG, optD, x, batch, latent, smooth=1.0, after_step=None, track=False):
    """One pass over x; with `track`, returns the epoch's mean D(x) and D(G(z)) from the D steps, else the epoch's
    mean D loss."""
    n = x.shape[0]
    perm = torch.randperm(n)
    d_real, d_fake, d_sum = [], [], 0.0
    for s in range(0, n, batch):
        xb = x[perm[s:s + batch]]
        b = xb.shape[0]
        fake = G(torch.randn(b, latent)).detach()
        lr_, lf = D(xb).squeeze(1), D(fake).squeeze(1)
        d_loss = (F.softplus(lr_) - smooth * lr_).mean() + F.softplus(lf).mean()
        optD.zero_grad()
        d_loss.backward()
        optD.step()
        d_sum = d_sum + d_loss.detach() * b
        g_loss = F.softplus(-D(G(torch.randn(b, latent))).squeeze(1)).mean()
        optG.zero_grad()
        g_loss.backward()
        optG.step()
        if track:
            d_real.append(torch.sigmoid(lr_.detach()).mean().item())
            d_fake.append(torch.sigmoid(lf.detach()).mean().item())
        if after_step is not None:
            after_step()
    return (float(np.mean(d_real)), float(np.mean(d_fake))) if track else float(d_sum) / n


class GeneratorAverage:
    """genlab's `generatorAverage`: a copy of G whose float state follows w_avg <- d_t w_avg + (1 - d_t) w,
    d_t = min(beta, (1 + t) / (10 + t)) after the t-th step (t = 0, 1, ...), starting at G's initial weights."""

    def __init__(self, G, beta):
        self.G, self.beta, self.t = G, beta, 0
        self.avg = copy.deepcopy(G)

    @torch.no_grad()
    def update(self):
        d = min(self.beta, (1 + self.t) / (10 + self.t))
        self.t += 1
        cur = self.G.state_dict()
        for k, a in self.avg.state_dict().items():
            if a.is_floating_point():  # not BatchNorm's num_batches_tracked
                a.mul_(d).add_(cur[k], alpha=1 - d)


def energy_distance(a, b):
    """genlab's energyDistance (lib/metrics/samples.ts): 2 E|X - Y| - E|X - X'| - E|Y - Y'| with Euclidean
    distances and the within-sample means over distinct pairs (U-statistic), in float64."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)

    def dists(p, q):
        sq = (p * p).sum(1)[:, None] + (q * q).sum(1)[None, :] - 2 * p @ q.T
        return np.sqrt(np.maximum(sq, 0))

    def within(p):
        iu = np.triu_indices(p.shape[0], 1)
        return dists(p, p)[iu].mean()

    return float(2 * dists(a, b).mean() - within(a) - within(b))


def digits(folder, seeds, epochs, lr, batch, average):
    x = torch.from_numpy(np.fromfile(f"{folder}/train.f32", dtype="<f4").reshape(-1, 784).copy())
    held = np.fromfile(f"{folder}/held.f32", dtype="<f4").reshape(-1, 784)
    runs = []
    for seed in seeds:
        torch.manual_seed(seed)
        G = dense_g(100, [256, 512, 1024], 784)  # BatchNorm, tanh
        D = dense_d(784, [1024, 512, 256], 0.3)
        G.apply(glorot)
        D.apply(glorot)
        optG = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
        optD = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
        avg = GeneratorAverage(G, average) if average > 0 else None
        z = torch.randn(len(held), 100, generator=torch.Generator().manual_seed(5))  # fixed, as genlab's seed 5
        eds, d_real, d_fake = [], [], []
        t0 = time.time()
        for _ in range(epochs):
            G.train()
            D.train()
            r, f = train_epoch(G, D, optG, optD, x, batch, 100, 0.9, avg.update if avg else None, track=True)
            d_real.append(r)
            d_fake.append(f)
            sampler = avg.avg if avg else G
            sampler.eval()  # BatchNorm with its (averaged) running statistics
            with torch.no_grad():
                s = sampler(z).numpy()
            eds.append(energy_distance(s, held))
        s.astype("<f4").tofile(f"{folder}/torch-seed{seed}.f32")
        runs.append({"seed": seed, "ed": eds, "dReal": d_real, "dFake": d_fake, "seconds": time.time() - t0})
    return runs


def ring_pair(lr):
    """The 2-D ring GAN: G 2-128-128-2 linear (no BatchNorm), D 2-128-128-1 (no dropout), each with Adam(lr, (0.5, 0.999))."""
    G = dense_g(2, [128, 128], 2, bn=False, tanh=False)
    D = dense_d(2, [128, 128], 0.0)
    G.apply(glorot)
    D.apply(glorot)
    return G, D, torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999)), torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))


def ring(seeds, epochs, lr, n):
    modes = np.array([[2 * math.cos(2 * math.pi * k / 8), 2 * math.sin(2 * math.pi * k / 8)] for k in range(8)])
    runs = []
    for seed in seeds:
        torch.manual_seed(seed)
        rng = np.random.default_rng(100 + seed)
        x = torch.tensor(modes[rng.integers(0, 8, n)] + 0.02 * rng.standard_normal((n, 2)), dtype=torch.float32)
        G, D, optG, optD = ring_pair(lr)
        t0 = time.time()
        for _ in range(epochs):
            train_epoch(G, D, optG, optD, x, 128, 2)
        G.eval()
        with torch.no_grad():
            s = G(torch.randn(2000, 2)).numpy()
        d = np.linalg.norm(s[:, None, :] - modes[None], axis=2)
        near = d.min(1) <= 0.06
        counts = np.bincount(d.argmin(1)[near], minlength=8)
        runs.append({"seed": seed, "covered": int((counts >= 20).sum()), "fractionNear": float(near.mean()),
                     "counts": counts.tolist(), "seconds": time.time() - t0})
    return runs


def ring_data(folder, seeds, epochs, lr, average, samples):
    runs = []
    for seed in seeds:
        torch.manual_seed(seed)
        x = torch.from_numpy(np.fromfile(f"{folder}/ring{seed}.f32", dtype="<f4").reshape(-1, 2).copy())
        G, D, optG, optD = ring_pair(lr)
        avg = GeneratorAverage(G, average) if average > 0 else None
        t0, c0 = time.time(), time.process_time()
        for _ in range(epochs):
            train_epoch(G, D, optG, optD, x, 128, 2, 1.0, avg.update if avg else None)
        seconds, cpu = time.time() - t0, time.process_time() - c0
        sampler = avg.avg if avg else G
        sampler.eval()
        with torch.no_grad():
            z = torch.randn(samples, 2, generator=torch.Generator().manual_seed(1000 + seed))
            sampler(z).numpy().astype("<f4").tofile(f"{folder}/torch-ring{seed}.f32")
        runs.append({"seed": seed, "seconds": seconds, "cpu": cpu})
    return runs


def timing(arch, rows, epochs):
    torch.manual_seed(1)
    if arch == "dense":
        G, D, latent = dense_g(100, [256, 512, 1024], 784), dense_d(784, [1024, 512, 256], 0.3), 100
        x = torch.rand(rows, 784) * 2 - 1
    else:
        G, D, latent = conv_g(100), conv_d(), 100
        x = torch.rand(rows, 1, 28, 28) * 2 - 1
    G.apply(glorot)
    D.apply(glorot)
    optG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    train_epoch(G, D, optG, optD, x[:256], 128, latent, 0.9)  # warm-up, as genlab's side
    wall, cpu = [], []
    for _ in range(epochs):
        t0, c0 = time.time(), time.process_time()
        train_epoch(G, D, optG, optD, x, 128, latent, 0.9)
        wall.append(time.time() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "ring":
        seeds = [int(s) for s in sys.argv[2].split(",")]
        out = {"torch": torch.__version__, "runs": ring(seeds, int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]))}
    elif mode == "ring-data":
        a = sys.argv[2:]
        out = {"torch": torch.__version__, "runs": ring_data(a[0], [int(v) for v in a[1].split(",")], int(a[2]), float(a[3]),
                                                              float(a[4]), int(a[5]))}
    elif mode == "digits":
        a = sys.argv[2:]
        out = {"torch": torch.__version__, "runs": digits(a[0], [int(v) for v in a[1].split(",")], int(a[2]),
                                                          float(a[3]), int(a[4]), float(a[5]))}
    else:
        wall, cpu = timing(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        out = {"torch": torch.__version__, "seconds": wall, "cpu": cpu}
    print(json.dumps(out))
