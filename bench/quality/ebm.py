"""PyTorch peer of genlab's EnergyModel quality check (bench/quality/ebm.ts): the same short-run EBM on the same
8-Gaussian ring, written independently with torch ops, one thread.

Model: energy MLP 2-128-128-1 (SiLU), torch's default init. Training (Du & Mordatch 2019): per batch of 256 data,
256 chains from a replay buffer of 10000 (5% restarted from uniform noise over the data's range), K = 60 steps of
x <- clip(x - 0.01 * grad E(x) + 0.005 * z) to the data's range, written back to the buffer; loss
mean E(x+) - mean E(x-) + 0.1 * (mean E(x+)^2 + mean E(x-)^2); Adam 1e-3 (eps 1e-8). Samples: 2000 chains from
uniform noise, K = 60 steps. Writes the samples (float32 [2000, 2]) and prints one JSON line with seconds per epoch.
"""
import argparse
import json
import time

import numpy as np
import torch
import torch.nn as nn

p = argparse.ArgumentParser()
p.add_argument("--data", required=True, help="raw little-endian float32 [n, 2]")
p.add_argument("--out", required=True, help="where to write the samples, float32 [samples, 2]")
p.add_argument("--epochs", type=int, default=100)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--samples", type=int, default=2000)
p.add_argument("--eval-every", type=int, default=0, help="also write samples to <out>.<epoch> every this many epochs")
args = p.parse_args()

torch.set_num_threads(1)
torch.manual_seed(args.seed)
x = torch.from_numpy(np.fromfile(args.data, dtype="<f4").reshape(-1, 2).copy())
lo, hi = float(x.min()), float(x.max())
K, STEP, NOISE, ALPHA, BUFFER, FRESH, BATCH, LR = 60, 0.01, 0.005, 0.1, 10000, 0.05, 256, 1e-3

energy = nn.Sequential(nn.Linear(2, 128), nn.SiLU(), nn.Linear(128, 128), nn.SiLU(), nn.Linear(128, 1))
opt = torch.optim.Adam(energy.parameters(), lr=LR, eps=1e-8)
buffer = lo + (hi - lo) * torch.rand(BUFFER, 2)


def langevin(x0, steps):
    xk = x0.clone()
    for _ in range(steps):
        xk.requires_grad_(True)
        (g,) = torch.autograd.grad(energy(xk).sum(), xk)
        xk = (xk.detach() - STEP * g + NOISE * torch.randn_like(xk)).clamp(lo, hi)
    return xk.detach()


seconds, cpu = [], []
for epoch in range(args.epochs):
    t0, c0 = time.perf_counter(), time.process_time()
    perm = torch.randperm(x.shape[0])
    for start in range(0, x.shape[0], BATCH):
        pos = x[perm[start:start + BATCH]]
        idx = torch.randint(0, BUFFER, (pos.shape[0],))
        x0 = buffer[idx].clone()
        fresh = torch.rand(pos.shape[0]) < FRESH
        x0[fresh] = lo + (hi - lo) * torch.rand(int(fresh.sum()), 2)
        neg = langevin(x0, K)
        buffer[idx] = neg
        e = energy(torch.cat([pos, neg])).squeeze(1)
        ep, en = e[: pos.shape[0]], e[pos.shape[0]:]
        loss = ep.mean() - en.mean() + ALPHA * (ep.pow(2).mean() + en.pow(2).mean())
        opt.zero_grad()
        loss.backward()
        opt.step()
    seconds.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
    if args.eval_every and (epoch + 1) % args.eval_every == 0 and epoch + 1 < args.epochs:
        state = torch.get_rng_state()
        torch.manual_seed(1000 + args.seed)
        langevin(lo + (hi - lo) * torch.rand(args.samples, 2), K).numpy().astype("<f4").tofile(f"{args.out}.{epoch + 1}")
        torch.set_rng_state(state)
        print("EBM_EVAL " + json.dumps({"epoch": epoch + 1, "seconds": seconds, "cpu": cpu}), flush=True)

samples = langevin(lo + (hi - lo) * torch.rand(args.samples, 2), K)
samples.numpy().astype("<f4").tofile(args.out)
print("EBM_RESULT " + json.dumps({"seconds": seconds, "cpu": cpu, "torch": torch.__version__}))
