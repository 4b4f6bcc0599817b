"""PyTorch peer of genlab's conv VAE workload, the Keras lecture model (latent 2): Conv 32 -> Conv 64 (3x3,
stride 2, ReLU) -> Dense 16 -> (mu, log_var); Dense 7*7*64 -> ConvT 64 -> ConvT 32 (stride 2) -> ConvT 1
logits. Bernoulli likelihood, Adam 1e-3, batch 128, one thread."""
import torch
from torch import nn

from torch_common import count, load, parse_args, run, vae_epoch


class ConvVAE(nn.Module):
    def __init__(self, latent=2):
        super().__init__()
        self.enc = nn.Sequential(
            nn.Conv2d(1, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(7 * 7 * 64, 16), nn.ReLU())
        self.mu = nn.Linear(16, latent)
        self.log_var = nn.Linear(16, latent)
        self.dec_in = nn.Sequential(nn.Linear(latent, 7 * 7 * 64), nn.ReLU())
        self.dec = nn.Sequential(
            nn.ConvTranspose2d(64, 64, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(32, 1, 3, stride=1, padding=1))

    def forward(self, x, eps):
        B = x.shape[0]
        h = self.enc(x.view(B, 1, 28, 28))
        mu, log_var = self.mu(h), self.log_var(h)
        z = mu + torch.exp(0.5 * log_var) * eps
        logits = self.dec(self.dec_in(z).view(B, 64, 7, 7)).view(B, 784)
        return logits, mu, log_var


def main():
    args = parse_args()
    x = load(args.data)
    torch.manual_seed(args.seed)
    model = ConvVAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    run(lambda x: vae_epoch(model, opt, x, 128, 2), x, args, "torch nn conv VAE (bench/peers/conv_vae.py)", count(model))


if __name__ == "__main__":
    main()
