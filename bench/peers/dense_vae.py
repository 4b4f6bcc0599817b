"""PyTorch peer of genlab's dense VAE workload: 784-512-512-20 (mirror decoder), ReLU, Bernoulli, Adam 1e-3,
batch 128, one thread."""
import torch
from torch import nn

from torch_common import count, load, parse_args, run, vae_epoch


class DenseVAE(nn.Module):
    def __init__(self, d=784, h=512, latent=20):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU())
        self.mu = nn.Linear(h, latent)
        self.log_var = nn.Linear(h, latent)
        self.dec = nn.Sequential(nn.Linear(latent, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, d))

    def forward(self, x, eps):
        h = self.enc(x)
        mu, log_var = self.mu(h), self.log_var(h)
        z = mu + torch.exp(0.5 * log_var) * eps  # reparameterisation
        return self.dec(z), mu, log_var


def main():
    args = parse_args()
    x = load(args.data)
    torch.manual_seed(args.seed)
    model = DenseVAE(d=x.shape[1])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    run(lambda x: vae_epoch(model, opt, x, 128, 20), x, args, "torch nn dense VAE (bench/peers/dense_vae.py)", count(model))


if __name__ == "__main__":
    main()
