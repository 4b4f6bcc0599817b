#!/usr/bin/python3
"""PyTorch twin of genlab's Gaussian-Bernoulli RBM with learned sigma (bench/quality/gbrbm.ts drives it).

The SAME algorithm as GaussianBernoulliRBM({ learnSigma: true }).fit with persistent: true and parallelTempering,
written independently with torch ops (float32 training, float64 evaluation):
  energy  E(v, h) = sum_i (v_i - a_i)^2 / (2 s_i) - b.h - sum_ij (v_i / s_i) W_ij h_j,   s_i = sigma_i^2 = exp(z_i);
  init    W ~ N(0, weightStd^2), a = data mean, b = 0, z = log sigma0^2; K replicas of `chains` states at
          inverse temperatures beta_k = 1 - k/K, drawn from N(a, s);
  per mini-batch (rows reshuffled every epoch), update t of T = epochs * ceil(n / batch):
    lr_t = lr + (lrFinal - lr) t / (T - 1);
    one tempered sweep of every replica: h ~ Bern(sigmoid(beta (b + (v / s) W))), v ~ N(a + W h, s / beta),
    then swaps of the pairs (k, k+1), k = t mod 2, t mod 2 + 2, ..., accepted when
    log u < (beta_k - beta_k+1) (E_k - E_k+1);   the beta = 1 replicas vk are the negative phase;
    ph = sigmoid(b + (v / s) W) on the batch v0 and on vk;
    W += lr_t (v0^T ph0 / B - vk^T phk / C)                    (sigma^2-preconditioned: v, not v / s)
    a += lr_t (mean(v0 - a) - mean(vk - a))                    (sigma^2-preconditioned)
    b += lr_t mean(1 / s) (mean ph0 - mean phk)                (scaled by the mean precision, as genlab's)
    z += rz_t (mean q(v0) - mean q(vk)),  q(v) = ((v - a)^2 / 2 - v (W ph)) / s,
         rz_t = 0 for the first `warmup` epochs, then sigmaLr * lr_t / lr;   z clamped to [2 log 1e-3, 2 log 1e3];
    (with config "momentum" mu > 0 each step is a velocity mu vel + rate g, as genlab's `momentum`; the recipe uses 0).
  mass    p(v) = exp(-F(v)) / Z with log Z exact (2^nH hidden states, float64), integrated on the grid the driver
          gives; the fraction inside each disc of radius 3 std (raw units) around a centre, and the rest.
Usage: /usr/bin/python3 bench/quality/gbrbm.py <job.json>   (written by gbrbm.ts: data, grid, config, seeds)
Prints one JSON object: {"runs": [{"mixture", "seed", "shares", "away", "sigma", "largestBias", "seconds"}]}.
"""
import json
import math
import sys
import time

import torch

torch.set_num_threads(1)


def energy(v, h, W, a, b, s):
    """E(v, h) per row."""
    return (((v - a) ** 2) / (2 * s)).sum(1) - h @ b - (((v / s) @ W) * h).sum(1)


