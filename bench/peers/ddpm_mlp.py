"""PyTorch peer of genlab's DDPM MLP workload: the noise predictor concat(x_t, 64 sinusoidal features of t) -> 128
-> 128 -> 128 (SiLU) -> 784 on flat digits, T = 300, the simple loss, Adam 1e-3, batch 128: bench/quality/ddpm.py's
MLP and epoch."""
import torch

from torch_common import ddpm_run, parse_args


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    from ddpm import MLP  # bench/quality/ddpm.py (on the path through torch_common)

    ddpm_run(args, MLP(784), 1e-3, False, "torch nn DDPM MLP (bench/peers/ddpm_mlp.py)")


if __name__ == "__main__":
    main()
