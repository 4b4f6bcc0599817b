#!/usr/bin/python3
"""PyTorch reference for genlab's RBM quality check (bench/quality/rbm16.ts drives it).

The SAME algorithm as genlab's BernoulliRBM.fit with persistent=True, k=1 (PCD-1), plain SGD:
  - W ~ N(0, 0.01^2) [784, 16]; visible biases a = log(p / (1 - p)), p = pixel means clipped to [1e-3, 1 - 1e-3];
    hidden biases b = 0;
  - `chains` persistent chains started from Bernoulli(sigmoid(a));
  - each epoch a fresh random permutation of the training rows, mini-batches of `batch` rows (last one smaller);
  - per batch: ph0 = sigmoid(v0 W + b); chain: h ~ P(h|v_c), v_c ~ P(v|h), phk = sigmoid(v_c W + b);
    W += lr (v0^T ph0 / B - v_c^T phk / C), a += lr (mean v0 - mean v_c), b += lr (mean ph0 - mean phk);
  - exact test log-likelihood after each epoch: mean(-F(v)) - log Z, log Z by enumerating the 2^16 hidden states
    in float64.
Usage: /usr/bin/python3 bench/quality/rbm16.py <data dir> <seeds comma-separated> <epochs> [lr] [batch] [chains] [every]
The log-likelihoods are evaluated after every `every`-th epoch and after the last (default every epoch).
Prints one JSON object: {"seeds": [...], "evalEpochs": [...], "testLL": [[per evaluated epoch] per seed],
"trainLL": [...], "seconds": [[training seconds per epoch] per seed]}.
"""
import json
import math
import sys
import time

import numpy as np
import torch

torch.set_num_threads(1)


def load(data_dir):
    with open(f"{data_dir}/meta.json") as f:
        meta = json.load(f)
    d = meta["dim"]
    train = np.fromfile(f"{data_dir}/train.u8", dtype=np.uint8).reshape(meta["nTrain"], d)
    test = np.fromfile(f"{data_dir}/test.u8", dtype=np.uint8).reshape(meta["nTest"], d)
    return torch.from_numpy(train.astype(np.float32)), torch.from_numpy(test.astype(np.float32))


def log_partition(W, a, b):
    """log Z = logsumexp_h [ b.h + sum_i softplus(a_i + (W h)_i) ] over all 2^nH hidden states (float64)."""
    nH = W.shape[1]
    W64, a64, b64 = W.double(), a.double(), b.double()
    idx = torch.arange(2 ** nH, dtype=torch.int64)
    parts = []
    for start in range(0, 2 ** nH, 8192):
        x = idx[start:start + 8192]
        h = ((x.unsqueeze(1) >> torch.arange(nH)) & 1).double()  # [c, nH]
        s = h @ b64 + torch.nn.functional.softplus(h @ W64.t() + a64).sum(1)
        parts.append(torch.logsumexp(s, 0))
    return torch.logsumexp(torch.stack(parts), 0).item()


def mean_log_lik(v, W, a, b, logZ):
    v64 = v.double()
    neg_f = v64 @ a.double() + torch.nn.functional.softplus(v64 @ W.double() + b.double()).sum(1)
    return (neg_f.mean() - logZ).item()


def run(train, test, seed, epochs, lr, batch, chains, eval_epochs, n_hidden=16):
    g = torch.Generator().manual_seed(seed)
    n, d = train.shape
    W = torch.randn(d, n_hidden, generator=g) * 0.01
    p = train.mean(0).clamp(1e-3, 1 - 1e-3)
    a = torch.log(p / (1 - p))
    b = torch.zeros(n_hidden)
    vc = (torch.rand(chains, d, generator=g) < torch.sigmoid(a)).float()
    test_ll, train_ll, seconds = [], [], []
    for epoch in range(1, epochs + 1):
        t0 = time.time()
        perm = torch.randperm(n, generator=g)
        for start in range(0, n, batch):
            v0 = train[perm[start:start + batch]]
            B = v0.shape[0]
            ph0 = torch.sigmoid(v0 @ W + b)
            h = (torch.rand(chains, n_hidden, generator=g) < torch.sigmoid(vc @ W + b)).float()
            vc = (torch.rand(chains, d, generator=g) < torch.sigmoid(h @ W.t() + a)).float()
            phk = torch.sigmoid(vc @ W + b)
            W += lr * (v0.t() @ ph0 / B - vc.t() @ phk / chains)
            a += lr * (v0.mean(0) - vc.mean(0))
            b += lr * (ph0.mean(0) - phk.mean(0))
        seconds.append(time.time() - t0)
        if epoch not in eval_epochs:
            continue
        logZ = log_partition(W, a, b)
        test_ll.append(mean_log_lik(test, W, a, b, logZ))
        train_ll.append(mean_log_lik(train, W, a, b, logZ))
    return test_ll, train_ll, seconds


def main():
    data_dir = sys.argv[1]
    seeds = [int(s) for s in sys.argv[2].split(",")]
    epochs = int(sys.argv[3])
    lr = float(sys.argv[4]) if len(sys.argv) > 4 else 0.01
    batch = int(sys.argv[5]) if len(sys.argv) > 5 else 100
    chains = int(sys.argv[6]) if len(sys.argv) > 6 else batch
    every = int(sys.argv[7]) if len(sys.argv) > 7 else 1
    eval_epochs = [e for e in range(1, epochs + 1) if e % every == 0 or e == epochs]
    train, test = load(data_dir)
    out = {"seeds": seeds, "evalEpochs": eval_epochs, "testLL": [], "trainLL": [], "seconds": [], "torch": torch.__version__}
    for s in seeds:
        te, tr, sec = run(train, test, s, epochs, lr, batch, chains, eval_epochs)
        out["testLL"].append(te)
        out["trainLL"].append(tr)
        out["seconds"].append(sec)
        print(f"torch seed {s}: test LL per epoch {[round(x, 2) for x in te]}", file=sys.stderr, flush=True)
    assert all(math.isfinite(x) for row in out["testLL"] for x in row)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
