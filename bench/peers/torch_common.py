"""PyTorch's part of the peers' harness (common.py has the shared part): threads, seeds, the data as a tensor, the
parameter check, the VAE's loss and epoch, and the GAN and DDPM twins' runs. bench/run.ts runs these peers with
/usr/bin/python3 (Debian's python3-torch), bench/engines.ts with the first Python that has torch
(bench/peer-python.ts: GENLAB_PEER_PYTHON, .venv-peers, .venv).

The networks of the GAN, DDPM and EBM twins are the quality checks' (bench/quality/gan.py, ddpm.py, pretrained.py),
imported from there: this module puts bench/quality on the import path. Those modules pin PyTorch to one thread
when imported; `run` sets the threads asked for (the default: as many as PyTorch chose before that import).
"""
import os
import sys

import torch

import common

DEFAULT_THREADS = torch.get_num_threads()  # PyTorch's own choice, before a quality module pins it to 1
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "quality"))


def parse_args():
    return common.parse_args(1, "0: PyTorch's default (one per core)")


def load(path):
    return torch.from_numpy(common.load(path).copy())


def count(*modules):
    """Trainable parameters of the modules (BatchNorm's running statistics are buffers: not counted)."""
    return sum(p.numel() for m in modules for p in m.parameters() if p.requires_grad)


def run(train_epoch, x, args, implementation, parameters):
    """Checks the twin's `parameters` against genlab's (--params), sets the threads and the seed, then times
    `train_epoch(x) -> loss` (common.run)."""
    common.check_params(args, parameters)
    torch.set_num_threads(args.threads if args.threads > 0 else DEFAULT_THREADS)
    torch.manual_seed(args.seed)
    common.run(train_epoch, x, args, implementation,
               {"torch": torch.__version__, "threads": torch.get_num_threads(), "parameters": parameters})


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


def ddpm_run(args, net, learning_rate, image, implementation):
    """A DDPM twin (bench/quality/ddpm.py's schedule and epoch: T = 300 linear betas, the simple loss, batch 128,
    Adam with eps 1e-8) on the digits mapped once from [0, 1] onto [-1, 1], as [n, 1, 28, 28] when `image`."""
    from ddpm import schedule, train_epoch  # bench/quality/ddpm.py

    x = load(args.data) * 2 - 1
    if image:
        x = x.view(-1, 1, 28, 28)
    opt = torch.optim.Adam(net.parameters(), lr=learning_rate, eps=1e-8)
    _, _, abar = schedule()
    run(lambda x: train_epoch(net, opt, x, abar), x, args, implementation, count(net))


def gan_run(args, G, D, image, implementation):
    """A GAN twin (bench/quality/gan.py's epoch: per batch a D step on the real batch and fresh fakes with real
    target 0.9, then a G step with the non-saturating loss; Glorot weights, Adam 2e-4 with betas (0.5, 0.999), batch
    128, z of 100) on the digits mapped once from [0, 1] onto [-1, 1], as [n, 1, 28, 28] when `image`."""
    from gan import glorot, train_epoch  # bench/quality/gan.py

    x = load(args.data) * 2 - 1
    if image:
        x = x.view(-1, 1, 28, 28)
    G.apply(glorot)
    D.apply(glorot)
    optG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    run(lambda x: train_epoch(G, D, optG, optD, x, 128, 100, 0.9), x, args, implementation, count(G, D))
