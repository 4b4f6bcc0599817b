"""PyTorch peer of genlab's DDPM U-Net workloads: genlab's residual U-Net (bench/quality/ddpm.py's UNet, layer for
layer) at 16-32-64 channels with a 64-wide step embedding (the DDPM's default, and 'ddpm-digits'' size), T = 300,
the simple loss, Adam 2e-4, batch 128. ddpm_unet_notebook.py runs it at lecture 14's size through `main`."""
import torch

from torch_common import ddpm_run, parse_args


def main(channels=(16, 32, 64), embed=64, name="ddpm_unet"):
    args = parse_args()
    torch.manual_seed(args.seed)
    from ddpm import UNet  # bench/quality/ddpm.py (on the path through torch_common)

    size = "-".join(map(str, channels))
    ddpm_run(args, UNet(channels, embed, 1, 8), 2e-4, True, f"torch nn DDPM U-Net {size} (bench/peers/{name}.py)")


if __name__ == "__main__":
    main()
