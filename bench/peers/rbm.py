"""PyTorch peer of genlab's RBM workload: BernoulliRBM 784x500, CD-1, batch 100, SGD lr 0.1, one thread.

Same arithmetic as genlab's BernoulliRBM.fit with its defaults, and no more: per batch the positive phase P(h|v0),
one Gibbs sweep with sampled h and v, the negative phase P(h|v1) and the Rao-Blackwellised CD-1 update; per epoch
the mean-field reconstruction error of one batch (the last full one, before its update: genlab's default
`measureEvery: 'epoch'`) and a finiteness check of the parameters. Visible biases start at the data's log-odds.
"""
import torch

from torch_common import load, parse_args, run


def main():
    args = parse_args()
    x = load(args.data)
    torch.manual_seed(args.seed)
    n_v, n_h, lr, batch = x.shape[1], 500, 0.1, 100
    W = torch.randn(n_v, n_h) * 0.01
    p = x.mean(0).clamp(1e-3, 1 - 1e-3)
    a = torch.log(p / (1 - p))  # visible biases from the data
    b = torch.zeros(n_h)

    def epoch(x):
        nonlocal W, a, b
        n = x.shape[0]
        order = torch.randperm(n)
        measured = (n // min(batch, n) - 1) * batch  # first row of the last full batch
        recon = float("nan")
        with torch.no_grad():
            for s in range(0, n, batch):
                v0 = x[order[s:s + batch]]
                B = v0.shape[0]
                ph0 = torch.sigmoid(v0 @ W + b)  # [B, nH]
                h0 = (torch.rand_like(ph0) < ph0).float()
                pv1 = torch.sigmoid(h0 @ W.t() + a)  # [B, nV]
                v1 = (torch.rand_like(pv1) < pv1).float()
                ph1 = torch.sigmoid(v1 @ W + b)
                if s == measured:  # the monitor, once per epoch: mean over the batch of sum_i (v0_i - E[v_i | ph0])^2
                    recon = float(((v0 - torch.sigmoid(ph0 @ W.t() + a)) ** 2).sum()) / B
                W += lr * (v0.t() @ ph0 - v1.t() @ ph1) / B
                a += lr * (v0.sum(0) - v1.sum(0)) / B
                b += lr * (ph0.sum(0) - ph1.sum(0)) / B
            assert all(torch.isfinite(t).all() for t in (W, a, b))
        return recon

    run(epoch, x, args, "torch CD-1 (bench/peers/rbm.py)", W.numel() + a.numel() + b.numel())


if __name__ == "__main__":
    main()
