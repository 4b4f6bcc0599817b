"""PyTorch's part of the peers' harness (common.py has the shared part): threads, seeds, the data as a tensor, and
the VAE's loss and epoch. bench/run.ts runs these peers with /usr/bin/python3 (Debian's python3-torch),
bench/engines.ts with the project's .venv (pip's torch)."""
import torch

import common


def parse_args():
    return common.parse_args(1, "0: PyTorch's default (one per core)")


def load(path):
    return torch.from_numpy(common.load(path).copy())


def run(train_epoch, x, args, implementation):
    """Sets the threads and the seed, then times `train_epoch(x) -> loss` (common.run)."""
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    common.run(train_epoch, x, args, implementation, {"torch": torch.__version__, "threads": torch.get_num_threads()})


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