def train(x, cfg, seed):
    torch.manual_seed(seed)
    n, nv = x.shape
    nh, C = cfg["nHidden"], cfg["chains"]
    K = cfg["temperatures"]
    betas = [1 - k / K for k in range(K)]
    W = torch.randn(nv, nh) * cfg["weightStd"]
    a = x.mean(0)
    b = torch.zeros(nh)
    z = torch.full((nv,), 2 * math.log(cfg["sigma"]))
    s = z.exp()
    reps = [a + torch.randn(C, nv) * s.sqrt() for _ in betas]
    B, lr0, lr1 = cfg["batchSize"], cfg["learningRate"], cfg["finalLearningRate"]
    T = cfg["epochs"] * math.ceil(n / B)
    t = 0
    vel = [torch.zeros_like(p) for p in (W, a, b, z)]  # momentum velocities
    for epoch in range(cfg["epochs"]):
        order = torch.randperm(n)
        for start in range(0, n, B):
            v0 = x[order[start:start + B]]
            lr = lr0 + (lr1 - lr0) * t / max(1, T - 1)
            rz = 0.0 if epoch < cfg["warmup"] else cfg["sigmaLearningRate"] * lr / lr0
            s = z.exp()
            # one tempered sweep, then swaps of neighbouring temperatures
            hs, vs = [], []
            for beta, v in zip(betas, reps):
                h = torch.bernoulli(torch.sigmoid(beta * (b + (v / s) @ W)))
                hs.append(h)
                vs.append(a + h @ W.t() + torch.randn(C, nv) * (s / beta).sqrt())
            E = [energy(v, h, W, a, b, s) for v, h in zip(vs, hs)]
            for k in range(t % 2, K - 1, 2):
                acc = (torch.rand(C).log() < (betas[k] - betas[k + 1]) * (E[k] - E[k + 1])).unsqueeze(1)
                vs[k], vs[k + 1] = torch.where(acc, vs[k + 1], vs[k]), torch.where(acc, vs[k], vs[k + 1])
            reps = vs
            vk = vs[0]
            ph0 = torch.sigmoid(b + (v0 / s) @ W)
            phk = torch.sigmoid(b + (vk / s) @ W)
            q0 = (((v0 - a) ** 2) / 2 - v0 * (ph0 @ W.t())) / s
            qk = (((vk - a) ** 2) / 2 - vk * (phk @ W.t())) / s
            dW = v0.t() @ ph0 / v0.shape[0] - vk.t() @ phk / C
            da = (v0 - a).mean(0) - (vk - a).mean(0)
            db = ph0.mean(0) - phk.mean(0)
            dz = q0.mean(0) - qk.mean(0)
            mu = cfg.get("momentum", 0.0)
            vel = [mu * v + r * g for v, r, g in zip(vel, (lr, lr, lr * (1 / s).mean(), rz), (dW, da, db, dz))]
            W, a, b = W + vel[0], a + vel[1], b + vel[2]
            z = (z + vel[3]).clamp(2 * math.log(1e-3), 2 * math.log(1e3))
            t += 1
    return W, a, b, z


def masses(W, a, b, z, job, mix):
    """Exact mass per cluster disc and away from all, from exp(-F) / Z on the grid (float64)."""
    W, a, b, s = W.double(), a.double(), b.double(), z.double().exp()
    nh = W.shape[1]
    h = ((torch.arange(2 ** nh).unsqueeze(1) >> torch.arange(nh)) & 1).double()  # [2^nH, nH]
    m = h @ W.t()
    logw = h @ b + ((2 * a * m + m ** 2) / (2 * s)).sum(1)
    log_z = 0.5 * W.shape[0] * math.log(2 * math.pi) + 0.5 * s.log().sum().item() + torch.logsumexp(logw, 0).item()
    g = job["grid"]
    axis = torch.tensor([g["lo"] + i * g["step"] for i in range(g["n"])], dtype=torch.float64)
    yy, xx = torch.meshgrid(axis, axis, indexing="ij")
    v = torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)
    F = (((v - a) ** 2) / (2 * s)).sum(1) - torch.nn.functional.softplus(b + (v / s) @ W).sum(1)
    p = (-F - log_z).exp() * g["step"] ** 2
    raw = torch.tensor(mix["mu"], dtype=torch.float64) + torch.tensor(mix["sd"], dtype=torch.float64) * v
    shares = []
    for c in mix["centres"]:
        inside = ((raw - torch.tensor(c, dtype=torch.float64)) ** 2).sum(1) < (3 * mix["std"]) ** 2
        shares.append(p[inside].sum().item())
    return shares, 1 - sum(shares)


def main():
    with open(sys.argv[1]) as f:
        job = json.load(f)
    runs = []
    for mix in job["mixtures"]:
        x = torch.tensor(mix["train"], dtype=torch.float32)
        for seed in job["seeds"]:
            t0 = time.time()
            W, a, b, z = train(x, job["config"], seed)
            seconds = time.time() - t0
            shares, away = masses(W, a, b, z, job, mix)
            runs.append({"mixture": mix["seed"], "seed": seed, "shares": shares, "away": away,
                         "sigma": (z / 2).exp().tolist(), "largestBias": b.abs().max().item(), "seconds": seconds})
    print(json.dumps({"runs": runs}))


if __name__ == "__main__":
    main()
