"""Shared helpers for the PyTorch peers of genlab's benchmarks (bench/run.ts runs them with /usr/bin/python3).

Each peer trains the same model as genlab's workload on the same float32 file, one thread, and prints one line
`BENCH_RESULT {json}` with seconds per epoch, peak RSS and RSS after each epoch. PyTorch is a peer only, never a
dependency of genlab.
"""
import argparse
import json
import resource
import time

import numpy as np
import torch

RESULT_PREFIX = "BENCH_RESULT "
WIDTH = 784


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True, help="raw little-endian float32 [n, 784]")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1, help="0: PyTorch's default (one per core)")
    return p.parse_args()


def load(path):
    x = np.fromfile(path, dtype="<f4").reshape(-1, WIDTH)
    return torch.from_numpy(x.copy())


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def run(train_epoch, x, args, implementation):
    """Times `train_epoch(x) -> loss` for args.epochs epochs and prints the result line."""
    if getattr(args, "threads", 1) > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    seconds, cpu, rss_after, loss = [], [], [], float("nan")
    for _ in range(args.epochs):
        t0, c0 = time.perf_counter(), time.process_time()
        loss = float(train_epoch(x))
        seconds.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        rss_after.append(rss_mb())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(RESULT_PREFIX + json.dumps({
        "seconds": seconds, "cpuSeconds": cpu, "finalLoss": loss, "rssAfterEpoch": rss_after, "peakRssMB": peak,
        "implementation": implementation, "torch": torch.__version__, "threads": torch.get_num_threads(),
        "rows": int(x.shape[0]),
    }), flush=True)


def neg_elbo(x, logits, mu, log_var):
    """Bernoulli negative ELBO averaged over the batch: sum BCE(logits, x) + KL(N(mu, e^lv) || N(0, I))."""
    rec = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
    kl = -0.5 * (1 + log_var - mu.pow(2) - log_var.exp()).sum(1)
    return (rec + kl).mean()


def vae_epoch(model, opt, x, batch_size, latent):
    """One epoch of Adam on a VAE whose forward(xb, eps) returns (logits, mu, log_var)."""
    n = x.shape[0]
    order = torch.randperm(n)
    total = 0.0
    for s in range(0, n, batch_size):
        xb = x[order[s:s + batch_size]]
        eps = torch.randn(xb.shape[0], latent)
        loss = neg_elbo(xb, *model(xb, eps))
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += float(loss.detach()) * xb.shape[0]
    return total / n
