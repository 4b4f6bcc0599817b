#!/usr/bin/env python3
"""PyTorch twins of genlab's pretrained-model recipes (bench/quality/pretrained.ts drives them; the recipes are
lib/pretrained/recipes/<name>.ts). Same networks, data, steps and sampling; genlab's digit judge then scores the
twin's samples, which come back through a file.

- vae-digits: the conv VAE of lib/nets/factories.ts (convEncoder / convDecoder): Conv2d(1, F1, 3, s2) -> ReLU ->
  Conv2d(F1, F2, 3, s2) -> ReLU -> Flatten -> Linear(7*7*F2, U) -> ReLU -> Linear(U, L) mean, Linear(U, L) log-variance;
  decoder Linear(L, 7*7*F2) -> ReLU -> ConvTranspose(F2, F2, 3, s2) -> ReLU -> ConvTranspose(F2, F1, 3, s2) -> ReLU
  -> ConvTranspose(F1, 1, 3, s1) logits. Glorot-uniform weights, zero biases. Loss per digit: Bernoulli cross-entropy
  summed over the 784 grey levels + closed-form KL, one reparameterised z, batch mean; Adam (eps 1e-8), a fresh
  optimiser per phase of the recipe (genlab's fit does the same when the step size changes). Samples: decoder means
  of z ~ N(0, I). 'same' padding: TensorFlow pads a stride-2 3x3 convolution of an even size by 0 before and 1 after;
  PyTorch's padding=1 pads 1 on both sides (the twin's feature maps are shifted by half a pixel, nothing else).
- gan-digits: gan.py's conv_g / conv_d (the DCGAN of lib/gan/gan.ts), its train_epoch (D then G per batch,
  non-saturating loss) and GeneratorAverage (genlab's generatorAverage); digits scaled to [-1, 1], samples from the
  averaged G in eval mode, mapped back to [0, 1].
- ddpm-digits: ddpm.py's UNet (genlab's residual U-Net, layer for layer, torch.nn's initialisers as genlab's) with
  the class embedding (K + 1 rows, N(0, 1), row K the null label, added to the time MLP's output), trained by
  ddpm.py's fit_conditional (label dropout, the simple loss, Adam per phase) on the digits mapped onto [-1, 1]; the
  parameter count is checked against genlab's before training. Samples by DDIM (eta 0, genlab's strided steps,
  predicted x0 clipped to [-1, 1]) mapped back to [0, 1]: evaluation.samples unconditional (the null label), and per
  guidance weight w perClass of each digit 0..9 in order with eps = (1 + w) eps_cond - w eps_uncond (the same noise
  for every w, as digitGuidanceTable's one seed).

Usage: pretrained.py <vae-digits|gan-digits|ddpm-digits> <dir> [<genlab's parameter count>]
  <dir>/settings.json: the recipe's settings (lib/pretrained/recipes/<name>.ts, settings(quick)), <dir>/train.f32 and
  <dir>/held.f32: genlab's loadMnist split, raw little-endian float32 [n, 784] in [0, 1]; <dir>/labels.i32: the
  training digits' labels, int32 [n].
  Writes <dir>/samples.f32 ([evaluation.samples, 784] in [0, 1]; ddpm-digits also <dir>/guided-<w>.f32 [10 perClass,
  784]) and prints JSON {torch, seconds, steps, ...}.
"""
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ddpm import UNet, ancestral_step_clipped, ddim_step, fit_conditional, guided_eps, recipe_schedule, strided_timesteps
from gan import GeneratorAverage, Reshape, conv_d, conv_g, glorot, train_epoch

torch.set_num_threads(1)


