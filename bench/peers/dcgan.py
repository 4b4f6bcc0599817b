"""PyTorch peer of genlab's DCGAN workload (GAN with architecture 'conv' and its defaults): G Linear 100 -> 7x7x128
-> BatchNorm -> LeakyReLU -> ConvTranspose 5x5 64 (stride 2) -> BatchNorm -> LeakyReLU -> ConvTranspose 5x5 1 (stride 2)
-> tanh; D Conv 5x5 64 -> Conv 5x5 128 (stride 2, LeakyReLU 0.2, dropout 0.3) -> Linear 1. Label smoothing 0.9,
Adam 2e-4 (beta1 0.5), batch 128: bench/quality/gan.py's networks and epoch."""
import torch

from torch_common import gan_run, parse_args


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    from gan import conv_d, conv_g  # bench/quality/gan.py (on the path through torch_common)

    gan_run(args, conv_g(100, 128, 64), conv_d(64, 128, 0.3), True, "torch nn DCGAN (bench/peers/dcgan.py)")


if __name__ == "__main__":
    main()
