"""PyTorch peer of genlab's dense GAN workload, the course's: G 100-256-512-1024-784 (Linear without bias ->
BatchNorm -> LeakyReLU 0.2, tanh out), D 784-1024-512-256-1 (LeakyReLU 0.2, dropout 0.3), label smoothing 0.9,
Adam 2e-4 (beta1 0.5), batch 128: bench/quality/gan.py's networks and epoch."""
import torch

from torch_common import gan_run, parse_args


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    from gan import dense_d, dense_g  # bench/quality/gan.py (on the path through torch_common)

    gan_run(args, dense_g(100, [256, 512, 1024], 784), dense_d(784, [1024, 512, 256], 0.3), False,
            "torch nn dense GAN (bench/peers/dense_gan.py)")


if __name__ == "__main__":
    main()
