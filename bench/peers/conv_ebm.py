"""PyTorch peer of genlab's conv EBM workload, the network and training of 'ebm-digits'
(lib/pretrained/recipes/ebm-digits.ts): E = conv 5x5 s2 16 -> conv 3x3 s2 32 -> 64 -> 64 (SiLU, TensorFlow's 'same'
padding) -> dense 64 (SiLU) -> 1; per batch of 128, 128 chains from uniform noise with K = 60 Langevin steps
x <- clip(x - 10 clip(grad E, +-0.03) + 0.005 z, 0, 1), then Adam 2e-4 (eps 1e-8) on mean E(x+) - mean E(x-) + 0.1
(mean E(x+)^2 + mean E(x-)^2): bench/quality/pretrained.py's network and epoch."""
import torch

from torch_common import count, load, parse_args, run

LANGEVIN = {"steps": 60, "stepSize": 10, "noise": 0.005, "gradientClip": 0.03}


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    from pretrained import ConvEnergy, ebm_epoch  # bench/quality/pretrained.py (on the path through torch_common)

    x = load(args.data).view(-1, 1, 28, 28)
    lo, hi = float(x.min()), float(x.max())  # genlab's observedRange: the box of the noise and of the chains
    net = ConvEnergy([28, 28, 1], [16, 32, 64, 64], 64)
    opt = torch.optim.Adam(net.parameters(), lr=2e-4, eps=1e-8)
    gen = torch.Generator().manual_seed(args.seed)

    def epoch(x):
        losses = ebm_epoch(net, opt, x, 128, LANGEVIN, 0.1, lo, hi, gen)
        return sum(losses) / len(losses)  # the mean over the epoch's batches, as genlab's history

    run(epoch, x, args, "torch nn conv EBM (bench/peers/conv_ebm.py)", count(net))


if __name__ == "__main__":
    main()