class ConvVAE(nn.Module):
    def __init__(self, filters, dense, latent):
        super().__init__()
        f1, f2 = filters
        self.encoder = nn.Sequential(
            nn.Conv2d(1, f1, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(f1, f2, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(7 * 7 * f2, dense), nn.ReLU())
        self.mean, self.log_var = nn.Linear(dense, latent), nn.Linear(dense, latent)
        self.decoder = nn.Sequential(
            nn.Linear(latent, 7 * 7 * f2), nn.ReLU(), Reshape(f2, 7, 7),
            nn.ConvTranspose2d(f2, f2, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(f2, f1, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(f1, 1, 3, stride=1, padding=1))

    def encode(self, x):
        h = self.encoder(x.reshape(-1, 1, 28, 28))
        return self.mean(h), self.log_var(h)

    def neg_elbo(self, x):
        """Per digit: -log p(x|z) (cross-entropy, one z) and KL(q(z|x) || N(0, I)), each [b]."""
        m, lv = self.encode(x)
        z = m + torch.exp(0.5 * lv) * torch.randn_like(m)
        logits = self.decoder(z).reshape(x.shape[0], -1)
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
        kl = 0.5 * (torch.exp(lv) + m * m - 1 - lv).sum(1)
        return rec, kl


def vae_digits(s, x, held):
    net = s["network"]
    torch.manual_seed(s["seed"])
    model = ConvVAE(net["convFilters"], net["convDenseUnits"], net["latentDim"])
    model.apply(glorot)
    b, steps, t0 = s["fit"]["batchSize"], 0, time.time()
    for phase in s["fit"]["phases"]:
        opt = torch.optim.Adam(model.parameters(), lr=phase["learningRate"], eps=1e-8)
        for _ in range(phase["epochs"]):
            perm = torch.randperm(x.shape[0])
            for i in range(0, x.shape[0], b):
                rec, kl = model.neg_elbo(x[perm[i:i + b]])
                loss = (rec + kl).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                steps += 1
    seconds = time.time() - t0
    e = s["evaluation"]
    with torch.no_grad():
        torch.manual_seed(e["seed"])
        elbo = -float(np.mean([sum(model.neg_elbo(held)).mean().item() for _ in range(e["elboSamples"])]))
        m, _ = model.encode(held)
        rec = F.binary_cross_entropy_with_logits(model.decoder(m).reshape(held.shape[0], -1), held, reduction="none").sum(1).mean().item()
        z = torch.randn(e["samples"], net["latentDim"], generator=torch.Generator().manual_seed(e["sampleSeed"]))
        samples = torch.sigmoid(model.decoder(z)).reshape(e["samples"], 784).numpy()
    return samples, {"seconds": seconds, "steps": steps, "heldOutElbo": elbo, "heldOutReconstruction": rec}


def gan_digits(s, x, held):
    net = s["network"]
    torch.manual_seed(s["seed"])
    G = conv_g(net["latentDim"], *net["generatorUnits"])
    D = conv_d(*net["discriminatorUnits"], dropout=net["dropout"])
    G.apply(glorot)
    D.apply(glorot)
    avg = GeneratorAverage(G, net["generatorAverage"]) if net["generatorAverage"] > 0 else None
    x = (x * 2 - 1).reshape(-1, 1, 28, 28)  # dataRange [0, 1] onto tanh's [-1, 1]
    b, t0 = s["fit"]["batchSize"], time.time()
    for phase in s["fit"]["phases"]:
        optG = torch.optim.Adam(G.parameters(), lr=phase["learningRate"], betas=(0.5, 0.999), eps=1e-8)
        optD = torch.optim.Adam(D.parameters(), lr=phase["learningRate"], betas=(0.5, 0.999), eps=1e-8)
        for _ in range(phase["epochs"]):
            G.train()
            D.train()
            train_epoch(G, D, optG, optD, x, b, net["latentDim"], net["labelSmoothing"], avg.update if avg else None)
    seconds = time.time() - t0
    steps = sum(p["epochs"] for p in s["fit"]["phases"]) * -(-x.shape[0] // b)
    e = s["evaluation"]
    sampler = avg.avg if avg else G
    sampler.eval()
    with torch.no_grad():
        z = torch.randn(e["samples"], net["latentDim"], generator=torch.Generator().manual_seed(e["sampleSeed"]))
        samples = ((sampler(z) + 1) / 2).clamp(0, 1).reshape(e["samples"], 784).numpy()
    return samples, {"seconds": seconds, "steps": steps}


@torch.no_grad()
def ddim_sample(net, s, n, seed, labels=None, w=0.0, batch=256):
    """genlab's DDPM.sample(n, { sampler: 'ddim', steps: evaluation.ddimSteps, seed[, labels, guidance] }) with eta 0
    and clipping, in blocks of `batch` rows: [n, 784] in [0, 1]."""
    _, _, abar = recipe_schedule(s)
    times = strided_timesteps(s["ddpm"]["timesteps"], s["evaluation"]["ddimSteps"])
    x = torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))
    for i, t in enumerate(times):
        prev = times[i + 1] if i + 1 < len(times) else -1
        tt = torch.full((n,), t, dtype=torch.long)
        eps = torch.cat([guided_eps(net, x[j:j + batch], tt[j:j + batch], None if labels is None else labels[j:j + batch], w, net.classes)
                         for j in range(0, n, batch)])
        x = ddim_step(x, eps, t, prev, abar)
    return ((x + 1) / 2).clamp(0, 1).reshape(n, 784).numpy()


@torch.no_grad()
def ancestral_sample(net, s, n, seed, batch=256):
    """genlab's DDPM.sample(n, { seed }): the ancestral chain over all T steps with clipping, unconditional (the null
    label), in blocks of `batch` rows: [n, 784] in [0, 1]."""
    betas, alphas, abar = recipe_schedule(s)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 28, 28, generator=g)
    for t in range(s["ddpm"]["timesteps"] - 1, -1, -1):
        tt = torch.full((n,), t, dtype=torch.long)
        eps = torch.cat([guided_eps(net, x[j:j + batch], tt[j:j + batch], None, 0.0, net.classes) for j in range(0, n, batch)])
        x = ancestral_step_clipped(x, eps, t, betas, alphas, abar)
    return ((x + 1) / 2).clamp(0, 1).reshape(n, 784).numpy()


def ddpm_digits(s, x, labels, folder, genlab_parameters=None):
    p, e = s["ddpm"], s["evaluation"]
    net_o = p["network"]
    assert p["dataShape"] == [28, 28, 1] and p["dataRange"] == [0, 1] and net_o["kind"] == "unet", "the twin is for [28, 28, 1] digits in [0, 1]"
    torch.manual_seed(s["seed"])
    net = UNet(tuple(net_o["channels"]), net_o["embedDim"], 1, net_o["groups"], p["classes"])
    parameters = sum(q.numel() for q in net.parameters())
    print(f"ddpm-digits twin: {parameters} parameters (genlab: {genlab_parameters})", file=sys.stderr)
    if genlab_parameters is not None:
        assert parameters == genlab_parameters, f"the twin's U-Net has {parameters} parameters, genlab's {genlab_parameters}"
    t0 = time.time()
    steps, loss, avg = fit_conditional(net, (x * 2 - 1).reshape(-1, 1, 28, 28), labels, s)  # [0, 1] onto [-1, 1]
    seconds = time.time() - t0
    net = avg.avg if avg else net  # genlab samples with the average when the recipe keeps one
    net.eval()
    # the unconditional figures by the recipe's sampler (ancestral, or DDIM in older recipes); guidance by DDIM
    sampler = ancestral_sample if e.get("sampler") == "ancestral" else ddim_sample
    samples = sampler(net, s, e["samples"], e["sampleSeed"])
    asked = torch.arange(10).repeat_interleave(e["perClass"])
    for w in e["guidance"]:
        ddim_sample(net, s, len(asked), e["guidanceSeed"], asked, float(w)).astype("<f4").tofile(f"{folder}/guided-{w}.f32")
    return samples, {"seconds": seconds, "steps": steps, "loss": loss, "parameters": parameters}


if __name__ == "__main__":
    name, folder = sys.argv[1], sys.argv[2]
    settings = json.load(open(f"{folder}/settings.json"))
    load = lambda f: torch.from_numpy(np.fromfile(f"{folder}/{f}", dtype="<f4").reshape(-1, 784).copy())
    if name == "ddpm-digits":
        labels = torch.from_numpy(np.fromfile(f"{folder}/labels.i32", dtype="<i4").astype(np.int64))
        expected = int(sys.argv[3]) if len(sys.argv) > 3 else None
        samples, out = ddpm_digits(settings, load("train.f32"), labels, folder, expected)
    else:
        run = {"vae-digits": vae_digits, "gan-digits": gan_digits}[name]
        samples, out = run(settings, load("train.f32"), load("held.f32"))
    samples.astype("<f4").tofile(f"{folder}/samples.f32")
    print(json.dumps({"torch": torch.__version__, **out}))
