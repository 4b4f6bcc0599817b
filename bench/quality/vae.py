#!/usr/bin/python3
"""PyTorch reference for genlab's VAE quality check (bench/quality/vae.ts drives it).

The PyTorch lecture model (pytorch/examples vae/main.py) with latent 20: fc1 784->400 ReLU, fc21/fc22 400->20
(mean, log-variance), fc3 20->400 ReLU, fc4 400->784 logits; Bernoulli likelihood (BCE with logits), closed-form
KL to N(0, I), reparameterisation z = mu + exp(logvar / 2) * eps, Adam lr 1e-3 (eps 1e-8), batch 128, rows
reshuffled every epoch. The objective is the batch MEAN of (BCE summed over pixels + KL) -- genlab's objective; the
example's batch SUM differs only by a constant factor, which Adam's update ignores. PyTorch's default
initialisation (Kaiming-uniform) is kept: it is the reference implementation, not a copy of genlab.

Evaluation after the last epoch, identical to genlab's VAE.elbo / VAE.iwae: mean test ELBO in nats with
`samples` Monte Carlo draws of z per digit (KL exact), and the IWAE bound with k importance samples.

Usage: /usr/bin/python3 bench/quality/vae.py <data dir> <seeds comma-separated> <epochs> <elbo samples> <iwae k> [init]
`init` is 'torch' (default: PyTorch's own initialisation) or 'glorot' (genlab's: Glorot-uniform weights, zero
biases), to separate the effect of the initialisation from that of the implementation.
Prints one JSON object: {"torch": version, "elbo": [...], "iwae": [...], "trainLoss": [[per epoch] per seed],
"seconds": [[per epoch] per seed]}.
"""
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

torch.set_num_threads(1)


def load(data_dir):
    with open(f"{data_dir}/meta.json") as f:
        meta = json.load(f)
    d = meta["dim"]
    train = np.fromfile(f"{data_dir}/train.u8", dtype=np.uint8).reshape(meta["nTrain"], d).astype(np.float32)
    test = np.fromfile(f"{data_dir}/test.u8", dtype=np.uint8).reshape(meta["nTest"], d).astype(np.float32)
    return torch.from_numpy(train), torch.from_numpy(test)


class VAE(nn.Module):
    def __init__(self, d=784, h=400, latent=20):
        super().__init__()
        self.fc1 = nn.Linear(d, h)
        self.fc21 = nn.Linear(h, latent)
        self.fc22 = nn.Linear(h, latent)
        self.fc3 = nn.Linear(latent, h)
        self.fc4 = nn.Linear(h, d)

    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc21(h), self.fc22(h)

    def decode_logits(self, z):
        return self.fc4(F.relu(self.fc3(z)))


def log_lik(x, logits):
    # log p(x|z) = sum_d [x l - softplus(l)]  (exact Bernoulli log-likelihood of binary x)
    return -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(-1)


def kl(mu, logvar):
    return 0.5 * (logvar.exp() + mu.pow(2) - 1 - logvar).sum(-1)


def posterior_samples(model, xb, k):
    # z = mu + exp(logvar / 2) * eps, eps ~ N(0, I): k draws per row, [k, b, latent]
    mu, logvar = model.encode(xb)
    eps = torch.randn(k, *mu.shape)
    return mu, logvar, eps, mu + (0.5 * logvar).exp() * eps


@torch.no_grad()
def elbo(model, x, samples, block=500):
    total = 0.0
    for i in range(0, x.shape[0], block):
        xb = x[i : i + block]
        mu, logvar, eps, z = posterior_samples(model, xb, samples)
        rec = log_lik(xb, model.decode_logits(z)).mean(0)
        total += (rec - kl(mu, logvar)).sum().item()
    return total / x.shape[0]


@torch.no_grad()
def iwae(model, x, k, block=50):
    total = 0.0
    for i in range(0, x.shape[0], block):
        xb = x[i : i + block]
        mu, logvar, eps, z = posterior_samples(model, xb, k)
        log_px = log_lik(xb, model.decode_logits(z))
        log_pz = -0.5 * z.pow(2).sum(-1)
        log_qz = -0.5 * (eps.pow(2) + logvar).sum(-1)
        log_w = log_px + log_pz - log_qz
        total += (torch.logsumexp(log_w, 0) - math.log(k)).sum().item()
    return total / x.shape[0]


def main():
    data_dir, seeds, epochs, samples, k = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    init = sys.argv[6] if len(sys.argv) > 6 else "torch"
    seeds = [int(s) for s in seeds.split(",")]
    train, test = load(data_dir)
    out = {"torch": torch.__version__, "init": init, "elbo": [], "iwae": [], "trainLoss": [], "seconds": []}
    for seed in seeds:
        torch.manual_seed(seed)
        model = VAE(d=train.shape[1])
        if init == "glorot":
            for layer in model.modules():
                if isinstance(layer, nn.Linear):
                    nn.init.xavier_uniform_(layer.weight)
                    nn.init.zeros_(layer.bias)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-8)
        losses, secs = [], []
        for _ in range(epochs):
            t0 = time.time()
            perm = torch.randperm(train.shape[0])
            total = 0.0
            for i in range(0, train.shape[0], 128):
                xb = train[perm[i : i + 128]]
                mu, logvar = model.encode(xb)
                z = mu + (0.5 * logvar).exp() * torch.randn_like(mu)
                loss = (-log_lik(xb, model.decode_logits(z)) + kl(mu, logvar)).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * xb.shape[0]
            secs.append(time.time() - t0)
            losses.append(total / train.shape[0])
        out["trainLoss"].append(losses)
        out["seconds"].append(secs)
        out["elbo"].append(elbo(model, test, samples))
        out["iwae"].append(iwae(model, test, k))
        print(f"torch seed {seed}: test ELBO {out['elbo'][-1]:.2f} IWAE-{k} {out['iwae'][-1]:.2f}", file=sys.stderr)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
